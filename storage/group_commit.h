// GroupCommitter: makes concurrent writes durable together, one synced
// write per group.
//
// The first writer to arrive while no commit runs leads: it takes every
// queued writer (itself included), writes their ops as one atomic, synced
// write (the CommitFn), answers each with the group's status and, if others
// queued meanwhile, hands the lead to the oldest of them. A follower is
// parked and woken once per write, against twice in RocksDB's own write
// group (join the group, then its parallel memtable insert), and RocksDB
// only ever sees one writer. No thread of its own: the leader is a writer
// already running. Each caller's ops land in one write with the rest of its
// group, so a caller's batch stays atomic; an error fails the whole group.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <atomic>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "storage/storage.h"

namespace sealbox {

class GroupCommitter {
 public:
  // Writes every batch of `group`, in order, as one atomic durable write.
  using CommitFn = std::function<Status(const std::vector<const std::vector<WriteOp>*>& group)>;

  explicit GroupCommitter(CommitFn commit) : commit_(std::move(commit)) {}
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;
  // Waits until every writer already queued has its answer.
  ~GroupCommitter();

  // Returns once `ops` are durable (OK) or their group failed. Calls may
  // still be waiting when the destructor starts; none may start after.
  Status Commit(const std::vector<WriteOp>& ops);

  // Writers queued and not yet taken into a group.
  size_t queued() const;

 private:
  // A one-shot wake-up on a futex. Not std::binary_semaphore: libstdc++'s
  // spins with sched_yield before it sleeps, which on a busy machine was
  // the most frequent context switch of a write.
  class Parker {
   public:
    void Wait();
    void Wake();

   private:
    std::atomic<uint32_t> woken_{0};
  };
  struct Waiter {
    const std::vector<WriteOp>* ops;
    Status result = Status::Ok();
    bool lead = false;  // woken to lead the next group, not answered
    Parker parker;
  };
  Status Lead(Waiter& self, std::unique_lock<std::mutex>& l);

  const CommitFn commit_;
  mutable std::mutex mu_;
  std::condition_variable drained_;  // the destructor waits on it
  std::vector<Waiter*> queue_;       // guarded by mu_
  bool leading_ = false;             // a group is being committed; guarded by mu_
  bool stopping_ = false;            // guarded by mu_
};

}  // namespace sealbox
