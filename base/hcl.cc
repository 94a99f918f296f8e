#include "base/hcl.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "base/go_string.h"

namespace sealbox::hcl {
namespace {

using Json = nlohmann::json;

constexpr size_t kNpos = std::string_view::npos;
// Longest key or identifier quoted back in an error message.
constexpr size_t kMaxEcho = 32;
// Parsing recurses once per nesting level; this bounds the stack whatever the
// caller puts in Limits::max_depth.
constexpr size_t kHardMaxDepth = 256;

// ---------------------------------------------------------------------------
// Character classes (ASCII only, like the parts of hcl v1 Vault relies on).

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsLetter(c) || IsDigit(c) || c == '-' || c == '.'; }
// [[:space:]], used to find a heredoc terminator line.
bool IsPosixSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Offset of the first NUL byte or invalid UTF-8 sequence, or kNpos. Checked up
// front because nlohmann::json::dump() throws on invalid UTF-8 in strings, and
// so that the lexer can treat '\0' as "past the end".
size_t FindInvalidByte(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (n - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return i;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return i;
    i += len;
  }
  return kNpos;
}

// Error position. Computed only when an error is reported, so the lexer does
// not have to track lines and columns on the happy path.
Status ErrorAt(std::string_view src, size_t offset, std::string_view msg) {
  offset = std::min(offset, src.size());
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    const unsigned char c = static_cast<unsigned char>(src[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // count characters, not bytes
      ++column;
    }
  }
  return InvalidArgument("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ": " + std::string(msg));
}

size_t LineOf(std::string_view src, size_t offset) {
  offset = std::min(offset, src.size());
  return 1 + static_cast<size_t>(std::count(src.begin(), src.begin() + offset, '\n'));
}

// Quotes a key or identifier for an error message: printable ASCII only,
// truncated, so messages stay short and safe to log.
std::string Echo(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == kMaxEcho) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  out += '"';
  return out;
}

std::string DescribeChar(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  if (c >= 0x20 && c < 0x7F) return std::string("'") + ch + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xF];
}

// ---------------------------------------------------------------------------
// Lexer.

enum class Tok {
  kEof,
  kIdent,    // text = name (also true/false; the parser decides)
  kString,   // text = unescaped value
  kHeredoc,  // text = value
  kInt,
  kFloat,
  kLBrace,
  kRBrace,
  kLBrack,
  kRBrack,
  kComma,
  kAssign,  // '=' or ':'
};

struct Token {
  Tok kind = Tok::kEof;
  size_t begin = 0;  // byte offset of the first character
  size_t end = 0;    // byte offset one past the last character
  // A newline (possibly inside a comment) separates this token from the
  // previous one. Block labels must not have one.
  bool newline_before = false;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
};

std::string Describe(const Token& t, std::string_view src) {
  switch (t.kind) {
    case Tok::kEof: return "end of input";
    case Tok::kIdent: return "identifier " + Echo(t.text);
    case Tok::kString: return "string";  // values may be secrets: never echoed
    case Tok::kHeredoc: return "heredoc";
    case Tok::kInt:
    case Tok::kFloat: return "number";
    default: return t.begin < src.size() ? DescribeChar(src[t.begin]) : "end of input";
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {
    // Tolerate a UTF-8 byte order mark left by Windows editors.
    if (src_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  Result<Token> Next();
  // One token of push-back, for the optional comma after an object item.
  void Unread(Token t) { pending_ = std::move(t); }

 private:
  // '\0' past the end; the input holds no NUL bytes (checked in Parse).
  char At(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  Status Error(size_t offset, std::string_view msg) const { return ErrorAt(src_, offset, msg); }

  Status SkipSpaceAndComments(bool* newline);
  // Each takes the token with begin and newline_before filled in.
  Result<Token> ScanString(Token t);
  Result<Token> ScanHeredoc(Token t);
  Result<Token> ScanNumber(Token t);
  Result<uint64_t> ParseMagnitude(size_t begin, size_t end, int base, size_t token_begin) const;

  std::string_view src_;
  size_t pos_ = 0;
  std::optional<Token> pending_;
};

Result<Token> Lexer::Next() {
  if (pending_.has_value()) {
    Token t = std::move(*pending_);
    pending_.reset();
    return t;
  }
  bool newline = false;
  SB_RETURN_IF_ERROR(SkipSpaceAndComments(&newline));

  Token t;
  t.begin = pos_;
  t.newline_before = newline;
  if (pos_ >= src_.size()) {
    t.end = pos_;
    return t;
  }
  const char c = src_[pos_];
  auto single = [&](Tok kind) -> Result<Token> {
    t.kind = kind;
    t.end = ++pos_;
    return t;
  };
  switch (c) {
    case '{': return single(Tok::kLBrace);
    case '}': return single(Tok::kRBrace);
    case '[': return single(Tok::kLBrack);
    case ']': return single(Tok::kRBrack);
    case ',': return single(Tok::kComma);
    case '=':
    case ':': return single(Tok::kAssign);
    default: break;
  }

  if (c == '"') return ScanString(std::move(t));
  if (c == '<' && At(pos_ + 1) == '<') return ScanHeredoc(std::move(t));
  if (IsDigit(c) || (c == '-' && IsDigit(At(pos_ + 1)))) return ScanNumber(std::move(t));
  if (IsLetter(c)) {
    size_t i = pos_ + 1;
    while (IsIdentChar(At(i))) ++i;
    t.kind = Tok::kIdent;
    t.text = std::string(src_.substr(pos_, i - pos_));
    t.end = pos_ = i;
    return t;
  }
  return Error(pos_, "unexpected character " + DescribeChar(c));
}

Status Lexer::SkipSpaceAndComments(bool* newline) {
  while (pos_ < src_.size()) {
    const char c = src_[pos_];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++pos_;
    } else if (c == '\n') {
      *newline = true;
      ++pos_;
    } else if (c == '#' || (c == '/' && At(pos_ + 1) == '/')) {
      const size_t eol = src_.find('\n', pos_);
      pos_ = eol == kNpos ? src_.size() : eol;
    } else if (c == '/' && At(pos_ + 1) == '*') {
      const size_t close = src_.find("*/", pos_ + 2);
      if (close == kNpos) return Error(pos_, "unterminated comment");
      if (src_.substr(pos_, close - pos_).find('\n') != kNpos) *newline = true;
      pos_ = close + 2;
    } else {
      break;
    }
  }
  return Status::Ok();
}

Result<Token> Lexer::ScanString(Token t) {
  t.kind = Tok::kString;
  size_t i = pos_ + 1;
  std::string& out = t.text;
  while (true) {
    // A raw newline ends the line but not the string: unterminated (hcl v1).
    if (i >= src_.size() || src_[i] == '\n') return Error(t.begin, "unterminated string");
    const char c = src_[i];
    if (c == '"') {
      ++i;
      break;
    }
    if (c == '$' && At(i + 1) == '{') {
      // Interpolation (Vault never evaluates it): copied verbatim up to the
      // matching brace, quotes and newlines included, like hcl v1.
      out += "${";
      i += 2;
      size_t braces = 1;
      while (braces > 0) {
        if (i >= src_.size()) return Error(t.begin, "unterminated string");
        const char d = src_[i++];
        out += d;
        if (d == '{') ++braces;
        if (d == '}') --braces;
      }
      continue;
    }
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= src_.size()) return Error(t.begin, "unterminated string");
    // Strings must stay UTF-8 (FindInvalidByte): no byte escapes.
    auto taken = AppendGoEscape(src_.substr(i + 1), out, ByteEscapes::kRefused);
    if (!taken.ok()) return Error(i, taken.status().message());
    i += 1 + *taken;
  }
  t.end = pos_ = i;
  return t;
}

// hcl v1 heredoc: `<<ID` or `<<-ID`, a newline, content lines, then a line
// holding only optional whitespace and ID. With `<<-`, the terminator's
// indentation is removed from every content line if (and only if) every line
// starts with it -- hcl v1's rule, so an empty line disables unindenting.
Result<Token> Lexer::ScanHeredoc(Token t) {
  t.kind = Tok::kHeredoc;
  size_t i = pos_ + 2;
  const bool indented = At(i) == '-';
  if (indented) ++i;
  const size_t anchor_begin = i;
  while (IsLetter(At(i)) || IsDigit(At(i))) ++i;
  const std::string_view anchor = src_.substr(anchor_begin, i - anchor_begin);
  if (anchor.empty()) return Error(t.begin, "missing heredoc anchor");
  if (At(i) == '\r' && At(i + 1) == '\n') ++i;
  if (i >= src_.size()) return Error(t.begin, "unterminated heredoc");
  if (src_[i] != '\n') return Error(i, "invalid characters after heredoc anchor");
  const size_t content_begin = i + 1;

  size_t line_begin = content_begin;
  std::string_view content;
  std::string_view prefix;
  while (true) {
    const size_t nl = src_.find('\n', line_begin);
    const size_t line_end = nl == kNpos ? src_.size() : nl;
    const std::string_view line = src_.substr(line_begin, line_end - line_begin);
    size_t ws = 0;
    while (ws < line.size() && IsPosixSpace(line[ws])) ++ws;
    std::string_view rest = line.substr(ws);
    while (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
    if (rest == anchor) {
      // Content ends with '\n' (or is empty): it stops at a line start.
      content = src_.substr(content_begin, line_begin - content_begin);
      prefix = line.substr(0, ws);
      t.end = pos_ = line_end;
      break;
    }
    if (nl == kNpos) return Error(t.begin, "unterminated heredoc");
    line_begin = nl + 1;
  }

  if (!indented || prefix.empty()) {
    t.text = std::string(content);
    return t;
  }
  bool all_indented = true;
  for (size_t b = 0; b < content.size();) {
    const size_t e = content.find('\n', b);  // always found, see above
    if (!content.substr(b, e - b).starts_with(prefix)) {
      all_indented = false;
      break;
    }
    b = e + 1;
  }
  if (!all_indented) {
    t.text = std::string(content);
    return t;
  }
  for (size_t b = 0; b < content.size();) {
    const size_t e = content.find('\n', b);
    t.text.append(content.substr(b + prefix.size(), e - b - prefix.size()));
    t.text += '\n';
    b = e + 1;
  }
  return t;
}

Result<uint64_t> Lexer::ParseMagnitude(size_t begin, size_t end, int base,
                                       size_t token_begin) const {
  uint64_t v = 0;
  const char* first = src_.data() + begin;
  const char* last = src_.data() + end;
  const auto [ptr, ec] = std::from_chars(first, last, v, base);
  if (ec == std::errc::result_out_of_range) return Error(token_begin, "number out of range");
  if (ec != std::errc() || ptr != last) return Error(token_begin, "invalid number");
  return v;
}

// hcl v1 numbers: [-]digits, [-]0x hex, [-]0 octal, and floats with a fraction
// and/or exponent. A number running into letters (`10s`) is an error rather
// than two tokens, which gives a clearer message.
Result<Token> Lexer::ScanNumber(Token t) {
  size_t i = pos_;
  const bool negative = src_[i] == '-';
  if (negative) ++i;
  const size_t digits_begin = i;

  if (At(i) == '0' && (At(i + 1) == 'x' || At(i + 1) == 'X')) {
    i += 2;
    const size_t hex_begin = i;
    while (IsHex(At(i))) ++i;
    if (i == hex_begin) return Error(t.begin, "invalid hexadecimal number");
    if (IsIdentChar(At(i))) return Error(t.begin, "invalid number");
    // from_chars takes neither sign nor prefix.
    SB_ASSIGN_OR_RETURN(uint64_t mag, ParseMagnitude(hex_begin, i, 16, t.begin));
    const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
    if (mag > limit) return Error(t.begin, "number out of range");
    t.kind = Tok::kInt;
    t.int_value = negative ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    t.end = pos_ = i;
    return t;
  }

  while (IsDigit(At(i))) ++i;
  const size_t digits_end = i;
  bool is_float = false;
  if (At(i) == '.') {
    if (!IsDigit(At(i + 1))) return Error(t.begin, "invalid number");
    ++i;
    while (IsDigit(At(i))) ++i;
    is_float = true;
  }
  if (At(i) == 'e' || At(i) == 'E') {
    size_t j = i + 1;
    if (At(j) == '+' || At(j) == '-') ++j;
    if (!IsDigit(At(j))) return Error(t.begin, "invalid number");
    while (IsDigit(At(j))) ++j;
    i = j;
    is_float = true;
  }
  if (IsIdentChar(At(i))) return Error(t.begin, "invalid number");

  if (is_float) {
    double d = 0;
    const char* first = src_.data() + t.begin;
    const char* last = src_.data() + i;
    const auto [ptr, ec] = std::from_chars(first, last, d);  // locale independent
    if (ec == std::errc::result_out_of_range) return Error(t.begin, "number out of range");
    if (ec != std::errc() || ptr != last) return Error(t.begin, "invalid number");
    t.kind = Tok::kFloat;
    t.float_value = d;
    t.end = pos_ = i;
    return t;
  }

  // A leading zero means octal, as Go's ParseInt(s, 0, 64) reads it in hcl v1.
  int base = 10;
  if (src_[digits_begin] == '0' && digits_end - digits_begin > 1) {
    for (size_t k = digits_begin; k < digits_end; ++k) {
      if (src_[k] > '7') return Error(t.begin, "invalid octal number");
    }
    base = 8;
  }
  SB_ASSIGN_OR_RETURN(uint64_t mag, ParseMagnitude(digits_begin, digits_end, base, t.begin));
  const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
  if (mag > limit) return Error(t.begin, "number out of range");
  t.kind = Tok::kInt;
  t.int_value = negative ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  t.end = pos_ = i;
  return t;
}

// ---------------------------------------------------------------------------
// Parser: recursive descent. Every recursive call is one nesting level deeper
// and checked against max_depth first, so recursion is bounded.

class Parser {
 public:
  Parser(std::string_view src, size_t max_depth, Blocks blocks, std::vector<KeyLine>* key_lines)
      : src_(src), lex_(src), max_depth_(max_depth), blocks_(blocks), key_lines_(key_lines) {}

  Result<Json> ParseDocument() {
    Json root = Json::object();
    SB_RETURN_IF_ERROR(ParseBody(root, 0, nullptr));
    return root;
  }

 private:
  Status Error(size_t offset, std::string_view msg) const { return ErrorAt(src_, offset, msg); }
  Status TooDeep(size_t offset) const {
    return Error(offset, "nesting too deep (limit " + std::to_string(max_depth_) + ")");
  }
  Status DuplicateKey(const Token& key) const {
    return Error(key.begin, "duplicate key " + Echo(key.text));
  }

  // Items of an object at nesting `depth`, merged into `obj`, up to the '}'
  // matching `open` (or end of input for the document itself).
  Status ParseBody(Json& obj, size_t depth, const Token* open);
  Status ParseItem(Json& obj, Token first, size_t depth);
  // A value inside a container at nesting `depth`.
  Result<Json> ParseValue(Token tok, size_t depth);
  Result<Json> ParseList(size_t depth, const Token& open);
  // obj[key] as an object, created if missing; merging into an existing
  // object is what makes repeated blocks combine.
  Result<Json*> Descend(Json& obj, const Token& key) const;

  std::string_view src_;
  Lexer lex_;
  size_t max_depth_;
  Blocks blocks_;
  std::vector<KeyLine>* key_lines_;
  // Line counting is incremental: keys come in document order.
  size_t counted_to_ = 0, line_ = 1;
  void RecordKey(const Token& key);
};

void Parser::RecordKey(const Token& key) {
  if (!key_lines_) return;
  line_ += static_cast<size_t>(std::count(src_.begin() + counted_to_, src_.begin() + key.begin, '\n'));
  counted_to_ = key.begin;
  key_lines_->push_back({key.text, line_});
}

Status Parser::ParseBody(Json& obj, size_t depth, const Token* open) {
  while (true) {
    SB_ASSIGN_OR_RETURN(Token tok, lex_.Next());
    if (tok.kind == Tok::kEof) {
      if (open == nullptr) return Status::Ok();
      return Error(tok.begin, "expected '}' to close the block opened at line " +
                                  std::to_string(LineOf(src_, open->begin)) + ", got end of input");
    }
    if (tok.kind == Tok::kRBrace) {
      if (open != nullptr) return Status::Ok();
      return Error(tok.begin, "unexpected '}'");
    }
    SB_RETURN_IF_ERROR(ParseItem(obj, std::move(tok), depth));
    // Items may be separated by one optional comma (`{ a = 1, b = 2 }`).
    SB_ASSIGN_OR_RETURN(Token next, lex_.Next());
    if (next.kind != Tok::kComma) lex_.Unread(std::move(next));
  }
}

Status Parser::ParseItem(Json& obj, Token first, size_t depth) {
  if (first.kind != Tok::kIdent && first.kind != Tok::kString) {
    return Error(first.begin, "expected a key, got " + Describe(first, src_));
  }
  RecordKey(first);
  std::vector<Token> keys;
  keys.push_back(std::move(first));
  Token tok;
  while (true) {
    SB_ASSIGN_OR_RETURN(tok, lex_.Next());
    if ((tok.kind != Tok::kIdent && tok.kind != Tok::kString) || tok.newline_before) break;
    keys.push_back(std::move(tok));
    // Each label is a nesting level; stop a huge label chain early.
    if (depth + keys.size() > max_depth_) return TooDeep(keys.back().begin);
  }

  if (tok.kind == Tok::kLBrace) {  // key [labels...] { body }
    if (depth + keys.size() > max_depth_) return TooDeep(tok.begin);
    if (blocks_ == Blocks::kList) {  // append {l1: {l2: body}} to obj[key]
      auto it = obj.find(keys[0].text);
      if (it != obj.end() && !it->is_array()) return DuplicateKey(keys[0]);
      Json block = Json::object();
      Json* target = &block;
      for (size_t k = 1; k < keys.size(); ++k) {
        SB_ASSIGN_OR_RETURN(target, Descend(*target, keys[k]));
      }
      SB_RETURN_IF_ERROR(ParseBody(*target, depth + keys.size(), &tok));
      obj[keys[0].text].push_back(std::move(block));
      return Status::Ok();
    }
    Json* target = &obj;
    for (const Token& key : keys) {
      SB_ASSIGN_OR_RETURN(target, Descend(*target, key));
    }
    return ParseBody(*target, depth + keys.size(), &tok);
  }

  if (tok.kind == Tok::kAssign) {
    if (keys.size() > 1) {
      return Error(tok.begin, "expected '{' after block labels, got " + Describe(tok, src_));
    }
    SB_ASSIGN_OR_RETURN(Token value, lex_.Next());
    if (value.kind == Tok::kLBrace) {  // key = { body } is the same as key { body }
      if (depth + 1 > max_depth_) return TooDeep(value.begin);
      SB_ASSIGN_OR_RETURN(Json * target, Descend(obj, keys[0]));
      return ParseBody(*target, depth + 1, &value);
    }
    if (obj.find(keys[0].text) != obj.end()) return DuplicateKey(keys[0]);
    SB_ASSIGN_OR_RETURN(Json v, ParseValue(std::move(value), depth));
    obj[keys[0].text] = std::move(v);
    return Status::Ok();
  }

  // Missing '=' or '{'. When the next token is on a later line, point at the
  // end of the key line, where the '=' was forgotten.
  const size_t at = (tok.newline_before || tok.kind == Tok::kEof) ? keys.back().end : tok.begin;
  if (keys.size() > 1) {
    return Error(at, "expected '{' after block labels, got " + Describe(tok, src_));
  }
  return Error(
      at, "expected '=' or '{' after key " + Echo(keys[0].text) + ", got " + Describe(tok, src_));
}

Result<Json> Parser::ParseValue(Token tok, size_t depth) {
  switch (tok.kind) {
    case Tok::kString:
    case Tok::kHeredoc: return Json(std::move(tok.text));
    case Tok::kInt: return Json(tok.int_value);
    case Tok::kFloat: return Json(tok.float_value);
    case Tok::kIdent:
      if (tok.text == "true") return Json(true);
      if (tok.text == "false") return Json(false);
      return Error(tok.begin,
                   "expected a value, got " + Describe(tok, src_) + " (strings must be quoted)");
    case Tok::kLBrack:
      if (depth + 1 > max_depth_) return TooDeep(tok.begin);
      return ParseList(depth + 1, tok);
    case Tok::kLBrace: {  // an object inside a list
      if (depth + 1 > max_depth_) return TooDeep(tok.begin);
      Json obj = Json::object();
      SB_RETURN_IF_ERROR(ParseBody(obj, depth + 1, &tok));
      return obj;
    }
    default: return Error(tok.begin, "expected a value, got " + Describe(tok, src_));
  }
}

Result<Json> Parser::ParseList(size_t depth, const Token& open) {
  Json list = Json::array();
  auto unclosed = [&](const Token& eof) {
    return Error(eof.begin, "expected ']' to close the list opened at line " +
                                std::to_string(LineOf(src_, open.begin)) + ", got end of input");
  };
  while (true) {
    SB_ASSIGN_OR_RETURN(Token tok, lex_.Next());
    if (tok.kind == Tok::kRBrack) return list;  // empty list or trailing comma
    if (tok.kind == Tok::kEof) return unclosed(tok);
    SB_ASSIGN_OR_RETURN(Json v, ParseValue(std::move(tok), depth));
    list.push_back(std::move(v));
    SB_ASSIGN_OR_RETURN(Token sep, lex_.Next());
    if (sep.kind == Tok::kComma) continue;
    if (sep.kind == Tok::kRBrack) return list;
    if (sep.kind == Tok::kEof) return unclosed(sep);
    return Error(sep.begin, "expected ',' or ']' in list, got " + Describe(sep, src_));
  }
}

Result<Json*> Parser::Descend(Json& obj, const Token& key) const {
  auto it = obj.find(key.text);
  if (it == obj.end()) it = obj.emplace(key.text, Json::object()).first;
  if (!it->is_object()) return DuplicateKey(key);
  return &*it;
}

}  // namespace

Result<nlohmann::json> Parse(std::string_view text, const Limits& limits, Blocks blocks,
                             std::vector<KeyLine>* key_lines) {
  if (text.size() > limits.max_size) {
    return InvalidArgument("line 1, column 1: input too large (limit " +
                           std::to_string(limits.max_size) + " bytes)");
  }
  if (const size_t bad = FindInvalidByte(text); bad != kNpos) {
    return ErrorAt(text, bad, text[bad] == '\0' ? "unexpected NUL character" : "invalid UTF-8");
  }
  Parser parser(text, std::min(limits.max_depth, kHardMaxDepth), blocks, key_lines);
  return parser.ParseDocument();
}

}  // namespace sealbox::hcl
