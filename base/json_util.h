// JSON helpers shared by every layer: the Json alias, bounded parsing, and the
// weak typing Vault applies to request fields ("10" is an int, "true" a bool,
// "1h" a duration).
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sealbox {

using Json = nlohmann::json;

// What one request body may hold. Every value counts, not only strings: a
// body of a million zeros once cost 300 bytes of memory per byte sent.
struct JsonLimits {
  size_t max_depth = 100;            // nesting of arrays/objects
  size_t max_strings = 1000;         // string values + object keys (OpenBao's default)
  size_t max_elements = 10000;       // every value of any type, and every key
  size_t max_string_size = 1 << 20;  // bytes of one string value (Vault's max_json_string_value_length)
  size_t max_key_size = 1024;        // bytes of one object key
};

// Parses a request body. Errors: InvalidArgument("error parsing JSON") for
// malformed input; TooLarge("JSON input exceeds allowed <what>") over a limit
// (nesting depth, number of strings, number of elements, string length, key
// length, number length). Token sizes are checked on the raw text first and
// the counts while parsing, so the first value past a limit stops the parse:
// a hostile body never grows the tree, nor the parser's buffers, beyond them.
Result<Json> ParseJsonBounded(std::string_view text, const JsonLimits& limits);

// Weakly typed field conversions (Vault's mapstructure "weak decode").
Result<int64_t> JsonToInt(const Json& v);
Result<bool> JsonToBool(const Json& v);
// Go duration ("1h30m", "45s", "768h") or integer seconds; "" -> 0. Longer
// than Go's time.Duration holds (kMaxDurationSeconds, ~292 years):
// InvalidArgument("invalid duration"), as Vault refuses them.
Result<int64_t> JsonToDurationSeconds(const Json& v);
Result<int64_t> ParseDurationSeconds(std::string_view s);
// A string list from ["a","b"] or "a,b" (trimmed, empty items dropped).
Result<std::vector<std::string>> JsonToStringList(const Json& v);
// A string from a string, number or bool.
Result<std::string> JsonToString(const Json& v);

// Parses "true/false/1/0/t/f/TRUE/True..." as Go's strconv.ParseBool.
std::optional<bool> ParseBoolString(std::string_view s);

}  // namespace sealbox

namespace sealbox {
// Serialises without throwing: invalid UTF-8 in strings is replaced (U+FFFD).
std::string DumpJson(const Json& j);
// The same text appended to `out`; AppendJsonString writes one string value
// (quoted, escaped) exactly as DumpJson would.
void AppendJson(std::string& out, const Json& j);
void AppendJsonString(std::string& out, std::string_view s);
}  // namespace sealbox
