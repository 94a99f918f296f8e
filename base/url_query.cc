#include "base/url_query.h"

namespace sealbox {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) << 4 | HexDigit(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  ForEachQueryPair(q, [&](std::string_view k, std::string_view v, bool) {
    out.emplace(PercentDecode(k, true), PercentDecode(v, true));  // first value wins
  });
  return out;
}

Result<Json> ParseFormBounded(std::string_view body, const JsonLimits& limits) {
  Status limit;
  size_t pairs = 0;
  ForEachQueryPair(body, [&](std::string_view k, std::string_view v, bool) {
    if (!limit.ok()) return;
    ++pairs;
    // A decoded key or value is never longer than its raw bytes.
    if (2 * pairs > limits.max_elements) {
      limit = TooLarge("JSON input exceeds allowed number of elements");
    } else if (2 * pairs > limits.max_strings) {
      limit = TooLarge("JSON input exceeds allowed number of strings");
    } else if (k.size() > limits.max_key_size) {
      limit = TooLarge("JSON input exceeds allowed key length");
    } else if (v.size() > limits.max_string_size) {
      limit = TooLarge("JSON input exceeds allowed string length");
    }
  });
  SB_RETURN_IF_ERROR(limit);
  Json out = Json::object();
  for (auto& [k, v] : ParseQuery(body)) out[k] = std::move(v);
  return out;
}

}  // namespace sealbox
