// ParseSimpleJson: the fast path of ParseJsonBounded for the bodies clients
// send (objects, arrays, ASCII strings without escapes or control characters, integers,
// true/false/null). nlohmann's lexer copies every byte through its input
// adapter and token buffer: a 1 KiB KV write spent a fifth of its
// instructions parsing its body.
//
// It returns the Json nlohmann's DOM parser builds from the same text
// (integers unsigned unless negative; a repeated key: the last wins), or
// nullopt for anything else: escapes, other bytes in strings, fractions,
// exponents, "-0", integers of more than 18 digits, a byte-order mark,
// malformed text, or counts past `limits` (depth, strings, elements). The
// caller then runs the full parse, which gives every error and every other
// value. Token sizes are not checked here (ParseJsonBounded checks them
// first).
#pragma once

#include <optional>
#include <string_view>

#include "base/json_util.h"

namespace sealbox {

std::optional<Json> ParseSimpleJson(std::string_view text, const JsonLimits& limits);

}  // namespace sealbox
