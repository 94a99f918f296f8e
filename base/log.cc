#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace sealbox::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

spdlog::logger& Logger() {
  // Logs go to stderr so stdout stays clean for the CLI and dev-mode banner.
  static auto logger = [] {
    auto l = spdlog::stderr_logger_mt("sealbox");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ [%l] %v", spdlog::pattern_time_type::utc);
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

void SetLevel(Level level) { g_level.store(level); }
bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view msg) {
  if (!Enabled(level)) return;
  Logger().log(ToSpd(level), "{}", msg);
}

}  // namespace sealbox::log
