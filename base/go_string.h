// The escape sequences of a Go double-quoted string literal (Go's
// strconv.UnquoteChar with quote '"'), for every reader of Go-syntax strings:
// HCL policies (hcl v1 decodes them with Go's rules) and database username
// templates (text/template). The readers keep their own scanning (where a
// string ends, interpolation); this decodes what follows a backslash.
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sealbox {

// Byte escapes (\x41, \101) write one byte as is, which may leave the text
// invalid UTF-8: a reader whose strings must stay UTF-8 refuses them.
enum class ByteEscapes { kAllowed, kRefused };

// Decodes the escape sequence at the start of `s` (the text just after a
// backslash), appends its bytes to `out` and returns how many bytes of `s`
// it took. Accepted: \a \b \f \n \r \t \v \\ \" ; \u and four, \U and
// eight hex digits: that code point in UTF-8; when `bytes` allows them, \x
// and two hex digits, or three octal digits (at most \377): that byte.
// Errors, `out` unchanged: InvalidArgument("invalid unicode escape") for a
// \u or \U without its digits or naming a surrogate or a value past
// U+10FFFF; InvalidArgument("invalid escape sequence") for anything else
// (\' too: Go refuses it in a double-quoted string).
Result<size_t> AppendGoEscape(std::string_view s, std::string& out, ByteEscapes bytes);

}  // namespace sealbox
