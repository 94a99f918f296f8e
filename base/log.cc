#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "base/json_util.h"

namespace sealbox::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Level> g_configured{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%fZ [%l] %v";

spdlog::logger& Logger() {
  // Logs go to stderr so stdout stays clean for the CLI and dev-mode banner.
  static auto logger = [] {
    auto l = spdlog::stderr_logger_mt("sealbox");
    l->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kTrace: return spdlog::level::trace;
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// RFC 3339 in UTC with microseconds, as the text pattern writes it.
std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  return buf;
}

std::string JsonLine(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  Json j = {{"@timestamp", Timestamp()},
            {"@level", LevelName(level)},
            {"@module", "core"},
            {"@message", std::string(msg)}};
  for (const auto& [k, v] : fields) j[std::string(k)] = std::string(v);
  return DumpJson(j);
}

std::string TextLine(std::string_view msg, std::initializer_list<Field> fields) {
  std::string line(msg);
  for (const auto& [k, v] : fields) {
    line.append(" ").append(k).append("=");
    const bool plain = !v.empty() && v.find_first_of(" \t\"=\n") == std::string_view::npos;
    line.append(plain ? std::string(v) : DumpJson(Json(std::string(v))));
  }
  return line;
}

}  // namespace

bool ParseLevel(std::string_view s, Level* out) {
  if (s == "trace") *out = Level::kTrace;
  else if (s == "debug") *out = Level::kDebug;
  else if (s == "info") *out = Level::kInfo;
  else if (s == "warn" || s == "warning") *out = Level::kWarn;
  else if (s == "err" || s == "error") *out = Level::kError;
  else return false;
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

bool ParseFormat(std::string_view s, Format* out) {
  if (s.empty() || s == "standard") *out = Format::kText;
  else if (s == "json") *out = Format::kJson;
  else return false;
  return true;
}

void SetFormat(Format format) {
  g_format.store(format);
  if (format == Format::kJson) Logger().set_pattern("%v");
  else Logger().set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
}

void SetLevel(Level level) { g_level.store(level); }
void SetConfiguredLevel(Level level) {
  g_configured.store(level);
  g_level.store(level);
}
Level ConfiguredLevel() { return g_configured.load(); }
Level GetLevel() { return g_level.load(); }
bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void WriteFields(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  const bool json = g_format.load(std::memory_order_relaxed) == Format::kJson;
  Logger().log(ToSpd(level), "{}", json ? JsonLine(level, msg, fields) : TextLine(msg, fields));
}

}  // namespace sealbox::log
