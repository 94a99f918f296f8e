#include "engines/database/postgres/statements.h"

#include <cctype>
#include <ctime>

namespace sealbox::engines::database::postgres {

std::vector<std::string> SplitStatements(const std::string& text) {
  std::vector<std::string> out;
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  if (text.find("$$") != std::string::npos) {  // DO $$ ... END $$ blocks stay whole
    std::string t = trim(text);
    if (!t.empty()) out.push_back(t);
    return out;
  }
  size_t start = 0;
  bool in_quote = false;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '\'') in_quote = !in_quote;
    if (i == text.size() || (text[i] == ';' && !in_quote)) {
      std::string st = trim(text.substr(start, i - start));
      if (!st.empty()) out.push_back(st);
      start = i + 1;
    }
  }
  return out;
}

std::string QuoteLiteral(const std::string& s) {
  const bool backslash = s.find('\\') != std::string::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'' || (backslash && c == '\\')) out += c;
    out += c;
  }
  return out + "'";
}

Status CheckRoleName(const std::string& name) {
  if (name.empty()) return InvalidArgument("the username is empty");
  if (name.size() > 63)
    return InvalidArgument("the username is " + std::to_string(name.size()) +
                           " bytes, longer than PostgreSQL's 63-byte identifier limit (end the template with | truncate 63)");
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return InvalidArgument("the username contains a control character");
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > name.size()) return InvalidArgument("the username is not valid UTF-8");
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(name[i + k]) & 0xC0) != 0x80)
        return InvalidArgument("the username is not valid UTF-8");
    i += n;
  }
  return Status::Ok();
}

namespace {

bool IsIdentChar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

// The dollar-quote tag ("$$" or "$tag$") starting at s[i], or "".
std::string DollarTag(const std::string& s, size_t i) {
  if (s[i] != '$' || (i > 0 && IsIdentChar(s[i - 1]))) return "";
  size_t j = i + 1;
  if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) return "";  // $1: a parameter
  while (j < s.size() && s[j] != '$' && (IsIdentChar(s[j]))) ++j;
  if (j >= s.size() || s[j] != '$') return "";
  return s.substr(i, j - i + 1);
}

enum class SqlCtx { kCode, kLiteral, kEscLiteral, kIdent, kLineComment, kBlockComment };

Result<std::string> Escape(SqlCtx ctx, const std::string& v, bool ident, const std::vector<std::string>& dollars,
                           const std::string& key) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgument("the value of {{" + key + "}} cannot be placed safely in this statement: " + why);
  };
  if (v.find('\0') != std::string::npos) return refuse("it contains a NUL byte");
  for (const auto& tag : dollars)
    if (v.find(tag) != std::string::npos) return refuse("it contains the enclosing dollar-quote tag");
  auto doubled = [&](char q, bool backslash) {
    std::string out;
    for (char c : v) {
      if (c == q || (backslash && c == '\\')) out += c;
      out += c;
    }
    return out;
  };
  switch (ctx) {
    case SqlCtx::kCode: return ident ? QuoteIdent(v) : QuoteLiteral(v);
    case SqlCtx::kLiteral: return doubled('\'', false);
    case SqlCtx::kEscLiteral: return doubled('\'', true);
    case SqlCtx::kIdent: return doubled('"', false);
    case SqlCtx::kLineComment:
      if (v.find_first_of("\r\n") != std::string::npos) return refuse("it would end the comment");
      return v;
    case SqlCtx::kBlockComment:
      if (v.find("*/") != std::string::npos || v.find("/*") != std::string::npos || v.back() == '*' ||
          v.back() == '/' || v.front() == '/' || v.front() == '*')
        return refuse("it would end the comment");
      return v;
  }
  return refuse("unknown context");
}

}  // namespace

namespace {

// Expands one statement while lexing it as PostgreSQL does, so each value is
// escaped for the token it lands in.
class StatementExpander {
 public:
  StatementExpander(const std::string& s, const StatementValues& values) : s_(s), values_(values) {
    out_.reserve(s.size() + 64);
  }

  Result<std::string> Run() {
    while (i_ < s_.size()) {
      SB_ASSIGN_OR_RETURN(bool placed, Placeholder());
      if (placed || CloseDollar()) continue;
      const char c = s_[i_];
      const char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      if (Step(c, next)) continue;
      out_ += c;
      ++i_;
    }
    return std::move(out_);
  }

 private:
  // A known {{placeholder}} at i_: its escaped value is written.
  Result<bool> Placeholder() {
    if (s_.compare(i_, 2, "{{") != 0) return false;
    const size_t end = s_.find("}}", i_ + 2);
    if (end == std::string::npos) return false;
    const std::string key = s_.substr(i_ + 2, end - i_ - 2);
    const std::string* v = nullptr;
    if (key == "name" || key == "username") v = &values_.name;
    else if (key == "password") v = &values_.password;
    else if (key == "expiration") v = &values_.expiration;
    if (v == nullptr) return false;
    if (!v->empty() || ctx_ == SqlCtx::kCode) {
      SB_ASSIGN_OR_RETURN(std::string q, Escape(ctx_, *v, v == &values_.name, dollars_, key));
      out_ += q;
    }
    i_ = end + 2;
    return true;
  }

  // The closing tag of an open dollar quote ends it (and every quote opened
  // inside it), whatever the body's own state: that is how the server's
  // lexer reads it.
  bool CloseDollar() {
    for (size_t k = 0; k < dollars_.size(); ++k) {
      if (s_.compare(i_, dollars_[k].size(), dollars_[k]) == 0) {
        Emit(dollars_[k]);
        dollars_.resize(k);
        ctx_ = SqlCtx::kCode;
        comment_depth_ = 0;
        return true;
      }
    }
    return false;
  }

  // Advances the lexer over c; true if it consumed the input itself.
  bool Step(char c, char next) {
    switch (ctx_) {
      case SqlCtx::kCode: return StepCode(c, next);
      case SqlCtx::kLiteral:
      case SqlCtx::kIdent: return StepQuoted(c, next, ctx_ == SqlCtx::kIdent ? '"' : '\'');
      case SqlCtx::kEscLiteral: return StepEscLiteral(c, next);
      case SqlCtx::kLineComment:
        if (c == '\n' || c == '\r') ctx_ = SqlCtx::kCode;
        return false;
      case SqlCtx::kBlockComment: return StepBlockComment(c, next);
    }
    return false;
  }

  bool StepCode(char c, char next) {
    if (c == '\'') {
      const bool esc = i_ > 0 && (s_[i_ - 1] == 'E' || s_[i_ - 1] == 'e') && (i_ < 2 || !IsIdentChar(s_[i_ - 2]));
      ctx_ = esc ? SqlCtx::kEscLiteral : SqlCtx::kLiteral;
    } else if (c == '"') {
      ctx_ = SqlCtx::kIdent;
    } else if (c == '-' && next == '-') {
      ctx_ = SqlCtx::kLineComment;
      Emit("--");
      return true;
    } else if (c == '/' && next == '*') {
      ctx_ = SqlCtx::kBlockComment;
      comment_depth_ = 1;
      Emit("/*");
      return true;
    } else if (c == '$') {
      std::string tag = DollarTag(s_, i_);
      if (!tag.empty()) {
        dollars_.push_back(tag);
        Emit(tag);
        return true;
      }
    }
    return false;
  }

  bool StepQuoted(char c, char next, char q) {
    if (c != q) return false;
    if (next == q) {
      Emit(std::string(2, q));
      return true;
    }
    ctx_ = SqlCtx::kCode;
    return false;
  }

  bool StepEscLiteral(char c, char next) {
    if (c == '\\' && i_ + 1 < s_.size()) {
      Emit(std::string{c, next});
      return true;
    }
    return StepQuoted(c, next, '\'');
  }

  bool StepBlockComment(char c, char next) {
    if (c == '/' && next == '*') {
      ++comment_depth_;
      Emit("/*");
      return true;
    }
    if (c == '*' && next == '/') {
      if (--comment_depth_ == 0) ctx_ = SqlCtx::kCode;
      Emit("*/");
      return true;
    }
    return false;
  }

  // Copies `text` (the input at i_) to the output.
  void Emit(const std::string& text) {
    out_ += text;
    i_ += text.size();
  }

  const std::string& s_;
  const StatementValues& values_;
  std::string out_;
  SqlCtx ctx_ = SqlCtx::kCode;
  int comment_depth_ = 0;
  std::vector<std::string> dollars_;  // open dollar quotes, outermost first
  size_t i_ = 0;
};

}  // namespace

Result<std::string> ExpandStatement(const std::string& statement, const StatementValues& values) {
  return StatementExpander(statement, values).Run();
}

std::string QuoteIdent(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string PgTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+0000", &tm);
  return buf;
}

Result<std::vector<std::string>> ExpandAll(const std::vector<std::string>& items, const StatementValues& values) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    for (const auto& st : SplitStatements(item)) {
      SB_ASSIGN_OR_RETURN(std::string expanded, ExpandStatement(st, values));
      out.push_back(std::move(expanded));
    }
  }
  return out;
}

}  // namespace sealbox::engines::database::postgres
