// Reading an audit device's options: a JSON object of strings, as Vault's
// sys/audit stores them. Thread-safe: pure functions.
#pragma once

#include <string>

#include "base/json_util.h"

namespace sealbox::audit {

// The option's string value, or `def` when it is missing or not a string.
inline std::string OptionString(const Json& options, const char* key, const std::string& def = "") {
  if (!options.is_object() || !options.contains(key)) return def;
  auto s = JsonToString(options[key]);
  return s.ok() ? *s : def;
}

// The option as a boolean ("true", "1", ...), or `def` when missing or not one.
inline bool OptionBool(const Json& options, const char* key, bool def) {
  std::string v = OptionString(options, key);
  if (v.empty()) return def;
  auto b = ParseBoolString(v);
  return b.value_or(def);
}

}  // namespace sealbox::audit
