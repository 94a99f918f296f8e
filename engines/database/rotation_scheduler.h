// RotationScheduler: one thread that runs the periodic work of every database
// mount (static-role rotation, the end of a rotation_overlap) about once a
// period, instead of a thread per mount. The mounts one Factory makes share
// one scheduler; its thread starts with the first job.
// Ticks run one after another, so a mount whose database hangs delays the
// others' by at most its bounded connect and pool waits.
// Thread-safety: Add and Cancel may be called from any thread but a tick.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace sealbox::engines::database {

class RotationScheduler {
 public:
  // Runs on the scheduler's thread; `cancelled` turns true when the job is
  // cancelled, so a long tick can stop between items.
  using Tick = std::function<void(const std::atomic<bool>& cancelled)>;

  explicit RotationScheduler(std::chrono::milliseconds period = std::chrono::seconds(1)) : period_(period) {}
  ~RotationScheduler();  // stops the thread after the tick in progress
  RotationScheduler(const RotationScheduler&) = delete;
  RotationScheduler& operator=(const RotationScheduler&) = delete;

  // Runs `tick` every period from now on; returns the job's id.
  uint64_t Add(Tick tick);
  // Stops job `id`: returns once a tick of it in progress has returned; it
  // never runs again. An unknown id is a no-op.
  void Cancel(uint64_t id);

 private:
  struct Job {
    Tick tick;
    std::atomic<bool> cancelled{false};
  };
  void Loop();
  void RunRound(std::unique_lock<std::mutex>& l);

  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::shared_ptr<Job>> jobs_;  // guarded by mu_
  uint64_t next_id_ = 1;                           // guarded by mu_
  uint64_t running_ = 0;                           // the job ticking now, 0: none; guarded by mu_
  bool stopping_ = false;                          // guarded by mu_
  std::thread thread_;                             // started by the first Add
};

}  // namespace sealbox::engines::database
