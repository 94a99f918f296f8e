// Process-wide logger (spdlog underneath, kept out of this header so fmt and
// spdlog stay in one translation unit).
//
// Security invariant: callers never pass secret values (tokens, keys, data
// values, unseal shares) to these functions. Thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sealbox::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };
// kText: "<time> [<level>] <message> key=value ..."; kJson: one JSON object
// a line, as Vault's log_format = "json" ("@timestamp", "@level",
// "@message", "@module", then the fields).
enum class Format { kText, kJson };

// Parses "trace|debug|info|warn|warning|err|error"; false if unknown.
bool ParseLevel(std::string_view s, Level* out);
void SetLevel(Level level);
Level GetLevel();
// The level the configuration asks for (at start and on SIGHUP): sets the
// level too. sys/loggers changes only the level; its DELETE goes back here.
void SetConfiguredLevel(Level level);
Level ConfiguredLevel();
std::string_view LevelName(Level level);  // "trace" ... "error"
bool Enabled(Level level);
// "standard" or "" (text) and "json"; false if unknown.
bool ParseFormat(std::string_view s, Format* out);
// Set once at start, before other threads log.
void SetFormat(Format format);

using Field = std::pair<std::string_view, std::string_view>;
void WriteFields(Level level, std::string_view msg, std::initializer_list<Field> fields);
inline void Write(Level level, std::string_view msg) { WriteFields(level, msg, {}); }
inline void Trace(std::string_view m) { Write(Level::kTrace, m); }
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace sealbox::log
