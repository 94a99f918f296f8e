// Counter: a monotonically increasing count, sharded per thread. Add is one
// relaxed atomic add on the calling thread's cache line; Value sums the
// shards (scrape time).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "metrics/enabled.h"
#include "metrics/shard.h"

namespace sealbox::metrics {

class Counter {
 public:
  void Add(uint64_t n = 1) {
    if (!Enabled()) return;
    cells_[ThisThreadShard()].v.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Value() const {
    uint64_t sum = 0;
    for (const auto& c : cells_) sum += c.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(kCacheLine) Cell {
    std::atomic<uint64_t> v{0};
  };
  std::array<Cell, kShards> cells_;
};

}  // namespace sealbox::metrics
