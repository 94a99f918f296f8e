#include "base/go_string.h"

#include <cstdint>

namespace sealbox {
namespace {

// REQUIRES: `cp` is a Unicode scalar value (not a surrogate).
void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;  // no digit in any base used here
}

// The value of `s`'s first `n` characters as digits of `base`; false when
// there are fewer or one is not such a digit.
bool ParseDigits(std::string_view s, size_t n, int base, uint32_t* value) {
  if (s.size() < n) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = DigitValue(s[i]);
    if (d >= base) return false;
    v = v * static_cast<uint32_t>(base) + static_cast<uint32_t>(d);
  }
  *value = v;
  return true;
}

char SimpleEscape(char c) {
  switch (c) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case '\\': return '\\';
    case '"': return '"';
    default: return '\0';
  }
}

}  // namespace

Result<size_t> AppendGoEscape(std::string_view s, std::string& out, ByteEscapes bytes) {
  if (s.empty()) return InvalidArgument("invalid escape sequence");
  const char e = s[0];
  if (const char simple = SimpleEscape(e); simple != '\0') {
    out += simple;
    return size_t{1};
  }
  uint32_t v = 0;
  if (e == 'u' || e == 'U') {
    const size_t n = e == 'u' ? 4 : 8;
    // Surrogates and values past U+10FFFF are not characters: the result
    // would not be UTF-8.
    if (!ParseDigits(s.substr(1), n, 16, &v) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
      return InvalidArgument("invalid unicode escape");
    AppendUtf8(out, v);
    return 1 + n;
  }
  if (bytes == ByteEscapes::kRefused) return InvalidArgument("invalid escape sequence");
  if (e == 'x') {
    if (!ParseDigits(s.substr(1), 2, 16, &v)) return InvalidArgument("invalid escape sequence");
    out += static_cast<char>(v);
    return size_t{3};
  }
  if (!ParseDigits(s, 3, 8, &v) || v > 0xFF) return InvalidArgument("invalid escape sequence");
  out += static_cast<char>(v);
  return size_t{3};
}

}  // namespace sealbox
