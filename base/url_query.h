// URL query strings and form bodies (application/x-www-form-urlencoded):
// "a=1&b=x%20y". Shared by api/ (request parameters) and audit/ (query
// values HMAC'd in request_uri).
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox {

// Decodes %XX escapes (a malformed escape is kept as is) and, for query
// strings and forms, '+' as a space.
std::string PercentDecode(std::string_view s, bool plus_is_space);

// Calls fn(raw_key, raw_value, has_value) for each non-empty '&'-separated
// pair, in order, before any decoding; a pair without '=' has an empty value
// and has_value false.
template <typename Fn>
void ForEachQueryPair(std::string_view q, Fn&& fn) {
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        fn(pair, std::string_view(), false);
      } else {
        fn(pair.substr(0, eq), pair.substr(eq + 1), true);
      }
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
}

// A request target's query: decoded keys and values, the first value of a
// repeated key winning (Go's Query().Get). Bounded by the header size limit.
std::map<std::string, std::string> ParseQuery(std::string_view q);

// A form body as a JSON object of strings, with the limits a JSON body has:
// each pair counts as a key and a string value (elements and strings), keys
// and values bounded in size. Checked on the raw bytes before anything is
// decoded or stored. Errors: TooLarge with the JSON parser's messages.
Result<Json> ParseFormBounded(std::string_view body, const JsonLimits& limits);

}  // namespace sealbox
