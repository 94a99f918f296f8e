#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace sealbox::core {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

int64_t CeilSeconds(double nanos) { return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(nanos / kNanos))); }

}  // namespace

RateLimiter::RateLimiter(double rate, int64_t interval_ns, int64_t block_ns)
    : rate_(rate), interval_ns_(interval_ns), block_ns_(block_ns) {}

void RateLimiter::Refill(Bucket& b, int64_t now_ns) const {
  if (now_ns <= b.last_ns) return;
  const double earned = static_cast<double>(now_ns - b.last_ns) * rate_ / static_cast<double>(interval_ns_);
  b.tokens = std::min(rate_, b.tokens + earned);
  b.last_ns = now_ns;
}

int64_t RateLimiter::SecondsUntilFull(const Bucket& b) const {
  const double missing = rate_ - b.tokens;
  if (missing <= 0) return 0;
  return CeilSeconds(missing * static_cast<double>(interval_ns_) / rate_);
}

void RateLimiter::MakeRoom(Shard& s, int64_t now_ns) {
  if (s.buckets.size() < kMaxPerShard) return;
  for (auto it = s.buckets.begin(); it != s.buckets.end();) {
    Bucket& b = it->second;
    Refill(b, now_ns);
    const bool idle = b.tokens >= rate_ && b.blocked_until_ns <= now_ns;
    it = idle ? s.buckets.erase(it) : std::next(it);
  }
  // Still full of busy clients (a flood of addresses): drop the least
  // recently seen quarter at once, so the sweeps stay rare (amortised O(1)).
  if (s.buckets.size() < kMaxPerShard * 3 / 4) return;
  std::vector<int64_t> seen;
  seen.reserve(s.buckets.size());
  for (const auto& [key, b] : s.buckets) seen.push_back(b.last_ns);
  auto cut = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 4);
  std::nth_element(seen.begin(), cut, seen.end());
  const int64_t threshold = *cut;
  for (auto it = s.buckets.begin(); it != s.buckets.end();)
    it = it->second.last_ns <= threshold && it->second.blocked_until_ns <= now_ns ? s.buckets.erase(it) : std::next(it);
}

RateDecision RateLimiter::Take(std::string_view key, int64_t now_ns) {
  Shard& s = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard l(s.mu);
  auto it = s.buckets.find(std::string(key));
  if (it == s.buckets.end()) {
    MakeRoom(s, now_ns);
    it = s.buckets.emplace(std::string(key), Bucket{rate_, now_ns, 0}).first;
  }
  Bucket& b = it->second;
  Refill(b, now_ns);
  RateDecision d;
  d.limit = static_cast<int64_t>(rate_);
  if (b.blocked_until_ns > now_ns) {
    d.allowed = false;
    d.retry_after = CeilSeconds(static_cast<double>(b.blocked_until_ns - now_ns));
    d.reset_secs = d.retry_after;
    return d;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.remaining = static_cast<int64_t>(b.tokens);
    d.reset_secs = SecondsUntilFull(b);
    return d;
  }
  d.allowed = false;
  if (block_ns_ > 0) {
    b.blocked_until_ns = now_ns + block_ns_;
    d.retry_after = CeilSeconds(static_cast<double>(block_ns_));
  } else {
    d.retry_after = CeilSeconds((1.0 - b.tokens) * static_cast<double>(interval_ns_) / rate_);
  }
  d.reset_secs = std::max(d.retry_after, SecondsUntilFull(b));
  return d;
}

size_t RateLimiter::Size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard l(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace sealbox::core
