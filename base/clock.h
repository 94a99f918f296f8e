// Clock: the seam for time, so TTL and lease code can be tested with a fake.
// SystemClock and FakeClock are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace sealbox {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch.
  virtual int64_t NowNanos() const = 0;
  int64_t NowSeconds() const { return NowNanos() / 1'000'000'000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowNanos() const override;
  static SystemClock* Default();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t nanos = 1'700'000'000'000'000'000) : now_(nanos) {}
  int64_t NowNanos() const override { return now_.load(); }
  void AdvanceSeconds(int64_t s) { now_ += s * 1'000'000'000; }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints (trailing
// zeros of the fraction trimmed).
std::string FormatRfc3339Nano(int64_t unix_nanos);
// RFC 3339 seconds precision, UTC.
std::string FormatRfc3339(int64_t unix_seconds);
// A duration in seconds as Go's time.Duration.String prints it ("1h2m3s",
// "45s", "0s"), which Vault uses in its responses.
std::string GoDurationString(int64_t seconds);

}  // namespace sealbox
