// Histogram: durations in fixed buckets, sharded per thread. Observe is a
// short scan of the bounds and three relaxed atomic adds on the calling
// thread's shard (bucket, sum; min and max are a load and a rare store).
// Vault reports its timers in milliseconds; so do these.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "metrics/enabled.h"
#include "metrics/shard.h"

namespace sealbox::metrics {

// Upper bounds in milliseconds; a last, unbounded bucket (+Inf) follows.
inline constexpr std::array<double, 17> kBucketBoundsMs = {0.05, 0.1, 0.25, 0.5,  1,    2.5,  5,    10,   25,
                                                            50,   100, 250,  500,  1000, 2500, 5000, 10000};
inline constexpr size_t kBuckets = kBucketBoundsMs.size() + 1;

struct HistogramValue {
  std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative
  uint64_t count = 0;
  double sum_ms = 0;
  double min_ms = 0;  // 0 when empty
  double max_ms = 0;
};

class Histogram {
 public:
  void ObserveNanos(uint64_t ns);
  HistogramValue Value() const;

 private:
  struct alignas(kCacheLine) Shard {
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
    std::atomic<uint64_t> sum_ns{0};
    std::atomic<uint64_t> min_ns{UINT64_MAX};
    std::atomic<uint64_t> max_ns{0};
  };
  std::array<Shard, kShards> shards_;
};

// Times a scope into a histogram (nothing when recording is off or the
// histogram is null).
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram* h) : h_(Enabled() ? h : nullptr) {
    if (h_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedTimer() {
    if (h_)
      h_->ObserveNanos(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count()));
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  Histogram* h_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sealbox::metrics
