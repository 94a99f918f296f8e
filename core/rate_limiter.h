// RateLimiter: one token bucket per client key (the client address) for one
// rate-limit quota. `rate` tokens per `interval`, refilled continuously, at
// most `rate` in the bucket; a client that empties it with `block_interval`
// set is refused for that long.
//
// Cheap on the hot path: the buckets live in a fixed number of shards, each
// behind its own mutex, picked by the key's hash: no lock is shared by all
// clients. Memory is bounded: a shard holds at most kMaxPerShard buckets; a
// full shard first drops its idle buckets (full again, not blocked), then,
// if still mostly full, its least recently seen quarter (those clients start
// again with a full bucket; a blocked one stays).
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sealbox::core {

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;        // the quota's rate
  int64_t remaining = 0;    // whole tokens left after this request
  int64_t reset_secs = 0;   // seconds until the bucket is full again
  int64_t retry_after = 0;  // refused: seconds until a request may pass (>= 1)
};

class RateLimiter {
 public:
  static constexpr size_t kShards = 32;
  static constexpr size_t kMaxPerShard = 4096;

  // REQUIRES: rate > 0, interval_ns > 0, block_ns >= 0.
  RateLimiter(double rate, int64_t interval_ns, int64_t block_ns);

  // Takes one token from `key`'s bucket at `now_ns`.
  RateDecision Take(std::string_view key, int64_t now_ns);
  // Buckets held (tests, bounded memory).
  size_t Size();

 private:
  struct Bucket {
    double tokens;
    int64_t last_ns;           // when `tokens` was computed
    int64_t blocked_until_ns;  // 0: not blocked
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // guarded by mu
  };

  void Refill(Bucket& b, int64_t now_ns) const;
  // REQUIRES: s.mu held. Makes room for one more bucket.
  void MakeRoom(Shard& s, int64_t now_ns);
  int64_t SecondsUntilFull(const Bucket& b) const;

  const double rate_;
  const int64_t interval_ns_;
  const int64_t block_ns_;
  std::array<Shard, kShards> shards_;
};

}  // namespace sealbox::core
