// A Resumer for tests: posted functions run when the test says so, on the
// thread that asks.
#pragma once

#include <deque>
#include <functional>

#include "base/task.h"

namespace sealbox {

class QueueResumer final : public Resumer {
 public:
  void Post(std::function<void()> fn) override { q_.push_back(std::move(fn)); }
  // Runs everything posted, including what running posts; returns how many.
  size_t RunAll() {
    size_t n = 0;
    while (!q_.empty()) {
      auto fn = std::move(q_.front());
      q_.pop_front();
      fn();
      ++n;
    }
    return n;
  }

 private:
  std::deque<std::function<void()>> q_;
};

}  // namespace sealbox
