#include "audit/audit_filter.h"

#include <cctype>

namespace sealbox::audit {

struct AuditFilter::Node {
  enum class Kind { kAnd, kOr, kNot, kEquals, kNotEquals, kMatches } kind;
  std::unique_ptr<Node> left, right;  // kAnd/kOr both, kNot left
  std::string field, value;           // comparisons
  std::regex re;                      // kMatches
  bool negate = false;                // "not matches"
};

namespace {

using Node = AuditFilter::Node;

const char* const kFields[] = {"operation", "path", "mount_point", "mount_type", "mount_class", "namespace"};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::unique_ptr<Node>> Parse() {
    SB_ASSIGN_OR_RETURN(auto n, Or());
    Skip();
    if (pos_ != s_.size()) return Error("unexpected text");
    return n;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("invalid filter at position " + std::to_string(pos_) + ": " + what);
  }
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  // Consumes `word` when it is next as a whole word (or as a symbol).
  bool Accept(std::string_view word) {
    Skip();
    if (s_.substr(pos_, word.size()) != word) return false;
    size_t end = pos_ + word.size();
    bool alpha = std::isalpha(static_cast<unsigned char>(word[0]));
    if (alpha && end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_'))
      return false;
    pos_ = end;
    return true;
  }

  Result<std::unique_ptr<Node>> Or() {
    SB_ASSIGN_OR_RETURN(auto left, And());
    while (Accept("or")) {
      SB_ASSIGN_OR_RETURN(auto right, And());
      left = Combine(Node::Kind::kOr, std::move(left), std::move(right));
    }
    return left;
  }
  Result<std::unique_ptr<Node>> And() {
    SB_ASSIGN_OR_RETURN(auto left, Unary());
    while (Accept("and")) {
      SB_ASSIGN_OR_RETURN(auto right, Unary());
      left = Combine(Node::Kind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }
  static std::unique_ptr<Node> Combine(Node::Kind k, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }
  Result<std::unique_ptr<Node>> Unary() {
    if (++depth_ > 64) return Error("nested too deeply");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    if (Accept("not")) {
      SB_ASSIGN_OR_RETURN(auto inner, Unary());
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kNot;
      n->left = std::move(inner);
      return n;
    }
    if (Accept("(")) {
      SB_ASSIGN_OR_RETURN(auto inner, Or());
      if (!Accept(")")) return Error("expected )");
      return inner;
    }
    return Comparison();
  }
  Result<std::unique_ptr<Node>> Comparison() {
    Skip();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    std::string field(s_.substr(start, pos_ - start));
    bool known = false;
    for (const char* f : kFields) known = known || field == f;
    if (!known) {
      pos_ = start;
      return Error("expected a field (operation, path, mount_point, mount_type, mount_class, namespace)");
    }
    auto n = std::make_unique<Node>();
    n->field = field;
    if (Accept("==")) {
      n->kind = Node::Kind::kEquals;
    } else if (Accept("!=")) {
      n->kind = Node::Kind::kNotEquals;
    } else if (Accept("not")) {
      if (!Accept("matches")) return Error("expected matches");
      n->kind = Node::Kind::kMatches;
      n->negate = true;
    } else if (Accept("matches")) {
      n->kind = Node::Kind::kMatches;
    } else {
      return Error("expected ==, !=, matches or not matches");
    }
    SB_ASSIGN_OR_RETURN(n->value, String());
    if (n->kind == Node::Kind::kMatches) {
      try {
        n->re = std::regex(n->value, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error&) {
        return Error("invalid regular expression");
      }
    }
    return n;
  }
  Result<std::string> String() {
    Skip();
    if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a quoted string");
    std::string out;
    for (++pos_; pos_ < s_.size(); ++pos_) {
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\' && pos_ + 1 < s_.size()) c = s_[++pos_];
      out += c;
    }
    return Error("unterminated string");
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

std::string_view FieldValue(const FilterFields& f, const std::string& name) {
  if (name == "operation") return f.operation;
  if (name == "path") return f.path;
  if (name == "mount_point") return f.mount_point;
  if (name == "mount_type") return f.mount_type;
  if (name == "mount_class") return f.mount_class;
  return "root";  // namespace
}

bool Eval(const Node& n, const FilterFields& f) {
  switch (n.kind) {
    case Node::Kind::kAnd: return Eval(*n.left, f) && Eval(*n.right, f);
    case Node::Kind::kOr: return Eval(*n.left, f) || Eval(*n.right, f);
    case Node::Kind::kNot: return !Eval(*n.left, f);
    case Node::Kind::kEquals: return FieldValue(f, n.field) == n.value;
    case Node::Kind::kNotEquals: return FieldValue(f, n.field) != n.value;
    case Node::Kind::kMatches: {
      std::string_view v = FieldValue(f, n.field);
      bool m = std::regex_search(v.begin(), v.end(), n.re);
      return n.negate ? !m : m;
    }
  }
  return true;
}

}  // namespace

AuditFilter::~AuditFilter() = default;

Result<std::shared_ptr<const AuditFilter>> AuditFilter::Parse(std::string_view expression) {
  if (expression.size() > 4096) return InvalidArgument("invalid filter: longer than 4096 characters");
  Parser p(expression);
  SB_ASSIGN_OR_RETURN(auto root, p.Parse());
  std::shared_ptr<AuditFilter> f(new AuditFilter());
  f->root_ = std::move(root);
  return std::shared_ptr<const AuditFilter>(std::move(f));
}

bool AuditFilter::Matches(const FilterFields& fields) const { return !root_ || Eval(*root_, fields); }

}  // namespace sealbox::audit
