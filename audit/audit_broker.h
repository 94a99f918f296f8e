// AuditBroker: every routed request and response, recorded by every enabled
// audit device as one JSON line with secrets HMAC'd (contract §6).
//
// Fail closed: with at least one device enabled, an entry that no device
// could record is an error; the core then refuses the request (request
// entry) or withholds the response (response entry). One failing device does
// not block another that works.
//
// Tamper evidence (beyond Vault): each line carries "chain", the hex
// HMAC-SHA256 under a per-device key of the previous line's chain value and
// this line without the field (audit/hash_chain.h); `sealbox audit verify`
// recomputes it. A file reopened after rotation starts from the last chain
// value, so verifying the rotated files in order still links them.
//
// The broker holds the device registry (persisted in the barrier), fans each
// entry out to the devices and applies the fail-closed rule. The rest has
// files of its own: the entry's text (entry_format.h), a device and its
// chain (device.h, hash_chain.h), the group commit of file writes
// (group_writer.h), the sinks (file_sink.h, socket_sink.h), the filter
// (audit_filter.h) and the rules for opening a file (audit_file.h).
//
// Thread-safety: all methods may be called concurrently. Entries are
// written as text and hashed outside any lock (audit/entry_format.h); each
// device serialises only the chain step and its file writes.
//
// Suspending instead of blocking: Log() returns an awaitable. Given a
// Resumer, a request whose entry waits for a group write to a local file
// suspends and is resumed when the write is done, so the server's I/O
// threads serve audited reads themselves, and the write of a batch is
// posted behind the requests already queued there, which join the batch.
// Devices that may block the writing thread (fsync, a socket, stdout, a FIFO
// or network filesystem) are written in the blocking way, by the worker pool.
#pragma once

#include <atomic>
#include <coroutine>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "audit/audit_file.h"
#include "audit/entry_format.h"
#include "audit/hash_chain.h"  // VerifyFile
#include "base/json_util.h"
#include "base/status.h"
#include "base/task.h"
#include "logical/request.h"

namespace sealbox {
class Storage;
}

namespace sealbox::audit {

class AuditBroker;
class Device;

// Which entries one Log() call writes. A refusal (a request refused before
// it reaches its backend) writes its request and response entries together.
enum class EntryKind { kRequest, kResponse, kRefusal };

// The awaitable Log() returns: `Status s = co_await broker.Log(...)`. The
// entries go to the devices when it is awaited; the status is an error when
// no device recorded them (fail closed). Without a Resumer it never suspends.
class AuditWrite {
 public:
  AuditWrite(const AuditWrite&) = delete;
  AuditWrite& operator=(const AuditWrite&) = delete;

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  Status await_resume() const;

  // Called once per device (named by its path) with the outcome of its
  // write, on any thread.
  void Complete(const std::string& device_path, const Status& s);

 private:
  friend class AuditBroker;
  AuditWrite(const AuditBroker& broker, EntryKind kind, const logical::Request& req, const MountInfo& mount,
             const logical::Response* resp, const std::string& error, Resumer* resumer)
      : broker_(broker), kind_(kind), req_(req), mount_(mount), resp_(resp), error_(error), resumer_(resumer) {}

  const AuditBroker& broker_;
  EntryKind kind_;
  const logical::Request& req_;
  const MountInfo& mount_;
  const logical::Response* resp_;
  const std::string& error_;
  Resumer* resumer_;
  std::shared_ptr<const std::vector<std::shared_ptr<Device>>> devices_;  // kept alive until resumed; null if none
  std::atomic<size_t> remaining_{0};  // devices not done, plus one held by the awaiter until it suspends
  std::atomic<size_t> recorded_{0};
  std::coroutine_handle<> handle_;
};

struct DeviceConfig {
  std::string path;  // "file/"
  std::string type;  // "file" | "socket"
  std::string description;
  Json options = Json::object();  // string values
  bool local = false;
};

class AuditBroker {
 public:
  AuditBroker();
  ~AuditBroker();

  // What the server configuration allows file devices (prefix, directories).
  // REQUIRES: called before Setup, at start.
  void SetFileDeviceLimits(FileDeviceLimits limits) { limits_ = std::move(limits); }

  // Loads and opens the devices persisted in `view` (the barrier under
  // "core/audit-devices/"). REQUIRES: barrier unsealed.
  Status Setup(Storage* view);
  // Closes every device (on seal) and drops keys from memory.
  void Teardown();

  // Enables a device after checking it can write; persists it.
  Status Enable(DeviceConfig cfg);
  // Disables and forgets a device; missing is OK.
  Status Disable(const std::string& path);
  // sys/audit listing data.
  Json List() const;
  bool Empty() const;
  // sys/audit-hash: the HMAC of `input` under that device's salt.
  Result<std::string> Hash(const std::string& path, const std::string& input) const;
  // The device's chain key (hex), for offline `audit verify`.
  Result<std::string> ChainKey(const std::string& path) const;
  // True if some device may block the thread that writes to it (fsync, a
  // socket, stdout, a FIFO or network filesystem, or a file not opened yet):
  // requests then run where blocking is allowed, on the worker pool.
  bool AnyBlocking() const;
  // Each device's path and the lines it has chained since it opened
  // (sys/metrics: sealbox.audit.chain_position).
  std::vector<std::pair<std::string, uint64_t>> ChainPositions() const;

  // Records an entry (or both of a refusal) on every device. error: "" for
  // success, else the error the client gets. The arguments must outlive the
  // co_await.
  AuditWrite Log(EntryKind kind, const logical::Request& req, const MountInfo& mount,
                 const logical::Response* resp, const std::string& error, Resumer* resumer) const {
    return AuditWrite(*this, kind, req, mount, resp, error, resumer);
  }
  // Blocking forms.
  Status LogRequest(const logical::Request& req, const MountInfo& mount, const std::string& error);
  Status LogResponse(const logical::Request& req, const MountInfo& mount, const logical::Response* resp,
                     const std::string& error);

  // SIGHUP: reopen every file device.
  void Reopen();

 private:
  friend class AuditWrite;
  using DeviceList = std::vector<std::shared_ptr<Device>>;
  // The enabled devices, or null: one reference per audited entry instead
  // of a copy of the list.
  std::shared_ptr<const DeviceList> Devices() const;
  // Rebuilds active_ from devices_ when it goes out of scope.
  struct Republish {
    AuditBroker* broker;  // its mu_ held exclusively
    ~Republish();
  };
  Status Persist();  // REQUIRES: mu_ held exclusively

  FileDeviceLimits limits_;
  Storage* view_ = nullptr;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Device>> devices_;  // guarded by mu_
  std::shared_ptr<const DeviceList> active_;                // devices_ as a list; guarded by mu_
};

}  // namespace sealbox::audit
