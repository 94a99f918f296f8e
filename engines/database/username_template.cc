#include "engines/database/username_template.h"

#include <chrono>
#include <map>
#include <variant>
#include <vector>

#include "base/crypto.h"
#include "base/go_string.h"

namespace sealbox::engines::database {
namespace {

constexpr size_t kMaxTemplateSize = 4096;
constexpr size_t kMaxOutput = 64 * 1024;
constexpr size_t kMaxDepth = 32;
constexpr int64_t kMaxRandom = 1024;

enum class Type { kString, kInt };

struct Value {
  Type type = Type::kString;
  std::string s;
  int64_t i = 0;
};

struct Pipeline;

struct Operand {
  enum class Kind { kField, kString, kInt, kFunc, kSub };
  Kind kind = Kind::kString;
  std::string text;  // field name, string literal or function name
  int64_t num = 0;
  std::shared_ptr<Pipeline> sub;
};

struct Command {
  std::vector<Operand> words;
};

struct Pipeline {
  std::vector<Command> cmds;
  Type type = Type::kString;
};

// ---- Functions: arity and argument types are checked at parse time. ----

struct Func {
  std::vector<Type> params;  // fixed parameters
  bool variadic = false;     // printf: any number of extra arguments of any type
};

const std::map<std::string, Func, std::less<>>& Funcs() {
  static const std::map<std::string, Func, std::less<>> kFuncs = {
      {"printf", {{Type::kString}, true}},
      {"truncate", {{Type::kInt, Type::kString}}},
      {"truncate_sha256", {{Type::kInt, Type::kString}}},
      {"uppercase", {{Type::kString}}},
      {"lowercase", {{Type::kString}}},
      {"replace", {{Type::kString, Type::kString, Type::kString}}},
      {"sha256", {{Type::kString}}},
      {"base64", {{Type::kString}}},
      {"random", {{Type::kInt}}},
      {"unix_time", {}},
      {"unix_time_millis", {}},
      {"timestamp", {{Type::kString}}},
      {"uuid", {}},
  };
  return kFuncs;
}

const char* TypeName(Type t) { return t == Type::kInt ? "int" : "string"; }

// Checks a literal printf format: only %s %v %d and %%.
Status CheckFormat(const std::string& f) {
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (i + 1 >= f.size()) return InvalidArgument("printf: format ends with a lone %");
    char v = f[++i];
    if (v != 's' && v != 'v' && v != 'd' && v != '%')
      return InvalidArgument(std::string("printf: unsupported verb or flag %") + v + " (supported: %s %v %d %%)");
  }
  return Status::Ok();
}

std::string GoValue(const Value& v) { return v.type == Type::kInt ? std::to_string(v.i) : v.s; }

std::string Sprintf(const std::string& f, const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (i + 1 >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char v = f[++i];
    if (v == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + v + "(MISSING)";
      continue;
    }
    const Value& a = args[next++];
    bool ok = v == 'v' || (v == 's' && a.type == Type::kString) || (v == 'd' && a.type == Type::kInt);
    if (ok) out += GoValue(a);
    else out += std::string("%!") + v + "(" + TypeName(a.type) + "=" + GoValue(a) + ")";
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k) {
      if (k > next) out += ", ";
      out += std::string(TypeName(args[k].type)) + "=" + GoValue(args[k]);
    }
    out += ")";
  }
  return out;
}

// The largest n' <= n that does not split a UTF-8 sequence of s.
size_t Utf8Cut(const std::string& s, size_t n) {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// ---- Lexer and parser for the text inside one action. ----

class ActionParser {
 public:
  // `src` is the whole template; parsing starts at `pos` (just after "{{" and
  // any trim marker) and stops after the closing "}}".
  ActionParser(std::string_view src, size_t pos) : src_(src), pos_(pos) {}

  size_t pos() const { return pos_; }
  bool trim_right() const { return trim_right_; }

  Result<Pipeline> ParseAction() {
    SB_ASSIGN_OR_RETURN(Pipeline p, ParsePipeline(0));
    SkipSpace();
    if (Peek("-}}") && pos_ > 0 && IsSpace(src_[pos_ - 1])) {
      trim_right_ = true;
      pos_ += 3;
      return p;
    }
    if (Peek("}}")) {
      pos_ += 2;
      return p;
    }
    if (pos_ >= src_.size()) return Error("unclosed action");
    if (src_[pos_] == ')') return Error("unexpected right paren");
    return Error("unexpected " + Describe());
  }

  Status Error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return InvalidArgument("template:" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }

 private:
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
  static bool IsIdent(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
  bool Peek(std::string_view s) const { return src_.substr(pos_, s.size()) == s; }
  void SkipSpace() {
    while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
  }
  // At the end of a command: '|', ')', "}}" or " -}}".
  bool AtCommandEnd() {
    SkipSpace();
    return pos_ >= src_.size() || src_[pos_] == '|' || src_[pos_] == ')' || Peek("}}") ||
           (Peek("-}}") && pos_ > 0 && IsSpace(src_[pos_ - 1]));
  }
  std::string Describe() const {
    if (pos_ >= src_.size()) return "end of template";
    std::string_view rest = src_.substr(pos_, 12);
    return "\"" + std::string(rest) + "\"";
  }

  Result<Pipeline> ParsePipeline(size_t depth) {
    if (depth > kMaxDepth) return Error("nesting too deep");
    Pipeline p;
    SkipSpace();
    if (Peek("$")) return Error("variables are not supported");
    while (true) {
      SB_ASSIGN_OR_RETURN(Command c, ParseCommand(depth, !p.cmds.empty()));
      SB_ASSIGN_OR_RETURN(Type t, CheckCommand(c, !p.cmds.empty(), p.type));
      p.type = t;
      p.cmds.push_back(std::move(c));
      SkipSpace();
      if (pos_ < src_.size() && src_[pos_] == '|') {
        ++pos_;
        continue;
      }
      return p;
    }
  }

  Result<Command> ParseCommand(size_t depth, bool piped) {
    Command c;
    while (!AtCommandEnd()) {
      SB_ASSIGN_OR_RETURN(Operand o, ParseOperand(depth));
      c.words.push_back(std::move(o));
    }
    if (c.words.empty()) return Error(piped ? "missing command after '|'" : "missing value for command");
    return c;
  }

  // Types the command and checks arity and argument types. `in` is the type
  // of the piped value when `piped`.
  Result<Type> CheckCommand(const Command& c, bool piped, Type in) {
    const Operand& head = c.words[0];
    if (head.kind != Operand::Kind::kFunc) {
      if (c.words.size() > 1 || piped) return Error("can't give argument to non-function");
      if (head.kind == Operand::Kind::kInt) return Type::kInt;
      if (head.kind == Operand::Kind::kSub) return head.sub->type;
      return Type::kString;
    }
    const Func& f = Funcs().find(head.text)->second;
    std::vector<Type> args;
    for (size_t i = 1; i < c.words.size(); ++i) {
      const Operand& o = c.words[i];
      if (o.kind == Operand::Kind::kFunc && Funcs().at(o.text).params.size() > 0)
        return Error("function \"" + o.text + "\" needs arguments: use parentheses, (" + o.text + " ...)");
      args.push_back(o.kind == Operand::Kind::kInt ? Type::kInt
                     : o.kind == Operand::Kind::kSub ? o.sub->type
                                                      : Type::kString);
    }
    if (piped) args.push_back(in);
    const size_t want = f.params.size();
    if (args.size() < want || (!f.variadic && args.size() > want))
      return Error("wrong number of args for " + head.text + ": want " + std::to_string(want) + (f.variadic ? "+" : "") +
                   " got " + std::to_string(args.size()));
    for (size_t i = 0; i < want; ++i)
      if (args[i] != f.params[i])
        return Error("wrong type for argument " + std::to_string(i + 1) + " of " + head.text + ": expected " +
                     TypeName(f.params[i]) + "; got " + TypeName(args[i]));
    if (head.text == "printf" && c.words.size() > 1 && c.words[1].kind == Operand::Kind::kString) {
      Status s = CheckFormat(c.words[1].text);
      if (!s.ok()) return Error(s.message());
    }
    return Type::kString;
  }

  Result<Operand> ParseOperand(size_t depth) {
    Operand o;
    const char c = src_[pos_];
    if (c == '(') {
      ++pos_;
      SB_ASSIGN_OR_RETURN(Pipeline p, ParsePipeline(depth + 1));
      SkipSpace();
      if (pos_ >= src_.size() || src_[pos_] != ')') return Error("unclosed left paren");
      ++pos_;
      o.kind = Operand::Kind::kSub;
      o.sub = std::make_shared<Pipeline>(std::move(p));
      return o;
    }
    if (c == '"') return ParseQuoted();
    if (c == '`') {
      size_t end = src_.find('`', pos_ + 1);
      if (end == std::string_view::npos) return Error("unterminated raw quoted string");
      o.kind = Operand::Kind::kString;
      o.text = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return o;
    }
    if (c == '.') {
      size_t b = ++pos_;
      while (pos_ < src_.size() && IsIdent(src_[pos_])) ++pos_;
      std::string name(src_.substr(b, pos_ - b));
      if (name.empty()) return Error("the dot alone has no value here: use .DisplayName or .RoleName");
      if (pos_ < src_.size() && src_[pos_] == '.') return Error("field chains are not supported");
      if (name != "DisplayName" && name != "RoleName") {
        pos_ = b - 1;
        return Error("can't evaluate field " + name + " (available: .DisplayName, .RoleName)");
      }
      o.kind = Operand::Kind::kField;
      o.text = name;
      return o;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && pos_ + 1 < src_.size() &&
                                                        std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      size_t b = pos_;
      if (c == '-' || c == '+') ++pos_;
      while (pos_ < src_.size() && std::isalnum(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      std::string num(src_.substr(b, pos_ - b));
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(num.c_str(), &end, 0);
      if (errno != 0 || end == nullptr || *end != '\0') return Error("bad number syntax: " + num);
      o.kind = Operand::Kind::kInt;
      o.num = v;
      return o;
    }
    if (IsIdentStart(c)) {
      size_t b = pos_;
      while (pos_ < src_.size() && IsIdent(src_[pos_])) ++pos_;
      std::string name(src_.substr(b, pos_ - b));
      static const char* kKeywords[] = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
                                        "continue", "nil", "true", "false"};
      for (const char* k : kKeywords)
        if (name == k) {
          pos_ = b;
          return Error("\"" + name + "\" is not supported in username templates");
        }
      if (!Funcs().count(name)) {
        pos_ = b;
        return Error("function \"" + name + "\" not defined");
      }
      o.kind = Operand::Kind::kFunc;
      o.text = name;
      return o;
    }
    if (c == '$') return Error("variables are not supported");
    if (c == '\'') return Error("character constants are not supported");
    return Error("unexpected " + Describe() + " in command");
  }

  Result<Operand> ParseQuoted() {
    Operand o;
    o.kind = Operand::Kind::kString;
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') return Error("unterminated quoted string");
      char c = src_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= src_.size()) return Error("unterminated quoted string");
      auto taken = AppendGoEscape(src_.substr(pos_), out, ByteEscapes::kAllowed);
      if (!taken.ok()) return Error(taken.status().message());
      pos_ += *taken;
    }
    o.text = std::move(out);
    return o;
  }

  std::string_view src_;
  size_t pos_;
  bool trim_right_ = false;
};

// ---- Evaluation ----

struct EvalCtx {
  const UsernameMetadata& md;
  const TemplateEnv& env;
  int64_t nanos;
};

Result<Value> EvalPipeline(const Pipeline& p, const EvalCtx& ctx);

Result<Value> EvalOperand(const Operand& o, const EvalCtx& ctx);

Value Str(std::string s) {
  Value v;
  v.s = std::move(s);
  return v;
}

Result<Value> Call(const std::string& name, const std::vector<Value>& a, const EvalCtx& ctx) {
  if (name == "printf") return Str(Sprintf(a[0].s, std::vector<Value>(a.begin() + 1, a.end())));
  if (name == "truncate") {
    if (a[0].i <= 0) return InvalidArgument("truncate: max length must be > 0 but was " + std::to_string(a[0].i));
    const std::string& s = a[1].s;
    if (static_cast<uint64_t>(a[0].i) >= s.size()) return Str(s);
    return Str(s.substr(0, Utf8Cut(s, static_cast<size_t>(a[0].i))));
  }
  if (name == "truncate_sha256") {
    if (a[0].i <= 8) return InvalidArgument("truncate_sha256: max length must be > 8 but was " + std::to_string(a[0].i));
    const std::string& s = a[1].s;
    if (static_cast<uint64_t>(a[0].i) >= s.size()) return Str(s);
    size_t cut = Utf8Cut(s, static_cast<size_t>(a[0].i) - 8);
    return Str(s.substr(0, cut) + crypto::HexEncode(crypto::Sha256(s.substr(cut))).substr(0, 8));
  }
  if (name == "uppercase" || name == "lowercase") {
    std::string s = a[0].s;
    for (char& c : s) c = static_cast<char>(name == "uppercase" ? std::toupper(static_cast<unsigned char>(c))
                                                                : std::tolower(static_cast<unsigned char>(c)));
    return Str(s);
  }
  if (name == "replace") {
    const std::string &from = a[0].s, &to = a[1].s;
    std::string s = a[2].s;
    if (from.empty()) {  // Go's ReplaceAll with "" inserts `to` around every character
      std::string out = to;
      for (size_t i = 0; i < s.size();) {
        size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
        out += s.substr(i, n) + to;
        i += n;
        if (out.size() > kMaxOutput) return InvalidArgument("replace: result too large");
      }
      return Str(out);
    }
    std::string out;
    size_t pos = 0, hit;
    while ((hit = s.find(from, pos)) != std::string::npos) {
      out += s.substr(pos, hit - pos) + to;
      pos = hit + from.size();
      if (out.size() > kMaxOutput) return InvalidArgument("replace: result too large");
    }
    return Str(out + s.substr(pos));
  }
  if (name == "sha256") return Str(crypto::HexEncode(crypto::Sha256(a[0].s)));
  if (name == "base64") return Str(crypto::Base64Encode(a[0].s));
  if (name == "random") {
    if (a[0].i < 1 || a[0].i > kMaxRandom)
      return InvalidArgument("random: length must be between 1 and " + std::to_string(kMaxRandom) + " but was " +
                             std::to_string(a[0].i));
    size_t n = static_cast<size_t>(a[0].i);
    return Str(ctx.env.random ? ctx.env.random(n) : crypto::RandomBase62(n));
  }
  if (name == "unix_time") return Str(std::to_string(ctx.nanos / 1000000000));
  if (name == "unix_time_millis") return Str(std::to_string(ctx.nanos / 1000000));
  if (name == "timestamp") return Str(FormatGoLayout(ctx.nanos, a[0].s));
  if (name == "uuid") return Str(ctx.env.uuid ? ctx.env.uuid() : crypto::Uuid());
  return InvalidArgument("function \"" + name + "\" not defined");
}

Result<Value> EvalOperand(const Operand& o, const EvalCtx& ctx) {
  switch (o.kind) {
    case Operand::Kind::kField: return Str(o.text == "DisplayName" ? ctx.md.display_name : ctx.md.role_name);
    case Operand::Kind::kString: return Str(o.text);
    case Operand::Kind::kInt: {
      Value v;
      v.type = Type::kInt;
      v.i = o.num;
      return v;
    }
    case Operand::Kind::kFunc: return Call(o.text, {}, ctx);
    case Operand::Kind::kSub: return EvalPipeline(*o.sub, ctx);
  }
  return InvalidArgument("bad operand");
}

Result<Value> EvalPipeline(const Pipeline& p, const EvalCtx& ctx) {
  Value piped;
  bool has_piped = false;
  for (const Command& c : p.cmds) {
    const Operand& head = c.words[0];
    if (head.kind != Operand::Kind::kFunc) {
      SB_ASSIGN_OR_RETURN(piped, EvalOperand(head, ctx));
    } else {
      std::vector<Value> args;
      for (size_t i = 1; i < c.words.size(); ++i) {
        SB_ASSIGN_OR_RETURN(Value v, EvalOperand(c.words[i], ctx));
        args.push_back(std::move(v));
      }
      if (has_piped) args.push_back(std::move(piped));
      SB_ASSIGN_OR_RETURN(piped, Call(head.text, args, ctx));
    }
    if (piped.s.size() > kMaxOutput) return InvalidArgument("template output too large");
    has_piped = true;
  }
  return piped;
}

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

struct UsernameTemplate::Node {
  std::vector<std::variant<std::string, Pipeline>> parts;
};

Result<UsernameTemplate> UsernameTemplate::Parse(std::string_view text) {
  if (text.size() > kMaxTemplateSize) return InvalidArgument("template: too long (limit 4096 bytes)");
  auto node = std::make_shared<Node>();
  size_t pos = 0;
  bool trim_next = false;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    std::string literal(text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (trim_next) {
      size_t b = 0;
      while (b < literal.size() && IsSpaceChar(literal[b])) ++b;
      literal.erase(0, b);
    }
    trim_next = false;
    size_t start = open == std::string_view::npos ? text.size() : open + 2;
    // "{{- " trims the whitespace before the action.
    bool trim_left = open != std::string_view::npos && start + 1 < text.size() && text[start] == '-' &&
                     IsSpaceChar(text[start + 1]);
    if (trim_left)
      while (!literal.empty() && IsSpaceChar(literal.back())) literal.pop_back();
    if (!literal.empty()) node->parts.emplace_back(std::move(literal));
    if (open == std::string_view::npos) break;
    if (trim_left) start += 2;
    // Comments: {{/* ... */}}, with optional trim markers around them.
    size_t c = start;
    while (c < text.size() && IsSpaceChar(text[c]) && trim_left) ++c;
    if (text.substr(c, 2) == "/*") {
      size_t end = text.find("*/", c + 2);
      if (end == std::string_view::npos) return InvalidArgument("template: unclosed comment");
      size_t after = end + 2;
      if (text.substr(after, 2) == "}}") {
        pos = after + 2;
        continue;
      }
      if (text.substr(after, 4) == " -}}") {
        pos = after + 4;
        trim_next = true;
        continue;
      }
      return InvalidArgument("template: comment ends before closing delimiter");
    }
    ActionParser ap(text, start);
    SB_ASSIGN_OR_RETURN(Pipeline p, ap.ParseAction());
    node->parts.emplace_back(std::move(p));
    pos = ap.pos();
    trim_next = ap.trim_right();
  }
  UsernameTemplate t;
  t.root_ = std::move(node);
  return t;
}

Result<std::string> UsernameTemplate::Render(const UsernameMetadata& md, const TemplateEnv& env) const {
  int64_t nanos = env.unix_nanos;
  if (nanos < 0)
    nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  EvalCtx ctx{md, env, nanos};
  std::string out;
  for (const auto& part : root_->parts) {
    if (const auto* s = std::get_if<std::string>(&part)) {
      out += *s;
    } else {
      SB_ASSIGN_OR_RETURN(Value v, EvalPipeline(std::get<Pipeline>(part), ctx));
      out += GoValue(v);
    }
    if (out.size() > kMaxOutput) return InvalidArgument("template output too large");
  }
  return out;
}

}  // namespace sealbox::engines::database
