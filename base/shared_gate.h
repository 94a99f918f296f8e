// SharedGate: a reader/writer lock whose shared holds may be released on
// another thread than the one that took them. A request holds the core's
// state shared while it runs and may suspend on an audit write; the server's
// resumer brings it back on its own connection's thread, but a Resumer in
// general may resume it on any thread, and std::shared_mutex forbids that
// unlock.
// Readers are preferred, as glibc's rwlock does: a request that re-enters
// the core while a seal waits cannot deadlock. Works with std::unique_lock
// and std::shared_lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace sealbox {

class SharedGate {
 public:
  void lock() {
    std::unique_lock l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [&] { return !writer_ && readers_ == 0; });
    --writers_waiting_;
    writer_ = true;
  }
  void unlock() {
    std::lock_guard l(mu_);
    writer_ = false;
    cv_.notify_all();
  }
  // lock(), unless `give_up` turns true first (then false). Whoever sets
  // give_up calls wake().
  bool lock_unless(const std::atomic<bool>& give_up) {
    std::unique_lock l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [&] { return give_up.load() || (!writer_ && readers_ == 0); });
    --writers_waiting_;
    if (writer_ || readers_ != 0) return false;
    writer_ = true;
    return true;
  }
  void wake() {
    std::lock_guard l(mu_);
    cv_.notify_all();
  }
  void lock_shared() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !writer_; });
    ++readers_;
  }
  void unlock_shared() {
    std::lock_guard l(mu_);
    if (--readers_ == 0 && writers_waiting_ > 0) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_ = false;
};

}  // namespace sealbox
