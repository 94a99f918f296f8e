#include "storage/group_commit.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sealbox {

void GroupCommitter::Parker::Wait() {
  while (woken_.load(std::memory_order_acquire) == 0)
    syscall(SYS_futex, &woken_, FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
}

// The waiter may return, and its stack be reused, between the store and the
// wake: a wake on a reused address is at worst a spurious wake-up, which
// every futex waiter (this one's loop included) tolerates.
void GroupCommitter::Parker::Wake() {
  woken_.store(1, std::memory_order_release);
  syscall(SYS_futex, &woken_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

GroupCommitter::~GroupCommitter() {
  std::unique_lock l(mu_);
  stopping_ = true;
  drained_.wait(l, [&] { return !leading_ && queue_.empty(); });
}

Status GroupCommitter::Commit(const std::vector<WriteOp>& ops) {
  Waiter self{&ops};
  std::unique_lock l(mu_);
  if (stopping_) return IOError("storage closed");
  queue_.push_back(&self);
  if (leading_) {
    l.unlock();
    self.parker.Wait();
    if (!self.lead) return self.result;
    l.lock();
  }
  return Lead(self, l);
}

size_t GroupCommitter::queued() const {
  std::lock_guard l(mu_);
  return queue_.size();
}

// Called with `l` held and `self` queued; returns with `l` released.
Status GroupCommitter::Lead(Waiter& self, std::unique_lock<std::mutex>& l) {
  leading_ = true;
  std::vector<Waiter*> group;
  group.swap(queue_);
  l.unlock();
  std::vector<const std::vector<WriteOp>*> batches;
  batches.reserve(group.size());
  for (const Waiter* w : group) batches.push_back(w->ops);
  const Status s = commit_(batches);

  l.lock();
  Waiter* next = queue_.empty() ? nullptr : queue_.front();
  leading_ = next != nullptr;
  if (next) next->lead = true;
  const bool drained = !leading_ && stopping_;
  if (drained) drained_.notify_all();  // under the lock: the committer may go once it is released
  l.unlock();
  // The next leader first: its sync starts while this one answers the rest.
  // A woken waiter returns and frees itself: touch none after Wake.
  if (next) next->parker.Wake();
  for (Waiter* w : group) {
    if (w == &self) continue;
    w->result = s;
    w->parker.Wake();
  }
  return s;
}

}  // namespace sealbox
