#include "base/clock.h"

#include <chrono>
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
    out.push_back('-');
    s = static_cast<uint64_t>(-(seconds + 1)) + 1;
  } else {
    s = static_cast<uint64_t>(seconds);
  }
  const uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  auto unit = [&out](uint64_t v, char u) {
    out.append(std::to_string(v));
    out.push_back(u);
  };
  if (h) unit(h, 'h');
  if (h || m) unit(m, 'm');
  unit(sec, 's');
  return out;
}

namespace {

// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
// days_from_civil inverse): no gmtime_r, whose time zone lock and strftime
// cost showed up once per audit entry.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

char* Digits(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  return p + width;
}

// "YYYY-MM-DDTHH:MM:SS" (no zone) into p; returns the end, or null for a
// year beyond 0000-9999.
char* AppendDateTime(char* p, int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400, rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  if (y < 0 || y > 9999) return nullptr;  // beyond RFC 3339's four digits
  p = Digits(p, static_cast<uint64_t>(y), 4);
  *p++ = '-';
  p = Digits(p, m, 2);
  *p++ = '-';
  p = Digits(p, d, 2);
  *p++ = 'T';
  p = Digits(p, static_cast<uint64_t>(rem / 3600), 2);
  *p++ = ':';
  p = Digits(p, static_cast<uint64_t>(rem / 60 % 60), 2);
  *p++ = ':';
  return Digits(p, static_cast<uint64_t>(rem % 60), 2);
}

// Years RFC 3339 cannot write, as strftime writes them.
char* AppendDateTimeSlow(char* p, size_t size, int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return p + std::strftime(p, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

}  // namespace

std::string FormatRfc3339(int64_t unix_seconds) {
  char buf[64];
  char* p = AppendDateTime(buf, unix_seconds);
  if (!p) p = AppendDateTimeSlow(buf, sizeof buf - 1, unix_seconds);
  *p++ = 'Z';
  return std::string(buf, static_cast<size_t>(p - buf));
}

// Go's RFC3339Nano: the fraction without trailing zeros, none when zero.
std::string FormatRfc3339Nano(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t frac = unix_nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  char buf[80];
  char* p = AppendDateTime(buf, secs);
  if (!p) p = AppendDateTimeSlow(buf, sizeof buf - 12, secs);
  if (frac != 0) {
    *p++ = '.';
    char* end = Digits(p, static_cast<uint64_t>(frac), 9);
    while (end[-1] == '0') --end;
    p = end;
  }
  *p++ = 'Z';
  return std::string(buf, static_cast<size_t>(p - buf));
}

}  // namespace sealbox
