#include "core/password_policy.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "base/crypto.h"
#include "base/hcl.h"
#include "base/json_util.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

constexpr size_t kMaxPolicySize = 64 * 1024;

std::string Short(std::string_view key) {
  std::string s(key.substr(0, 32));
  return "\"" + s + (key.size() > 32 ? "...\"" : "\"");
}

// Splits UTF-8 text into code points (one string each). Invalid UTF-8 is an
// error; so are control characters (C0, DEL, C1), which no password should hold.
Result<std::vector<std::string>> SplitChars(std::string_view s, const std::string& where) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return InvalidArgument(where + ": invalid UTF-8 in charset");
    uint32_t cp = n == 1 ? c : (c & (0x7F >> n));
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return InvalidArgument(where + ": invalid UTF-8 in charset");
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return InvalidArgument(where + ": non-printable character in charset");
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// Appends the characters of `chars` not yet in `seen` to `dst`.
void AddDistinct(const std::vector<std::string>& chars, std::set<std::string>& seen, std::vector<std::string>& dst) {
  for (const auto& ch : chars)
    if (seen.insert(ch).second) dst.push_back(ch);
}

Result<Json> ParseText(std::string_view text) {
  if (text.size() > kMaxPolicySize) return InvalidArgument("policy too large (limit 64 KiB)");
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && text[i] == '{') {  // the JSON form
    JsonLimits limits;
    limits.max_depth = 16;
    limits.max_strings = 4096;
    auto j = ParseJsonBounded(text, limits);
    if (j.ok()) return j;
  }
  hcl::Limits limits;
  limits.max_depth = 16;
  return hcl::Parse(text, limits, hcl::Blocks::kList);
}

// One charset rule body: {"charset": "...", "min-chars": N}.
Result<PasswordPolicy::Rule> ParseCharsetRule(const Json& body, const std::string& where) {
  if (!body.is_object()) return InvalidArgument(where + ": must be a block");
  PasswordPolicy::Rule rule;
  bool have_charset = false;
  for (const auto& [k, v] : body.items()) {
    if (k == "charset") {
      if (!v.is_string()) return InvalidArgument(where + ": charset must be a string");
      SB_ASSIGN_OR_RETURN(auto chars, SplitChars(v.get<std::string>(), where));
      std::set<std::string> seen;
      AddDistinct(chars, seen, rule.charset);
      have_charset = true;
    } else if (k == "min-chars") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n < 0) return InvalidArgument(where + ": min-chars must be a non-negative integer");
      rule.min_chars = *n;
    } else {
      return InvalidArgument(where + ": unknown key " + Short(k) + " (expected charset, min-chars)");
    }
  }
  if (!have_charset || rule.charset.empty()) return InvalidArgument(where + ": charset must not be empty");
  return rule;
}

}  // namespace

Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text) {
  auto parsed = ParseText(text);
  if (!parsed.ok()) return InvalidArgument("unable to parse policy: " + parsed.status().message());
  const Json& doc = *parsed;
  if (!doc.is_object()) return InvalidArgument("policy must be an object");

  PasswordPolicy p;
  std::set<std::string> seen;
  bool have_length = false;
  for (const auto& [key, v] : doc.items()) {
    if (key == "length") {
      auto n = JsonToInt(v);
      if (!n.ok()) return InvalidArgument("length must be an integer");
      p.length = *n;
      have_length = true;
    } else if (key == "charset") {
      if (!v.is_string()) return InvalidArgument("charset must be a string");
      SB_ASSIGN_OR_RETURN(auto chars, SplitChars(v.get<std::string>(), "charset"));
      AddDistinct(chars, seen, p.charset);
    } else if (key == "rule") {
      // HCL: [{"charset": {...}}, ...]; JSON may also say {"charset": {...}}
      // or {"charset": [{...}, {...}]}.
      std::vector<Json> entries;
      if (v.is_array()) entries.assign(v.begin(), v.end());
      else entries.push_back(v);
      for (const Json& e : entries) {
        if (!e.is_object()) return InvalidArgument("rule must be a block: rule \"charset\" { ... }");
        for (const auto& [type, bodies] : e.items()) {
          if (type != "charset") return InvalidArgument("unrecognized rule type " + Short(type));
          std::vector<Json> list;
          if (bodies.is_array()) list.assign(bodies.begin(), bodies.end());
          else list.push_back(bodies);
          for (const Json& body : list) {
            std::string where = "rule \"charset\" #" + std::to_string(p.rules.size() + 1);
            SB_ASSIGN_OR_RETURN(auto rule, ParseCharsetRule(body, where));
            p.rules.push_back(std::move(rule));
          }
        }
      }
    } else {
      return InvalidArgument("unknown key " + Short(key) + " (expected length, rule, charset)");
    }
  }
  if (!have_length || p.length < kMinPasswordLength || p.length > kMaxPasswordLength)
    return InvalidArgument("passwords must be between " + std::to_string(kMinPasswordLength) + " and " +
                           std::to_string(kMaxPasswordLength) + " characters");
  for (const auto& r : p.rules) AddDistinct(r.charset, seen, p.charset);
  if (p.charset.empty()) return InvalidArgument("no charset specified: add at least one rule \"charset\" block");
  int64_t min_total = 0;
  for (const auto& r : p.rules) min_total += std::min<int64_t>(r.min_chars, kMaxPasswordLength + 1);
  if (min_total > p.length)
    return InvalidArgument("specified rules require at least " + std::to_string(min_total) + " characters but " +
                           std::to_string(p.length) + " is specified");
  return p;
}

uint64_t UniformRandom(uint64_t n) {
  // Accept r only below the largest multiple of n that fits in 2^32, so every
  // residue is equally likely; fewer than half the draws are rejected.
  const uint64_t range = uint64_t{1} << 32;
  const uint64_t limit = range - (range % n);
  while (true) {
    uint32_t r = 0;
    crypto::RandomFill(reinterpret_cast<uint8_t*>(&r), sizeof r);
    if (r < limit) return r % n;
  }
}

std::string GeneratePassword(const PasswordPolicy& policy) {
  // Indices into the charsets, not characters, until the final join; wiped.
  std::vector<const std::string*> picks;
  picks.reserve(static_cast<size_t>(policy.length));
  for (const auto& r : policy.rules)
    for (int64_t i = 0; i < r.min_chars; ++i) picks.push_back(&r.charset[UniformRandom(r.charset.size())]);
  while (static_cast<int64_t>(picks.size()) < policy.length)
    picks.push_back(&policy.charset[UniformRandom(policy.charset.size())]);
  for (size_t i = picks.size(); i > 1; --i) std::swap(picks[i - 1], picks[UniformRandom(i)]);
  std::string out;
  out.reserve(picks.size() * 4);
  for (const std::string* ch : picks) out += *ch;
  OPENSSL_cleanse(picks.data(), picks.size() * sizeof(picks[0]));
  return out;
}

Status PasswordPolicyStore::Put(const std::string& name, const std::string& text) {
  SB_RETURN_IF_ERROR(ParsePasswordPolicy(text).status());
  return view_->Put(name, Json{{"policy", text}}.dump());
}

Result<std::optional<std::string>> PasswordPolicyStore::Get(const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get(name));
  if (!raw) return std::optional<std::string>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("policy") || !j["policy"].is_string())
    return Corruption("password policy entry malformed");
  return std::optional<std::string>(j["policy"].get<std::string>());
}

Status PasswordPolicyStore::Delete(const std::string& name) { return view_->Delete(name); }

Result<std::vector<std::string>> PasswordPolicyStore::List() { return view_->List(""); }

Result<std::string> PasswordPolicyStore::Generate(const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto text, Get(name));
  if (!text) return NotFound("password policy \"" + name + "\" does not exist");
  SB_ASSIGN_OR_RETURN(auto policy, ParsePasswordPolicy(*text));
  return GeneratePassword(policy);
}

}  // namespace sealbox::core
