// Group commit for one audit device's file: the lines of concurrent requests
// go out in one write(2) (and one fdatasync with fsync) instead of one each.
//
// Leader/follower: a request whose line finds no write in progress writes
// everything queued so far on its own thread, then, for a few rounds, what
// queued meanwhile. A request whose line finds a write in progress is a
// follower: its line goes out in the writer's next round. Followers first
// yield the CPU a few times, since a round takes microseconds, and only then
// sleep on the condition variable, which is notified only when someone
// sleeps: sleeping and waking every follower was most of the cost of an
// audited read. A follower waits at most write_timeout: a file on a stalled
// filesystem fails requests (fail closed) instead of hanging them all. The
// writing request waits for the filesystem, at most write_timeout too on
// files that can stall for good (Sink::MayStall), whose writes run on a
// thread of their own.
//
// Requests that suspend (AuditBroker's Resumer) do not write: their lines
// join the open batch (Join) and a flush posted on their I/O thread writes
// it and completes them; a writer that stops hands the batch left behind to
// another flush (TakeHandOff).
//
// Thread-safety: every method REQUIRES the device's lock; those taking `l`
// release it while writing or waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/sink.h"
#include "base/status.h"

namespace sealbox {
class Resumer;
}

namespace sealbox::audit {

class AuditWrite;
struct DetachedWrite;

class GroupWriter {
 public:
  static constexpr size_t kMaxPendingBytes = 64u << 20;

  // `device_path` names the device in AuditWrite::Complete; `close_device`
  // closes it (under the lock) when a write fails, so that it reopens and
  // re-reads the chain from the file.
  GroupWriter(const std::string& device_path, Sink& sink, bool fsync, std::chrono::milliseconds write_timeout,
              std::function<void()> close_device);
  ~GroupWriter();

  // Settles a detached write that returned; an error while a write has been
  // stuck past write_timeout (the device is stalled: requests move on to
  // the other devices at once instead of each waiting out the timeout).
  Status Usable();
  // True when `bytes` more may be queued.
  bool Admits(size_t bytes) const { return pending_.size() + bytes <= kMaxPendingBytes; }

  // Queues `line` (already chained) and returns once it is written, as the
  // leader or a follower, or at write_timeout.
  Status Write(std::unique_lock<std::mutex>& l, std::string_view line);

  // The lines queued for the next write: a suspending request appends its
  // chained lines here, then joins the open batch.
  std::string& queue() { return pending_; }
  // `w` is completed when the open batch is written. True when the caller
  // must post a flush (Flush) on `resumer`.
  bool Join(AuditWrite* w, Resumer* resumer);
  // A posted flush: writes what is queued unless a write is in progress,
  // whose writer then hands the batch on. False in that case.
  bool Flush(std::unique_lock<std::mutex>& l);
  // A writer stopped: the Resumer to post a flush on for the requests left
  // in the open batch, or null.
  Resumer* TakeHandOff();

  // Waits (until `deadline`) for the write in progress, then writes what is
  // queued: before the file is closed and reopened. False if still writing.
  bool Drain(std::unique_lock<std::mutex>& l, std::chrono::steady_clock::time_point deadline);

 private:
  struct Waiter {
    AuditWrite* write;
    Resumer* resumer;
  };
  struct Batch {
    std::atomic<bool> done{false};
    Status status;                // set before done
    std::vector<Waiter> waiters;  // suspended requests; guarded by the lock
  };
  static constexpr int kLeaderRounds = 3;  // bounds how long a leader writes for others
  static constexpr int kFollowerYields = 64;
  static constexpr size_t kMaxSpareBytes = 1u << 20;

  void WriteRounds(std::unique_lock<std::mutex>& l);
  void WriteBatch(std::unique_lock<std::mutex>& l);
  // Writes `data` to `fd`, on a thread of its own if the file may stall.
  // Sets `detached` to that write when it is still running.
  Status WriteOut(int fd, bool may_stall, std::string& data, std::shared_ptr<DetachedWrite>& detached);
  void Settle();
  void Finish(Batch& b, const Status& s);
  // The queued lines (and their batch) are lost: fail them, close the device.
  void Fail(const Status& s);
  // cv_.wait_until, counted so that writers notify only when someone sleeps.
  template <typename Pred>
  bool Wait(std::unique_lock<std::mutex>& l, std::chrono::steady_clock::time_point deadline, Pred pred) {
    ++sleepers_;
    bool ok = cv_.wait_until(l, deadline, pred);
    --sleepers_;
    return ok;
  }

  const std::string& device_path_;
  Sink& sink_;
  const bool fsync_;
  const std::chrono::milliseconds write_timeout_;
  const std::function<void()> close_device_;

  std::condition_variable cv_;            // batches and their writer
  int sleepers_ = 0;                      // waiting on cv_
  std::string pending_;                   // queued lines, chained
  std::string spare_;                     // an empty buffer for the next batch
  std::shared_ptr<Batch> open_batch_;     // the batch pending_ belongs to
  bool writing_ = false;
  std::chrono::steady_clock::time_point write_started_;  // of the write in progress
  std::shared_ptr<DetachedWrite> stuck_;  // a timed-out detached write still running
  bool flush_scheduled_ = false;          // a Flush is posted
};

}  // namespace sealbox::audit
