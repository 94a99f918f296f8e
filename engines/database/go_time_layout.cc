#include "engines/database/go_time_layout.h"

#include <cstdio>
#include <ctime>

namespace sealbox::engines::database {

std::string FormatGoLayout(int64_t unix_nanos, std::string_view layout) {
  const int64_t secs = unix_nanos >= 0 ? unix_nanos / 1000000000 : (unix_nanos - 999999999) / 1000000000;
  const int64_t frac = unix_nanos - secs * 1000000000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  static const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  auto pad = [](int v, int width, char fill = '0') {
    std::string s = std::to_string(v);
    while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
    return s;
  };
  const int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  std::string out;
  size_t i = 0;
  auto at = [&](std::string_view s) { return layout.substr(i, s.size()) == s; };
  while (i < layout.size()) {
    // Longest tokens first, in the order Go's nextStdChunk tries them.
    if (at("January")) { out += kMonths[tm.tm_mon]; i += 7; continue; }
    if (at("Jan")) { out += std::string(kMonths[tm.tm_mon]).substr(0, 3); i += 3; continue; }
    if (at("Monday")) { out += kDays[tm.tm_wday]; i += 6; continue; }
    if (at("Mon")) { out += std::string(kDays[tm.tm_wday]).substr(0, 3); i += 3; continue; }
    if (at("MST")) { out += "UTC"; i += 3; continue; }
    if (at("2006")) { out += pad(tm.tm_year + 1900, 4); i += 4; continue; }
    if (at("002")) { out += pad(tm.tm_yday + 1, 3); i += 3; continue; }
    if (at("__2")) { out += pad(tm.tm_yday + 1, 3, ' '); i += 3; continue; }
    if (at("01")) { out += pad(tm.tm_mon + 1, 2); i += 2; continue; }
    if (at("02")) { out += pad(tm.tm_mday, 2); i += 2; continue; }
    if (at("_2")) { out += pad(tm.tm_mday, 2, ' '); i += 2; continue; }
    if (at("03")) { out += pad(hour12, 2); i += 2; continue; }
    if (at("04")) { out += pad(tm.tm_min, 2); i += 2; continue; }
    if (at("05")) { out += pad(tm.tm_sec, 2); i += 2; continue; }
    if (at("06")) { out += pad(tm.tm_year % 100, 2); i += 2; continue; }
    if (at("15")) { out += pad(tm.tm_hour, 2); i += 2; continue; }
    if (at("PM")) { out += tm.tm_hour >= 12 ? "PM" : "AM"; i += 2; continue; }
    if (at("pm")) { out += tm.tm_hour >= 12 ? "pm" : "am"; i += 2; continue; }
    // Zones: always UTC here.
    if (at("Z07:00:00") || at("Z070000")) { out += "Z"; i += at("Z07:00:00") ? 9 : 7; continue; }
    if (at("Z07:00") || at("Z0700")) { out += "Z"; i += at("Z07:00") ? 6 : 5; continue; }
    if (at("Z07")) { out += "Z"; i += 3; continue; }
    if (at("-07:00:00")) { out += "+00:00:00"; i += 9; continue; }
    if (at("-070000")) { out += "+000000"; i += 7; continue; }
    if (at("-07:00")) { out += "+00:00"; i += 6; continue; }
    if (at("-0700")) { out += "+0000"; i += 5; continue; }
    if (at("-07")) { out += "+00"; i += 3; continue; }
    // Fractional seconds: .000 (fixed) or .999 (trailing zeros dropped).
    if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char d = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == d) ++j;
      if (j >= layout.size() || !std::isdigit(static_cast<unsigned char>(layout[j]))) {
        size_t n = std::min<size_t>(j - i - 1, 9);
        std::string digits = pad(static_cast<int>(frac), 9).substr(0, n);
        if (d == '9') {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (!digits.empty()) out += layout[i] + digits;
        } else {
          out += layout[i] + digits;
        }
        i = j;
        continue;
      }
    }
    const char c = layout[i];
    if (c == '1') { out += std::to_string(tm.tm_mon + 1); ++i; continue; }
    if (c == '2') { out += std::to_string(tm.tm_mday); ++i; continue; }
    if (c == '3') { out += std::to_string(hour12); ++i; continue; }
    if (c == '4') { out += std::to_string(tm.tm_min); ++i; continue; }
    if (c == '5') { out += std::to_string(tm.tm_sec); ++i; continue; }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace sealbox::engines::database
