// Scheduled snapshots (Vault Enterprise's sys/storage/raft/snapshot-auto,
// docs/operations.md): named configurations, stored under the barrier, each
// with an interval, a local directory and a retention count; one background
// thread takes a snapshot for each configuration that is due, writes it
// (storage/snapshot_directory.h) and records how it went.
//
// The thread runs on the active node only: Core starts it in Activate and
// stops it in PreSeal, before anything a snapshot reads is torn down, so a
// snapshot never needs the core's state lock. Status lives in memory (as
// Vault's) and starts afresh at each activation.
//
// Thread-safety: every method may be called concurrently, except Start/Stop,
// which Core calls from one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/status.h"
#include "storage/storage.h"

namespace sealbox::core {

struct AutoSnapshotConfig {
  std::string name;
  int64_t interval_s = 0;
  int retain = 1;
  std::string path_prefix;
  std::string file_prefix = "vault-snapshot";
  std::string storage_type = "local";
  uint64_t local_max_space = 0;  // 0: unlimited

  // Vault's read shape (also what is stored).
  Json ToJson() const;
  static Result<AutoSnapshotConfig> FromJson(const std::string& name, const Json& j);
  // Everything a write must satisfy; the messages say which field is wrong.
  Status Validate() const;
};

struct AutoSnapshotStatus {
  int64_t consecutive_errors = 0;
  int64_t last_start_ns = 0, last_end_ns = 0;  // 0: never
  std::string last_error, last_url;
  int64_t next_start_ns = 0;
  int64_t current_start_ns = 0;  // a snapshot in progress; 0: none
  std::string current_url;

  Json ToJson() const;  // Vault's shape: RFC 3339 times, Go's zero time for none
};

class SnapshotScheduler {
 public:
  // Takes one snapshot archive; gives up (any error) once `cancel` is true.
  using TakeFn = std::function<Result<std::string>(const std::atomic<bool>& cancel)>;

  SnapshotScheduler(Storage* view, const Clock* clock, TakeFn take);
  ~SnapshotScheduler() { Stop(); }

  // Reads the stored configurations and starts the thread (activation).
  Status Start();
  // Stops the thread (cancelling a snapshot in progress) and forgets the
  // configurations and their status (before seal or standby).
  void Stop();

  Status Write(AutoSnapshotConfig config);
  Status Delete(const std::string& name);
  std::optional<AutoSnapshotConfig> Read(const std::string& name);
  std::vector<std::string> List();
  std::optional<AutoSnapshotStatus> GetStatus(const std::string& name);

  // Takes the snapshots due at `now_ns`; returns when the next one is due
  // (0: none configured). The thread's step, exposed for tests.
  int64_t RunDue(int64_t now_ns);

 private:
  struct Entry {
    AutoSnapshotConfig config;
    AutoSnapshotStatus status;
  };
  void Run();
  // One configuration's snapshot, start to finish, with its status.
  void TakeOne(const std::string& name, const AutoSnapshotConfig& config, int64_t start_ns);

  Storage* view_;
  const Clock* clock_;
  TakeFn take_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
  bool changed_ = false;                  // guarded by mu_: wake the thread to reschedule
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sealbox::core
