// Saturating int64 arithmetic for times and durations. A sum or product past
// the int64 range sticks at its bound instead of wrapping: a wrapped expiry
// lies in the past, so a TTL of 2^63-1 seconds once gave a token that
// answered 403 at once while its response promised 292 billion years.
// Every "now + ttl" and "seconds * 1e9" goes through these.
// Pure constexpr functions; thread-safe.
#pragma once

#include <cstdint>
#include <limits>

namespace sealbox {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

constexpr int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

constexpr int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_mul_overflow(a, b, &out)) return out;
  return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

// Seconds as nanoseconds, saturated.
constexpr int64_t SecondsToNanos(int64_t seconds) { return SaturatingMul(seconds, kNanosPerSecond); }

// A point in time (unix nanoseconds) plus a duration in seconds, saturated.
constexpr int64_t AddSeconds(int64_t unix_nanos, int64_t seconds) {
  return SaturatingAdd(unix_nanos, SecondsToNanos(seconds));
}

// The longest duration Go's time.Duration holds, in whole seconds (about 292
// years): Vault cannot parse or represent a longer one.
inline constexpr int64_t kMaxDurationSeconds = std::numeric_limits<int64_t>::max() / kNanosPerSecond;

}  // namespace sealbox
