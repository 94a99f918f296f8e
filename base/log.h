// Process-wide logger (spdlog underneath, kept out of this header so fmt and
// spdlog stay in one translation unit).
//
// Security invariant: callers never pass secret values (tokens, keys, data
// values, unseal shares) to these functions. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sealbox::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// Parses "trace|debug|info|warn|warning|err|error"; false if unknown.
bool ParseLevel(std::string_view s, Level* out);
void SetLevel(Level level);
bool Enabled(Level level);

void Write(Level level, std::string_view msg);
inline void Trace(std::string_view m) { Write(Level::kTrace, m); }
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace sealbox::log
