// The shard a thread writes its counts to: threads are spread over
// kShards cache lines, so concurrent requests never bounce one line between
// cores. Reads sum every shard (scrape time only).
#pragma once

#include <atomic>
#include <cstddef>

namespace sealbox::metrics {

inline constexpr size_t kShards = 8;
inline constexpr size_t kCacheLine = 64;

// Assigned round-robin on a thread's first write; constant-initialised, so
// the hot path is a thread-local load and a compare.
inline size_t ThisThreadShard() {
  thread_local size_t shard = kShards;
  if (shard == kShards) {
    static std::atomic<size_t> next{0};
    shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  }
  return shard;
}

}  // namespace sealbox::metrics
