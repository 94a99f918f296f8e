#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace sealbox {

int64_t SystemClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

std::string GoDurationString(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  uint64_t s;
  if (seconds < 0) {
    out = "-";
    s = static_cast<uint64_t>(-(seconds + 1)) + 1;
  } else {
    s = static_cast<uint64_t>(seconds);
  }
  uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  return out;
}

std::string FormatRfc3339(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatRfc3339Nano(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t frac = unix_nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::string s = FormatRfc3339(secs);
  if (frac == 0) return s;
  char f[16];
  std::snprintf(f, sizeof f, ".%09lld", static_cast<long long>(frac));
  std::string fs = f;
  while (fs.back() == '0') fs.pop_back();
  s.insert(s.size() - 1, fs);
  return s;
}

}  // namespace sealbox
