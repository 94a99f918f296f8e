#include "audit/audit_broker.h"

#include "audit/audit_filter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <system_error>
#include <thread>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "storage/storage.h"

namespace sealbox::audit {
namespace {

std::string Opt(const Json& options, const char* key, const std::string& def = "") {
  if (!options.is_object() || !options.contains(key)) return def;
  auto s = JsonToString(options[key]);
  return s.ok() ? *s : def;
}

bool OptBool(const Json& options, const char* key, bool def) {
  std::string v = Opt(options, key);
  if (v.empty()) return def;
  auto b = ParseBoolString(v);
  return b.value_or(def);
}

// Writes all of `data` to `fd` (and fdatasync with `sync`).
Status WriteFully(int fd, std::string_view data, bool sync) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC ? StorageFull() : IOError("audit write failed");
    }
    off += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd) != 0) return IOError("audit fsync failed");
  return Status::Ok();
}

// A write on a thread of its own, for files that can stall for good (a FIFO,
// a network filesystem): the writing request waits for it at most the
// device's write_timeout. The thread owns a duplicate of the descriptor and
// this state, so it may outlive the request and the device.
struct DetachedWrite {
  std::mutex m;
  std::condition_variable cv;
  std::atomic<bool> done{false};
  Status status;  // set before done

  static std::shared_ptr<DetachedWrite> Start(int fd, std::string data, bool sync) {
    auto w = std::make_shared<DetachedWrite>();
    int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
      w->Finish(IOError("audit write failed"));
      return w;
    }
    try {
      std::thread([w, dup_fd, data = std::move(data), sync] {
        Status s = WriteFully(dup_fd, data, sync);
        ::close(dup_fd);
        w->Finish(s);
      }).detach();
    } catch (const std::system_error&) {
      ::close(dup_fd);
      w->Finish(IOError("audit write failed"));
    }
    return w;
  }
  void Finish(Status s) {
    std::lock_guard g(m);
    status = std::move(s);
    done.store(true, std::memory_order_release);
    cv.notify_all();
  }
  // The write's status, or nullopt if it is still running at the deadline.
  std::optional<Status> Await(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock g(m);
    if (!cv.wait_until(g, deadline, [&] { return done.load(std::memory_order_acquire); })) return std::nullopt;
    return status;
  }
};

}  // namespace

// One audit device: its salt, chain key and sink.
class Device : public std::enable_shared_from_this<Device> {
 public:
  Device(DeviceConfig cfg, std::string salt, SecureBytes chain_key, FileDeviceLimits limits)
      : limits_(std::move(limits)),
        cfg_(std::move(cfg)),
        salt_(std::move(salt)),
        chain_key_(std::move(chain_key)),
        salt_key_(salt_),
        chain_hmac_(chain_key_.view()) {
    entry_options_.log_raw = OptBool(cfg_.options, "log_raw", false);
    entry_options_.hmac_accessor = OptBool(cfg_.options, "hmac_accessor", true);
    entry_options_.elide_lists = OptBool(cfg_.options, "elide_list_responses", false);
    prefix_ = Opt(cfg_.options, "prefix");
    fsync_ = OptBool(cfg_.options, "fsync", false);
    std::string filter = Opt(cfg_.options, "filter");
    if (!filter.empty()) {
      auto f = AuditFilter::Parse(filter);
      if (f.ok()) filter_ = *f;  // MakeDevice has already refused a bad one
    }
  }
  virtual ~Device() = default;

  const DeviceConfig& config() const { return cfg_; }
  const EntryOptions& entry_options() const { return entry_options_; }
  bool fsync() const { return fsync_; }
  // Null when the device records everything.
  const AuditFilter* filter() const { return filter_.get(); }
  const SecureBytes& chain_key() const { return chain_key_; }
  const crypto::HmacSha256Key& salt_key() const { return salt_key_; }

  std::string Hash(std::string_view v) const { return HashValue(salt_key_, v); }

  // Appends the chain field to an entry's text ("{...}") and writes it as one
  // line. The chain is computed under the device's lock so the chain order
  // is the file order; the text is built before it, so concurrent requests
  // serialise only on one HMAC.
  Status WriteEntry(std::string_view body) {
    std::unique_lock l(mu_);
    SB_RETURN_IF_ERROR(Ready());
    std::string line;
    const size_t chain_at = AppendChained(body, line);
    if (Batched()) return Enqueue(l, line, chain_at);
    Status s = Sink(line);
    if (!s.ok()) {
      Close();
      return s;
    }
    Chained(line, chain_at);
    return Status::Ok();
  }

  // The same for the entries of one AuditWrite, without blocking where the
  // device allows it: the lines join the open batch and `w` is completed
  // when its write is done, from a flush posted on `resumer`.
  void Submit(std::span<const std::string> bodies, AuditWrite* w, Resumer* resumer) {
    std::unique_lock l(mu_);
    Status s = Ready();
    size_t size = pending_.size();
    for (const auto& b : bodies) size += b.size() + prefix_.size() + 128;  // + chain field
    if (s.ok() && size > kMaxPendingBytes) s = IOError("audit device is not keeping up");
    if (s.ok() && Batched() && Suspends()) {
      for (const auto& b : bodies) {
        const size_t chain_at = AppendChained(b, pending_);
        Chained(pending_, chain_at);
      }
      if (!open_batch_) open_batch_ = std::make_shared<Batch>();
      open_batch_->waiters.push_back({w, resumer});
      if (!flush_scheduled_) {
        flush_scheduled_ = true;
        resumer->Post([self = shared_from_this()] { self->Flush(); });
      }
      return;
    }
    l.unlock();
    // Devices that may block (and the rare one that changed since the
    // request was dispatched) are written in the blocking way.
    for (size_t i = 0; s.ok() && i < bodies.size(); ++i) s = WriteEntry(bodies[i]);
    w->Complete(*this, s);
  }

  // True when Submit never blocks: a local file without fsync, or discard.
  bool Suspends() const { return suspends_.load(std::memory_order_relaxed); }

  void Reopen() {
    std::unique_lock l(mu_);
    Settle();
    // Never close under a write in progress; a stalled one keeps its file.
    if (!Wait(l, std::chrono::steady_clock::now() + std::chrono::seconds(5), [&] { return !writing_; })) {
      log::Warn("audit: device " + cfg_.path + " is still writing; not reopened");
      return;
    }
    if (!pending_.empty()) WriteBatch(l);  // lines of timed-out requests belong to the old file
    Close();
    Open().IgnoreError();
  }

  virtual Status Open() = 0;   // REQUIRES: mu_ held
  virtual void Close() = 0;    // REQUIRES: mu_ held
  virtual Status Sink(const std::string& line) = 0;  // REQUIRES: mu_ held
  // True when lines go through the group writer (a real file).
  virtual bool Batched() const { return false; }  // REQUIRES: mu_ held

 protected:
  // Group write (leader/follower): a request whose line finds no write in
  // progress writes everything queued so far in one write(2) (and one
  // fdatasync with `fsync`) on its own thread, then, for a few rounds, what
  // queued meanwhile. A request whose line finds a write in progress is a
  // follower: its line goes out in the writer's next round. Followers first
  // yield the CPU a few times, since a round takes microseconds, and only
  // then sleep on the condition variable, which is notified only when
  // someone sleeps: sleeping and waking every follower was most of the cost
  // of an audited read. A follower waits at most write_timeout_: a file on a
  // stalled filesystem fails requests (fail closed) instead of hanging them
  // all. The writing request waits for the filesystem, at most
  // write_timeout_ too on files that can stall for good (MayStall).
  struct Waiter {
    AuditWrite* write;
    Resumer* resumer;
  };
  struct Batch {
    std::atomic<bool> done{false};
    Status status;                // set before done
    std::vector<Waiter> waiters;  // suspended requests; guarded by mu_
  };
  static constexpr size_t kMaxPendingBytes = 64u << 20;
  static constexpr int kLeaderRounds = 3;   // bounds how long a leader writes for others
  static constexpr int kFollowerYields = 64;

  // Settles a stuck write, refuses while stalled, opens lazily.
  Status Ready() {  // REQUIRES: mu_ held
    Settle();
    // A write stuck for longer than the timeout: the device is stalled. Fail
    // at once, unchained, so that requests move on to the other devices
    // instead of each waiting out the timeout here.
    if (writing_ && std::chrono::steady_clock::now() - write_started_ > write_timeout_)
      return IOError("audit device is stalled");
    if (opened_) return Status::Ok();
    // A device persisted before the server config stopped allowing its
    // prefix fails closed (AuditBroker::Setup logs why).
    SB_RETURN_IF_ERROR(CheckAuditPrefix(prefix_, limits_));
    return Open();
  }

  // Appends the line for `body` ("{...}"), chained after prev_chain_, to
  // `out` and returns where its chain value (hex) is in `out`; Chained
  // commits it once the line is queued or written. Appending in place keeps
  // an audited request free of per-line allocations.
  size_t AppendChained(std::string_view body, std::string& out) {  // REQUIRES: mu_ held
    std::string started;
    if (starting_) {
      started = "{\"chain_start\":" + Json(prev_chain_).dump() + (body.size() > 2 ? "," : "");
      started.append(body.substr(1));
      body = started;
    }
    uint8_t mac[crypto::HmacSha256Key::kSize];
    chain_hmac_.SignParts({prev_chain_, "\n", body}, mac);
    out.append(prefix_);
    out.append(body.substr(0, body.size() - 1));  // '}': the chain is the last field
    out.append(",\"chain\":\"");
    const size_t chain_at = out.size();
    crypto::AppendHex(out, mac, sizeof mac);
    out.append("\"}\n");
    return chain_at;
  }
  void Chained(std::string_view out, size_t chain_at) {  // REQUIRES: mu_ held
    prev_chain_.assign(out.substr(chain_at, 2 * crypto::HmacSha256Key::kSize));
    starting_ = false;
  }

  // A flush posted by Submit: writes what is queued unless a write is in
  // progress, whose writer then hands the batch on (HandOff).
  void Flush() {
    std::unique_lock l(mu_);
    flush_scheduled_ = false;
    Settle();
    if (writing_) return;
    for (int round = 0; round < kLeaderRounds && !writing_ && !pending_.empty(); ++round) WriteBatch(l);
    HandOff();
  }

  // A writer stops: suspended requests left in the open batch get a flush.
  void HandOff() {  // REQUIRES: mu_ held
    if (writing_ || flush_scheduled_ || !open_batch_ || open_batch_->waiters.empty()) return;
    flush_scheduled_ = true;
    open_batch_->waiters.front().resumer->Post([self = shared_from_this()] { self->Flush(); });
  }

  // REQUIRES: mu_ held, or `b` taken out of open_batch_ by this thread.
  void Finish(Batch& b, const Status& s) {
    b.status = s;
    b.done.store(true, std::memory_order_release);
    for (const Waiter& w : b.waiters) w.write->Complete(*this, s);
    b.waiters.clear();
  }

  Status Enqueue(std::unique_lock<std::mutex>& l, std::string_view line, size_t chain_at) {
    if (pending_.size() + line.size() > kMaxPendingBytes) return IOError("audit device is not keeping up");
    Chained(line, chain_at);
    pending_ += line;
    if (!open_batch_) open_batch_ = std::make_shared<Batch>();
    std::shared_ptr<Batch> mine = open_batch_;
    const auto deadline = std::chrono::steady_clock::now() + write_timeout_;
    if (writing_) {
      l.unlock();
      for (int i = 0; i < kFollowerYields && !mine->done.load(std::memory_order_acquire); ++i)
        std::this_thread::yield();
      l.lock();
    }
    while (!mine->done.load(std::memory_order_acquire)) {
      if (!writing_) {
        for (int round = 0; round < kLeaderRounds && !writing_ && !pending_.empty(); ++round) WriteBatch(l);
        continue;
      }
      if (!Wait(l, deadline, [&] { return mine->done.load(std::memory_order_acquire) || !writing_; })) {
        HandOff();
        return IOError("audit write timed out");
      }
    }
    HandOff();
    return mine->status;
  }

  // cv_.wait_until, counted so that writers notify only when someone sleeps.
  template <typename Pred>
  bool Wait(std::unique_lock<std::mutex>& l, std::chrono::steady_clock::time_point deadline, Pred pred) {
    ++sleepers_;
    bool ok = cv_.wait_until(l, deadline, pred);
    --sleepers_;
    return ok;
  }

  // Writes what is queued, without the lock held during the write itself.
  void WriteBatch(std::unique_lock<std::mutex>& l) {
    std::string data;
    data.swap(pending_);
    pending_.swap(spare_);  // the last batch's buffer: no allocation per batch
    std::shared_ptr<Batch> batch = std::move(open_batch_);
    open_batch_.reset();
    const int target = WriteFd();
    const bool detach = target >= 0 && MayStall();
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    l.unlock();
    Status s;
    std::shared_ptr<DetachedWrite> detached;
    if (target < 0) {
      s = IOError("audit file is closed");
    } else if (detach) {
      detached = DetachedWrite::Start(target, std::move(data), fsync_);
      auto r = detached->Await(write_started_ + write_timeout_);
      s = r ? *r : IOError("audit write timed out");
    } else {
      s = WriteAll(target, data);
    }
    const bool stuck = detached && !detached->done.load(std::memory_order_acquire);
    // Taken from open_batch_, the batch is this writer's alone: its
    // requests are completed before the lock is retaken, so that their
    // resumptions are not posted while the other I/O thread waits for it.
    if (batch) Finish(*batch, s);
    l.lock();
    if (stuck) {
      // Still stuck in the filesystem: this batch failed (closed), and the
      // device stays "writing" (so it counts as stalled) until Settle sees
      // the write return. Lines queued meanwhile wait for that, or time out.
      stuck_ = std::move(detached);
      if (sleepers_ > 0) cv_.notify_all();
      return;
    }
    writing_ = false;
    if (data.capacity() <= kMaxSpareBytes) {
      data.clear();
      spare_ = std::move(data);
    }
    if (!s.ok()) {
      // Lines queued meanwhile were chained onto the lost ones: fail them
      // too, and reopen (re-reading the chain from the file) next time.
      if (open_batch_) Finish(*open_batch_, s);
      open_batch_.reset();
      pending_.clear();
      Close();
    }
    if (sleepers_ > 0) cv_.notify_all();
  }
  // A detached write that outlived its request: once it has returned, the
  // device takes up where it left off (or reopens, if it failed).
  void Settle() {  // REQUIRES: mu_ held
    if (!stuck_ || !stuck_->done.load(std::memory_order_acquire)) return;
    const bool ok = stuck_->status.ok();
    stuck_.reset();
    writing_ = false;
    if (!ok) {
      if (open_batch_) {
        Finish(*open_batch_, IOError("audit write failed"));
        open_batch_.reset();
      }
      pending_.clear();
      Close();
    }
  }
  // True when a write may block for good (a FIFO, a network filesystem): it
  // then runs on a thread of its own, bounded by write_timeout_.
  virtual bool MayStall() const { return false; }                            // REQUIRES: mu_ held
  virtual int WriteFd() const { return -1; }                                 // REQUIRES: mu_ held
  virtual Status WriteAll(int fd, const std::string& data) { return Status::Ok(); }  // no lock held

  std::condition_variable cv_;             // with mu_: batches and their writer
  int sleepers_ = 0;                       // waiting on cv_; guarded by mu_
  std::string pending_;                    // guarded by mu_
  std::string spare_;                      // an empty buffer for the next batch; guarded by mu_
  static constexpr size_t kMaxSpareBytes = 1u << 20;
  std::shared_ptr<Batch> open_batch_;      // the batch pending_ belongs to
  bool writing_ = false;                   // guarded by mu_
  std::chrono::steady_clock::time_point write_started_;  // of the write in progress; guarded by mu_
  std::shared_ptr<DetachedWrite> stuck_;   // a timed-out detached write still running; guarded by mu_
  bool flush_scheduled_ = false;           // a Flush is posted; guarded by mu_
  std::atomic<bool> suspends_{false};      // see Suspends(); set by Open and Close
  std::chrono::milliseconds write_timeout_{5000};

  const FileDeviceLimits limits_;
  DeviceConfig cfg_;
  std::string salt_;
  SecureBytes chain_key_;
  crypto::HmacSha256Key salt_key_;    // salt_ and chain_key_ absorbed once
  crypto::HmacSha256Key chain_hmac_;
  EntryOptions entry_options_;
  bool fsync_ = false;
  std::string prefix_;
  std::shared_ptr<const AuditFilter> filter_;
  std::mutex mu_;
  bool opened_ = false;        // guarded by mu_
  bool starting_ = true;       // next line is the first of this file
  std::string prev_chain_;     // guarded by mu_
};

namespace {

class FileDevice final : public Device {
 public:
  FileDevice(DeviceConfig cfg, std::string salt, SecureBytes chain_key, FileDeviceLimits limits)
      : Device(std::move(cfg), std::move(salt), std::move(chain_key), std::move(limits)) {
    auto timeout = ParseDurationSeconds(Opt(cfg_.options, "write_timeout", "5s"));
    if (timeout.ok() && *timeout > 0) write_timeout_ = std::chrono::milliseconds(*timeout * 1000);
  }
  // No request is writing here: each holds a reference while it writes. A
  // detached write still stuck owns a descriptor of its own.
  ~FileDevice() override {
    std::lock_guard l(mu_);
    Close();
  }

  bool MayStall() const override { return may_stall_; }

  bool Batched() const override { return fd_ > STDOUT_FILENO; }

  Status Open() override {
    std::string path = Opt(cfg_.options, "file_path", Opt(cfg_.options, "path"));
    if (path == "discard") {
      fd_ = -1;
      opened_ = true;
      suspends_ = true;
      return Status::Ok();
    }
    if (path == "stdout") {
      fd_ = STDOUT_FILENO;
      opened_ = true;
      return Status::Ok();
    }
    SB_ASSIGN_OR_RETURN(mode_t mode, ParseAuditFileMode(Opt(cfg_.options, "mode", "0600")));
    SB_ASSIGN_OR_RETURN(OpenedAuditFile file, OpenAuditFile(path, mode, prefix_, limits_));
    may_stall_ = FileMayStall(file.fd);
    // Continue the chain of a file we append to.
    if (file.appending && !file.last_chain.empty()) prev_chain_ = file.last_chain;
    starting_ = !file.appending;
    fd_ = file.fd;
    opened_ = true;
    suspends_ = !may_stall_ && !fsync_;
    return Status::Ok();
  }

  void Close() override {
    if (fd_ > STDOUT_FILENO) ::close(fd_);
    fd_ = -1;
    opened_ = false;
    suspends_ = false;
  }

  // discard and stdout only; files go through the group writer.
  Status Sink(const std::string& line) override {
    if (fd_ < 0) return Status::Ok();  // discard
    return WriteFully(fd_, line, false);
  }

 private:
  // FIFOs and network filesystems (NFS, SMB, FUSE, Ceph, 9p...) can block a
  // write for as long as their peer or server is away; local files cannot
  // (beyond writeback throttling), and keep the cheaper in-thread write.
  static bool FileMayStall(int fd) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return true;
    struct statfs fs;
    if (::fstatfs(fd, &fs) != 0) return false;
    switch (static_cast<uint32_t>(fs.f_type)) {
      case 0x6969:      // NFS
      case 0x517B:      // SMB
      case 0xFF534D42:  // CIFS
      case 0xFE534D42:  // SMB2
      case 0x65735546:  // FUSE
      case 0x00C36400:  // Ceph
      case 0x01021997:  // 9p
      case 0x5346414F:  // AFS
        return true;
      default:
        return false;
    }
  }

  int WriteFd() const override { return fd_; }
  Status WriteAll(int fd, const std::string& data) override { return WriteFully(fd, data, fsync_); }

  int fd_ = -1;  // guarded by mu_
  bool may_stall_ = false;  // guarded by mu_
};

class SocketDevice final : public Device {
 public:
  using Device::Device;
  ~SocketDevice() override {
    std::lock_guard l(mu_);
    Close();
  }

  Status Open() override {
    std::string address = Opt(cfg_.options, "address");
    std::string type = Opt(cfg_.options, "socket_type", "tcp");
    auto timeout = ParseDurationSeconds(Opt(cfg_.options, "write_timeout", "2s"));
    timeout_ms_ = timeout.ok() && *timeout > 0 ? static_cast<int>(*timeout * 1000) : 2000;
    int fd = -1;
    if (type == "unix") {
      fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      if (address.size() >= sizeof sa.sun_path) return InvalidArgument("socket address too long");
      std::memcpy(sa.sun_path, address.data(), address.size());
      if (fd < 0 || (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)) {
        if (fd >= 0) ::close(fd);
        return IOError("cannot connect audit socket");
      }
    } else {
      size_t colon = address.rfind(':');
      if (colon == std::string::npos) return InvalidArgument("socket address must be host:port");
      std::string host = address.substr(0, colon), port = address.substr(colon + 1);
      if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
      addrinfo hints{};
      hints.ai_socktype = type == "udp" ? SOCK_DGRAM : SOCK_STREAM;
      addrinfo* res = nullptr;
      if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return IOError("cannot resolve audit socket");
      fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
      ::freeaddrinfo(res);
      if (fd < 0 || (rc != 0 && errno != EINPROGRESS)) {
        if (fd >= 0) ::close(fd);
        return IOError("cannot connect audit socket");
      }
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms_) != 1 || (p.revents & (POLLERR | POLLHUP))) {
      ::close(fd);
      return IOError("cannot connect audit socket");
    }
    fd_ = fd;
    opened_ = true;
    starting_ = true;
    return Status::Ok();
  }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    opened_ = false;
  }

  // A peer that stops reading cannot stall the server: every write is bounded.
  Status Sink(const std::string& line) override {
    size_t off = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    while (off < line.size()) {
      ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
      if (n >= 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return IOError("audit socket write failed");
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      pollfd p{fd_, POLLOUT, 0};
      if (left <= 0 || ::poll(&p, 1, left) != 1) return IOError("audit socket write timed out");
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
  int timeout_ms_ = 2000;
};

Result<std::shared_ptr<Device>> MakeDevice(DeviceConfig cfg, std::string salt, SecureBytes key,
                                           const FileDeviceLimits& limits) {
  if (std::string filter = Opt(cfg.options, "filter"); !filter.empty())
    SB_RETURN_IF_ERROR(AuditFilter::Parse(filter).status());
  if (cfg.type == "file") {
    std::string p = Opt(cfg.options, "file_path", Opt(cfg.options, "path"));
    if (p.empty()) return InvalidArgument("file_path is required");
    if (p != "stdout" && p != "discard" && p.front() != '/') return InvalidArgument("file_path must be absolute");
    return std::shared_ptr<Device>(
        std::make_shared<FileDevice>(std::move(cfg), std::move(salt), std::move(key), limits));
  }
  if (cfg.type == "socket") {
    if (Opt(cfg.options, "address").empty()) return InvalidArgument("address is required");
    std::string t = Opt(cfg.options, "socket_type", "tcp");
    if (t != "tcp" && t != "udp" && t != "unix") return InvalidArgument("socket_type must be tcp, udp or unix");
    return std::shared_ptr<Device>(
        std::make_shared<SocketDevice>(std::move(cfg), std::move(salt), std::move(key), limits));
  }
  return InvalidArgument("unknown audit device type");
}

// What the server configuration refuses in a device's options (the file
// itself is checked when it is opened). Checked on enable; a device
// persisted before the configuration changed fails closed instead.
Status CheckLimits(const DeviceConfig& cfg, const FileDeviceLimits& limits) {
  SB_RETURN_IF_ERROR(CheckAuditPrefix(Opt(cfg.options, "prefix"), limits));
  if (cfg.type == "file") SB_RETURN_IF_ERROR(ParseAuditFileMode(Opt(cfg.options, "mode", "0600")).status());
  return Status::Ok();
}

Json ConfigToJson(const DeviceConfig& c) {
  return Json{{"path", c.path}, {"type", c.type}, {"description", c.description}, {"options", c.options},
              {"local", c.local}};
}

}  // namespace

AuditBroker::AuditBroker() = default;
AuditBroker::~AuditBroker() { Teardown(); }

Status AuditBroker::Setup(Storage* view) {
  std::unique_lock l(mu_);
  Republish republish{this};
  view_ = view;
  devices_.clear();
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("table"));
  if (!raw) return Status::Ok();
  Json table = Json::parse(*raw, nullptr, false);
  if (!table.is_array()) return Corruption("audit table malformed");
  for (const auto& e : table) {
    DeviceConfig c;
    c.path = e.value("path", "");
    c.type = e.value("type", "");
    c.description = e.value("description", "");
    c.options = e.value("options", Json::object());
    c.local = e.value("local", false);
    SB_ASSIGN_OR_RETURN(auto salt, view_->Get("salt/" + c.path));
    SB_ASSIGN_OR_RETURN(auto key, view_->Get("chain-key/" + c.path));
    if (!salt || !key) return Corruption("audit device keys missing");
    SB_ASSIGN_OR_RETURN(SecureBytes kb, crypto::HexDecode(*key));
    if (Status refused = CheckLimits(c, limits_); !refused.ok())
      log::Error("audit: device " + c.path + " is refused by this server's configuration (" + refused.message() +
                 "): requests fail until it is disabled through another device or the configuration allows it");
    auto dev = MakeDevice(c, *salt, std::move(kb), limits_);
    if (!dev.ok()) {
      log::Error("audit: cannot re-create device " + c.path + ": " + dev.status().message());
      continue;
    }
    devices_[c.path] = *dev;  // opened lazily on first write
  }
  return Status::Ok();
}

void AuditBroker::Teardown() {
  std::unique_lock l(mu_);
  Republish republish{this};
  devices_.clear();
  view_ = nullptr;
}

Status AuditBroker::Persist() {
  Json table = Json::array();
  for (const auto& [p, d] : devices_) table.push_back(ConfigToJson(d->config()));
  return view_->Put("table", table.dump());
}

Status AuditBroker::Enable(DeviceConfig cfg) {
  if (cfg.path.empty()) return InvalidArgument("missing path");
  if (cfg.path.back() != '/') cfg.path += '/';
  // Checked here, not in MakeDevice: a device persisted before this check
  // must still come back on unseal (its bad value falls back to the default).
  if (std::string t = Opt(cfg.options, "write_timeout"); !t.empty()) {
    auto secs = ParseDurationSeconds(t);
    if (!secs.ok() || *secs <= 0) return InvalidArgument("write_timeout must be a positive duration such as \"5s\"");
  }
  SB_RETURN_IF_ERROR(CheckLimits(cfg, limits_));
  std::string salt = crypto::Uuid();
  SecureBytes key = crypto::RandomBytes(32);
  std::string key_hex = crypto::HexEncode(key.view());
  SB_ASSIGN_OR_RETURN(auto dev, MakeDevice(cfg, salt, std::move(key), limits_));
  std::unique_lock l(mu_);
  Republish republish{this};
  if (!view_) return ::sealbox::Sealed();
  if (devices_.count(cfg.path)) return InvalidArgument("path already in use");
  {
    // Sanity check: the sink must accept a write before we rely on it.
    Json probe = {{"time", FormatRfc3339Nano(SystemClock::Default()->NowNanos())}, {"type", "audit-device-enabled"}};
    Status s = dev->WriteEntry(DumpJson(probe));
    if (s.code() == StatusCode::kInvalidArgument) return s;  // a refusal that says why
    if (!s.ok()) {
      std::string p = Opt(cfg.options, "file_path", Opt(cfg.options, "path", Opt(cfg.options, "address")));
      return InvalidArgument("sanity check failed; unable to open \"" + p + "\" for writing");
    }
  }
  SB_RETURN_IF_ERROR(view_->Put("salt/" + cfg.path, salt));
  SB_RETURN_IF_ERROR(view_->Put("chain-key/" + cfg.path, key_hex));
  devices_[cfg.path] = dev;
  Status s = Persist();
  if (!s.ok()) devices_.erase(cfg.path);
  return s;
}

Status AuditBroker::Disable(const std::string& path_in) {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::unique_lock l(mu_);
  Republish republish{this};
  if (!view_) return ::sealbox::Sealed();
  if (!devices_.erase(path)) return Status::Ok();
  SB_RETURN_IF_ERROR(Persist());
  SB_RETURN_IF_ERROR(view_->Delete("salt/" + path));
  return view_->Delete("chain-key/" + path);
}

Json AuditBroker::List() const {
  std::shared_lock l(mu_);
  Json out = Json::object();
  for (const auto& [p, d] : devices_) {
    const auto& c = d->config();
    out[p] = Json{{"type", c.type}, {"description", c.description}, {"options", c.options}, {"local", c.local},
                  {"path", p}};
  }
  return out;
}

bool AuditBroker::Empty() const {
  std::shared_lock l(mu_);
  return devices_.empty();
}

bool AuditBroker::AnyBlocking() const {
  std::shared_lock l(mu_);
  for (const auto& [p, d] : devices_)
    if (!d->Suspends()) return true;
  return false;
}

std::shared_ptr<const AuditBroker::DeviceList> AuditBroker::Devices() const {
  std::shared_lock l(mu_);
  return active_;
}

AuditBroker::Republish::~Republish() {
  auto list = std::make_shared<DeviceList>();
  for (const auto& [p, d] : broker->devices_) list->push_back(d);
  broker->active_ = list->empty() ? nullptr : std::move(list);
}

Result<std::string> AuditBroker::Hash(const std::string& path_in, const std::string& input) const {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::shared_lock l(mu_);
  auto it = devices_.find(path);
  if (it == devices_.end()) return InvalidArgument("unknown audit backend");
  return it->second->Hash(input);
}

Result<std::string> AuditBroker::ChainKey(const std::string& path_in) const {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::shared_lock l(mu_);
  auto it = devices_.find(path);
  if (it == devices_.end()) return InvalidArgument("unknown audit backend");
  return crypto::HexEncode(it->second->chain_key().view());
}

void AuditBroker::Reopen() {
  std::shared_lock l(mu_);
  for (auto& [p, d] : devices_) d->Reopen();
}

Status AuditBroker::LogRequest(const logical::Request& req, const MountInfo& mount, const std::string& error) {
  AuditWrite w = Log(EntryKind::kRequest, req, mount, nullptr, error, nullptr);
  w.await_ready();
  return w.await_resume();
}

Status AuditBroker::LogResponse(const logical::Request& req, const MountInfo& mount, const logical::Response* resp,
                                const std::string& error) {
  AuditWrite w = Log(EntryKind::kResponse, req, mount, resp, error, nullptr);
  w.await_ready();
  return w.await_resume();
}

// Entry buffers above this are not kept for the next request.
constexpr size_t kMaxScratchBytes = 64u << 10;

// Submits the entries to every device (the awaiter is at its final address
// by now: devices keep a pointer to it until they complete it).
bool AuditWrite::await_ready() {
  devices_ = broker_.Devices();
  if (!devices_) return true;
  remaining_.store(devices_->size() + 1, std::memory_order_relaxed);
  const std::string now = FormatRfc3339Nano(SystemClock::Default()->NowNanos());
  const std::string& full_path = req_.original_path.empty() ? req_.path : req_.original_path;
  const FilterFields fields{logical::OperationName(req_.op), full_path, req_.mount_point, req_.mount_type,
                            req_.mount_class};
  for (const auto& d : *devices_) {
    // A filtered-out entry counts as recorded; failures are never filtered.
    if (d->filter() && error_.empty() && !d->filter()->Matches(fields)) {
      Complete(*d, Status::Ok());
      continue;
    }
    // The entries' text, built in this thread's buffers: devices copy it
    // into their batch before Submit or WriteEntry returns.
    thread_local std::string scratch[2];
    size_t n = 0;
    auto add = [&](const char* type, const logical::Response* resp) {
      std::string& entry = scratch[n++];
      entry.clear();
      AppendEntry(entry, type, now, req_, mount_, resp, error_, d->entry_options(), d->salt_key());
    };
    if (kind_ != EntryKind::kResponse) add("request", nullptr);
    if (kind_ != EntryKind::kRequest) add("response", resp_);
    const std::span<const std::string> bodies(scratch, n);
    if (resumer_) {
      d->Submit(bodies, this, resumer_);
    } else {
      Status s;
      for (size_t i = 0; s.ok() && i < bodies.size(); ++i) s = d->WriteEntry(bodies[i]);
      Complete(*d, s);
    }
    for (std::string& b : scratch) {
      if (b.capacity() > kMaxScratchBytes) std::string().swap(b);  // a huge entry's buffer is not kept
    }
  }
  return remaining_.load(std::memory_order_acquire) == 1;
}

bool AuditWrite::await_suspend(std::coroutine_handle<> h) {
  handle_ = h;
  // Drops the awaiter's own count: if every device completed meanwhile,
  // carry on without suspending; else the last Complete resumes us.
  return remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1;
}

void AuditWrite::Complete(const Device& device, const Status& s) {
  if (s.ok()) {
    recorded_.fetch_add(1, std::memory_order_relaxed);
  } else {
    const char* what = kind_ == EntryKind::kRequest ? "request" : kind_ == EntryKind::kResponse ? "response" : "refusal";
    log::Error("audit: device " + device.config().path + " failed to log a " + what + " entry: " + s.message());
  }
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::coroutine_handle<> h = handle_;
    resumer_->Post([h] { h.resume(); });
  }
}

Status AuditWrite::await_resume() const {
  if (!devices_ || recorded_.load(std::memory_order_acquire) > 0) return Status::Ok();
  return Internal("no audit device could record the entry");
}

int VerifyFile(const std::string& file, const std::string& key_hex, const std::string& prefix, std::string* out) {
  auto key = crypto::HexDecode(key_hex);
  if (!key.ok() || key->empty()) {
    *out = "invalid key: expected the device's chain key in hex\n";
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    *out = "cannot read " + file + "\n";
    return 2;
  }
  std::string line, prev;
  size_t n = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (!prefix.empty()) {
      if (line.compare(0, prefix.size(), prefix) != 0) {
        *out = "line " + std::to_string(n) + ": missing prefix\n";
        return 1;
      }
      line = line.substr(prefix.size());
    }
    const std::string tag = ",\"chain\":\"";
    size_t pos = line.rfind(tag);
    if (pos == std::string::npos || line.size() != pos + tag.size() + 64 + 2) {
      *out = "line " + std::to_string(n) + ": no chain field (altered or not a Sealbox audit line)\n";
      return 1;
    }
    std::string chain = line.substr(pos + tag.size(), 64);
    std::string body = line.substr(0, pos) + "}";
    if (first) {
      Json j = Json::parse(body, nullptr, false);
      if (j.is_object() && j.contains("chain_start") && j["chain_start"].is_string()) prev = j["chain_start"];
      first = false;
    }
    std::string want = crypto::HexEncode(crypto::HmacSha256(key->view(), prev + "\n" + body));
    if (!crypto::ConstantTimeEquals(want, chain)) {
      *out = "line " + std::to_string(n) + ": chain mismatch (this line was altered, or a line before it was "
             "dropped or reordered)\n";
      return 1;
    }
    prev = chain;
  }
  *out = "OK: " + std::to_string(n) + " lines verified\n";
  return 0;
}

}  // namespace sealbox::audit
