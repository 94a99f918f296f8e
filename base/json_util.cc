#include "base/json_util.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "base/json_simple_parse.h"
#include "base/saturating.h"

namespace sealbox {
namespace {

// Builds the DOM in the same pass that enforces the depth and count limits
// (one parse, not a checking pass and then a building one): the first event
// past a limit stops the parse, so a hostile body never grows the tree beyond
// the limits.
class BoundedDomBuilder {
 public:
  BoundedDomBuilder(Json& root, const JsonLimits& l) : dom_(root, /*allow_exceptions=*/false), limits_(l) {}
  bool null() { return CountElement() && dom_.null(); }
  bool boolean(bool v) { return CountElement() && dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return CountElement() && dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return CountElement() && dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return CountElement() && dom_.number_float(v, s);
  }
  bool string(Json::string_t& v) { return CountElement() && CountString() && dom_.string(v); }
  bool binary(Json::binary_t& v) { return CountElement() && dom_.binary(v); }
  bool start_object(std::size_t n) { return CountElement() && Push() && dom_.start_object(n); }
  bool key(Json::string_t& v) { return CountElement() && CountString() && dom_.key(v); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return CountElement() && Push() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    error_ = InvalidArgument("error parsing JSON");
    return false;
  }
  Status error() const { return error_; }

 private:
  bool Push() {
    if (++depth_ > limits_.max_depth) {
      error_ = TooLarge("JSON input exceeds allowed nesting depth");
      return false;
    }
    return true;
  }
  bool CountString() {
    if (++strings_ > limits_.max_strings) {
      error_ = TooLarge("JSON input exceeds allowed number of strings");
      return false;
    }
    return true;
  }
  bool CountElement() {
    if (++elements_ > limits_.max_elements) {
      error_ = TooLarge("JSON input exceeds allowed number of elements");
      return false;
    }
    return true;
  }
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  JsonLimits limits_;
  size_t depth_ = 0;
  size_t strings_ = 0;
  size_t elements_ = 0;
  Status error_;
};

// No real number is longer; nlohmann's lexer would buffer any length.
constexpr size_t kMaxNumberSize = 1024;

// One pass over the raw text, allocating nothing, that bounds every token
// before nlohmann's lexer buffers it: a string's decoded size (an upper
// bound: \uXXXX counted as 3 bytes) against the key or value limit (a key
// is a string followed by ':'), any other token against kMaxNumberSize.
// Malformed text passes or fails here as it may: the parse judges it.
Status CheckTokenSizes(std::string_view text, const JsonLimits& limits) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '"') {
      size_t decoded = 0;
      ++i;
      while (i < n && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < n) {
          const bool unicode = text[i + 1] == 'u';
          decoded += unicode ? 3 : 1;
          i += unicode ? 6 : 2;
        } else {
          ++decoded;
          ++i;
        }
      }
      ++i;  // the closing quote
      size_t j = i;
      while (j < n && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) ++j;
      const bool is_key = j < n && text[j] == ':';
      if (is_key && decoded > limits.max_key_size) return TooLarge("JSON input exceeds allowed key length");
      if (!is_key && decoded > limits.max_string_size)
        return TooLarge("JSON input exceeds allowed string length");
    } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',' || c == ' ' || c == '\t' ||
               c == '\n' || c == '\r') {
      ++i;
    } else {
      const size_t start = i;
      while (i < n && std::string_view("{}[]:,\" \t\n\r").find(text[i]) == std::string_view::npos) ++i;
      if (i - start > kMaxNumberSize) return TooLarge("JSON input exceeds allowed number length");
    }
  }
  return Status::Ok();
}

// As Go's time.Duration (Vault refuses longer ones: "time: invalid
// duration", or an overflow for integer seconds).
Result<int64_t> CheckDurationRange(int64_t seconds) {
  if (seconds > kMaxDurationSeconds || seconds < -kMaxDurationSeconds) return InvalidArgument("invalid duration");
  return seconds;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Json> ParseJsonBounded(std::string_view text, const JsonLimits& limits) {
  SB_RETURN_IF_ERROR(CheckTokenSizes(text, limits));
  if (auto simple = ParseSimpleJson(text, limits)) return std::move(*simple);
  Json j;
  BoundedDomBuilder builder(j, limits);
  bool ok = Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json, true);
  if (!ok) {
    Status s = builder.error();
    return s.ok() ? InvalidArgument("error parsing JSON") : s;
  }
  if (j.is_discarded()) return InvalidArgument("error parsing JSON");
  return j;
}

std::optional<bool> ParseBoolString(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

Result<int64_t> JsonToInt(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return InvalidArgument("integer out of range");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::trunc(d) != d || std::fabs(d) > 9e18) return InvalidArgument("expected an integer");
    return static_cast<int64_t>(d);
  }
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    std::string_view s = Trim(v.get_ref<const std::string&>());
    if (s.empty()) return int64_t{0};
    int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || p != s.data() + s.size()) return InvalidArgument("expected an integer");
    return out;
  }
  if (v.is_null()) return int64_t{0};
  return InvalidArgument("expected an integer");
}

Result<bool> JsonToBool(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<int64_t>() != 0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return false;
    if (auto b = ParseBoolString(s)) return *b;
  }
  if (v.is_null()) return false;
  return InvalidArgument("expected a boolean");
}

Result<int64_t> ParseDurationSeconds(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return int64_t{0};
  // Plain integer: seconds.
  {
    int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return CheckDurationRange(out);
  }
  bool neg = false;
  if (s.front() == '-' || s.front() == '+') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  double total = 0;
  bool any = false;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return InvalidArgument("invalid duration");
    double num = 0;
    try {
      num = std::stod(std::string(s.substr(0, i)));
    } catch (...) {
      return InvalidArgument("invalid duration");
    }
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    double mult;
    if (unit == "h") mult = 3600;
    else if (unit == "m") mult = 60;
    else if (unit == "s") mult = 1;
    else if (unit == "ms") mult = 1e-3;
    else if (unit == "us" || unit == "µs") mult = 1e-6;
    else if (unit == "ns") mult = 1e-9;
    else if (unit == "d") mult = 86400;  // accepted by Vault's parseutil
    else return InvalidArgument("invalid duration");
    total += num * mult;
    any = true;
    if (total > static_cast<double>(kMaxDurationSeconds)) return InvalidArgument("invalid duration");
  }
  if (!any) return InvalidArgument("invalid duration");
  auto secs = static_cast<int64_t>(total);
  return neg ? -secs : secs;
}

Result<int64_t> JsonToDurationSeconds(const Json& v) {
  if (v.is_null()) return int64_t{0};
  if (v.is_string()) return ParseDurationSeconds(v.get_ref<const std::string&>());
  SB_ASSIGN_OR_RETURN(int64_t seconds, JsonToInt(v));
  return CheckDurationRange(seconds);
}

Result<std::vector<std::string>> JsonToStringList(const Json& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (v.is_array()) {
    for (const auto& e : v) {
      SB_ASSIGN_OR_RETURN(std::string s, JsonToString(e));
      out.push_back(std::move(s));
    }
    return out;
  }
  if (v.is_string()) {
    std::string_view s = v.get_ref<const std::string&>();
    while (!s.empty()) {
      size_t c = s.find(',');
      std::string_view item = Trim(s.substr(0, c));
      if (!item.empty()) out.emplace_back(item);
      if (c == std::string_view::npos) break;
      s.remove_prefix(c + 1);
    }
    return out;
  }
  return InvalidArgument("expected a list of strings");
}

Result<std::string> JsonToString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) return v.dump();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_null()) return std::string();
  return InvalidArgument("expected a string");
}

}  // namespace sealbox
