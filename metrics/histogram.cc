#include "metrics/histogram.h"

#include <algorithm>

namespace sealbox::metrics {
namespace {

constexpr std::array<uint64_t, kBucketBoundsMs.size()> BoundsNs() {
  std::array<uint64_t, kBucketBoundsMs.size()> ns{};
  for (size_t i = 0; i < ns.size(); ++i) ns[i] = static_cast<uint64_t>(kBucketBoundsMs[i] * 1e6);
  return ns;
}
constexpr auto kBoundsNs = BoundsNs();

}  // namespace

void Histogram::ObserveNanos(uint64_t ns) {
  size_t b = 0;
  while (b < kBoundsNs.size() && ns > kBoundsNs[b]) ++b;
  Shard& s = shards_[ThisThreadShard()];
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(ns, std::memory_order_relaxed);
  // A compare-and-swap only on a new extreme: usually one load each.
  uint64_t lo = s.min_ns.load(std::memory_order_relaxed);
  while (ns < lo && !s.min_ns.compare_exchange_weak(lo, ns, std::memory_order_relaxed)) {
  }
  uint64_t hi = s.max_ns.load(std::memory_order_relaxed);
  while (ns > hi && !s.max_ns.compare_exchange_weak(hi, ns, std::memory_order_relaxed)) {
  }
}

HistogramValue Histogram::Value() const {
  HistogramValue v;
  uint64_t sum_ns = 0, min_ns = UINT64_MAX, max_ns = 0;
  for (const Shard& s : shards_) {
    for (size_t b = 0; b < kBuckets; ++b) v.buckets[b] += s.buckets[b].load(std::memory_order_relaxed);
    sum_ns += s.sum_ns.load(std::memory_order_relaxed);
    min_ns = std::min(min_ns, s.min_ns.load(std::memory_order_relaxed));
    max_ns = std::max(max_ns, s.max_ns.load(std::memory_order_relaxed));
  }
  for (uint64_t n : v.buckets) v.count += n;
  v.sum_ms = static_cast<double>(sum_ns) / 1e6;
  if (v.count > 0) {
    v.min_ms = static_cast<double>(min_ns) / 1e6;
    v.max_ms = static_cast<double>(max_ns) / 1e6;
  }
  return v;
}

}  // namespace sealbox::metrics
