#include "base/json_simple_parse.h"

#include <cstring>

#include "base/json_ascii_scan.h"

namespace sealbox {
namespace {

class SimpleParser {
 public:
  SimpleParser(std::string_view text, const JsonLimits& limits)
      : p_(text.data()), end_(text.data() + text.size()), limits_(limits) {}

  std::optional<Json> Document() {
    Json root;
    SkipSpace();
    if (!Value(&root)) return std::nullopt;
    SkipSpace();
    if (p_ != end_) return std::nullopt;
    return root;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // The counts ParseJsonBounded's builder keeps; past a limit the caller's
  // full parse reports it.
  bool CountElement() { return ++elements_ <= limits_.max_elements; }
  bool CountString() { return ++strings_ <= limits_.max_strings; }

  bool Value(Json* out) {
    if (p_ == end_ || !CountElement()) return false;
    switch (*p_) {
      case '{': return Object(out);
      case '[': return Array(out);
      case '"': {
        std::string s;
        if (!CountString() || !String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case 't': return Literal("true", Json(true), out);
      case 'f': return Literal("false", Json(false), out);
      case 'n': return Literal("null", Json(nullptr), out);
      default: return Integer(out);
    }
  }

  bool Literal(std::string_view word, Json value, Json* out) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) return false;
    p_ += word.size();
    *out = std::move(value);
    return true;
  }

  // ASCII from 0x20 without escapes; anything else is the full parser's.
  bool String(std::string* out) {
    const char* start = ++p_;
    p_ += PlainJsonAsciiEnd(std::string_view(start, end_ - start), 0);
    while (p_ != end_ && *p_ != '"') {
      auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c > 0x7f || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    out->assign(start, p_ - start);
    ++p_;
    return true;
  }

  // -?(0|[1-9][0-9]*), at most 18 digits (never overflows), not "-0":
  // unsigned when not negative, as nlohmann's lexer types them.
  bool Integer(Json* out) {
    bool negative = *p_ == '-';
    const char* digits = negative ? p_ + 1 : p_;
    const char* q = digits;
    uint64_t v = 0;
    while (q != end_ && *q >= '0' && *q <= '9' && q - digits < 19) v = v * 10 + static_cast<uint64_t>(*q++ - '0');
    size_t n = q - digits;
    if (n == 0 || n > 18 || (n > 1 && *digits == '0') || (negative && v == 0)) return false;
    if (q != end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    p_ = q;
    *out = negative ? Json(-static_cast<int64_t>(v)) : Json(v);
    return true;
  }

  bool Push() { return ++depth_ <= limits_.max_depth; }
  // An empty object or array: past its closing bracket.
  bool Close() {
    ++p_;
    --depth_;
    return true;
  }

  bool Object(Json* out) {
    ++p_;
    if (!Push()) return false;
    *out = Json::object();
    auto& members = out->get_ref<Json::object_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == '}') return Close();
    do {
      SkipSpace();
      std::string key;
      if (p_ == end_ || *p_ != '"' || !CountElement() || !CountString() || !String(&key)) return false;
      if (!Consume(':')) return false;
      SkipSpace();
      Json v;
      if (!Value(&v)) return false;
      members[std::move(key)] = std::move(v);  // a repeated key: the last wins, as in nlohmann's DOM
    } while (Consume(','));
    --depth_;
    return Consume('}');
  }

  bool Array(Json* out) {
    ++p_;
    if (!Push()) return false;
    *out = Json::array();
    auto& items = out->get_ref<Json::array_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == ']') return Close();
    do {
      SkipSpace();
      items.emplace_back();
      if (!Value(&items.back())) return false;
    } while (Consume(','));
    --depth_;
    return Consume(']');
  }

  const char* p_;
  const char* end_;
  const JsonLimits& limits_;
  size_t depth_ = 0;
  size_t strings_ = 0;
  size_t elements_ = 0;
};

}  // namespace

std::optional<Json> ParseSimpleJson(std::string_view text, const JsonLimits& limits) {
  return SimpleParser(text, limits).Document();
}

}  // namespace sealbox
