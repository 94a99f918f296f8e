#include "audit/group_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <system_error>
#include <thread>

#include "audit/audit_broker.h"

namespace sealbox::audit {

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

GroupWriter::GroupWriter(const std::string& device_path, Sink& sink, bool fsync,
                         std::chrono::milliseconds write_timeout, std::function<void()> close_device)
    : device_path_(device_path),
      sink_(sink),
      fsync_(fsync),
      write_timeout_(write_timeout),
      close_device_(std::move(close_device)) {}

GroupWriter::~GroupWriter() = default;

Status GroupWriter::Usable() {
  Settle();
  if (writing_ && std::chrono::steady_clock::now() - write_started_ > write_timeout_)
    return IOError("audit device is stalled");
  return Status::Ok();
}

Status GroupWriter::Write(std::unique_lock<std::mutex>& l, std::string_view line) {
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
      WriteRounds(l);
      continue;
    }
    if (!Wait(l, deadline, [&] { return mine->done.load(std::memory_order_acquire) || !writing_; }))
      return IOError("audit write timed out");
  }
  return mine->status;
}

bool GroupWriter::Join(AuditWrite* w, Resumer* resumer) {
  if (!open_batch_) open_batch_ = std::make_shared<Batch>();
  open_batch_->waiters.push_back({w, resumer});
  if (flush_scheduled_) return false;
  flush_scheduled_ = true;
  return true;
}

bool GroupWriter::Flush(std::unique_lock<std::mutex>& l) {
  flush_scheduled_ = false;
  Settle();
  if (writing_) return false;
  WriteRounds(l);
  return true;
}

Resumer* GroupWriter::TakeHandOff() {
  if (writing_ || flush_scheduled_ || !open_batch_ || open_batch_->waiters.empty()) return nullptr;
  flush_scheduled_ = true;
  return open_batch_->waiters.front().resumer;
}

bool GroupWriter::Drain(std::unique_lock<std::mutex>& l, std::chrono::steady_clock::time_point deadline) {
  Settle();
  // Never close under a write in progress; a stalled one keeps its file.
  if (!Wait(l, deadline, [&] { return !writing_; })) return false;
  if (!pending_.empty()) WriteBatch(l);  // lines of timed-out requests belong to the old file
  return true;
}

void GroupWriter::WriteRounds(std::unique_lock<std::mutex>& l) {
  for (int round = 0; round < kLeaderRounds && !writing_ && !pending_.empty(); ++round) WriteBatch(l);
}

// Writes what is queued, without the lock held during the write itself.
void GroupWriter::WriteBatch(std::unique_lock<std::mutex>& l) {
  std::string data;
  data.swap(pending_);
  pending_.swap(spare_);  // the last batch's buffer: no allocation per batch
  std::shared_ptr<Batch> batch = std::move(open_batch_);
  open_batch_.reset();
  const int target = sink_.BatchFd();
  const bool may_stall = target >= 0 && sink_.MayStall();
  writing_ = true;
  write_started_ = std::chrono::steady_clock::now();
  l.unlock();
  std::shared_ptr<DetachedWrite> detached;
  Status s = WriteOut(target, may_stall, data, detached);
  // Taken from open_batch_, the batch is this writer's alone: its
  // requests are completed before the lock is retaken, so that their
  // resumptions are not posted while the other I/O thread waits for it.
  if (batch) Finish(*batch, s);
  l.lock();
  if (detached) {
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
  // Lines queued meanwhile were chained onto the lost ones: fail them too,
  // and reopen (re-reading the chain from the file) next time.
  if (!s.ok()) Fail(s);
  if (sleepers_ > 0) cv_.notify_all();
}

Status GroupWriter::WriteOut(int fd, bool may_stall, std::string& data, std::shared_ptr<DetachedWrite>& detached) {
  if (fd < 0) return IOError("audit file is closed");
  if (!may_stall) return WriteFully(fd, data, fsync_);
  auto w = DetachedWrite::Start(fd, std::move(data), fsync_);
  auto r = w->Await(write_started_ + write_timeout_);
  if (!w->done.load(std::memory_order_acquire)) detached = std::move(w);
  return r ? *r : IOError("audit write timed out");
}

// A detached write that outlived its request: once it has returned, the
// device takes up where it left off (or reopens, if it failed).
void GroupWriter::Settle() {
  if (!stuck_ || !stuck_->done.load(std::memory_order_acquire)) return;
  const bool ok = stuck_->status.ok();
  stuck_.reset();
  writing_ = false;
  if (!ok) Fail(IOError("audit write failed"));
}

// REQUIRES: the lock held, or `b` taken out of open_batch_ by this thread.
void GroupWriter::Finish(Batch& b, const Status& s) {
  b.status = s;
  b.done.store(true, std::memory_order_release);
  for (const Waiter& w : b.waiters) w.write->Complete(device_path_, s);
  b.waiters.clear();
}

void GroupWriter::Fail(const Status& s) {
  if (open_batch_) Finish(*open_batch_, s);
  open_batch_.reset();
  pending_.clear();
  close_device_();
}

}  // namespace sealbox::audit
