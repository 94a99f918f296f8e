#include "auth/token_backend.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "auth/policy.h"
#include "base/log.h"
#include "base/saturating.h"

namespace sealbox::auth {

using logical::FieldSpec;
using logical::FieldType;
using logical::Operation;

namespace {

constexpr int64_t kSystemDefaultTtl = 768 * 3600;  // when no MountView is given
constexpr size_t kMaxMetadataBytes = 512 * 1024;   // Vault's documented token metadata limit
// Vault's word, not "Sealbox's": clients and runbooks match this text.
constexpr const char* kTidyStartedWarning =
    "Tidy operation successfully started. Any information from the operation will be printed to Vault's server "
    "logs.";

// ---- small helpers (Vault's strutil / go-glob) ----

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ryanuber/go-glob: '*' matches any run of characters, nothing else is special.
bool GlobMatch(std::string_view pattern, std::string_view subj) {
  if (pattern.empty()) return subj.empty();
  if (pattern == "*") return true;
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t star = pattern.find('*', start);
    parts.push_back(pattern.substr(start, star == std::string_view::npos ? std::string_view::npos : star - start));
    if (star == std::string_view::npos) break;
    start = star + 1;
  }
  if (parts.size() == 1) return subj == pattern;
  const bool leading = pattern.front() == '*';
  const bool trailing = pattern.back() == '*';
  const size_t end = parts.size() - 1;
  for (size_t i = 0; i < end; ++i) {
    size_t idx = subj.find(parts[i]);
    if (i == 0) {
      if (!leading && idx != 0) return false;
    } else if (idx == std::string_view::npos) {
      return false;
    }
    subj.remove_prefix(idx + parts[i].size());
  }
  return trailing || (subj.size() >= parts[end].size() && subj.substr(subj.size() - parts[end].size()) == parts[end]);
}

bool ContainsGlob(const std::vector<std::string>& globs, std::string_view s) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return GlobMatch(g, s); });
}

// strutil.RemoveDuplicates(items, lowercase=true).
std::vector<std::string> RemoveDuplicatesLower(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    std::string n = NormalizePolicyName(s);
    if (!n.empty()) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Go's %q of a []string: ["a" "b"].
std::string QuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " \"" : "\"") + v[i] + "\"";
  return out + "]";
}

// "token-" + name with [^a-zA-Z0-9-] replaced by '-' (one per UTF-8
// character, as Go's regexp works on runes) and one trailing '-' trimmed.
std::string SanitizeDisplayName(const std::string& name) {
  std::string full = "token-";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-') {
      full.push_back(static_cast<char>(c));
    } else if ((c & 0xC0) != 0x80) {  // skip UTF-8 continuation bytes
      full.push_back('-');
    }
  }
  if (!full.empty() && full.back() == '-') full.pop_back();
  return full;
}

// Vault's framework.GenericNameRegex: \w(([\w-.]+)?\w)?
bool ValidRoleName(std::string_view n) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (n.empty() || !word(n.front()) || !word(n.back())) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return word(c) || c == '-' || c == '.'; });
}

// pathSuffixSanitize = \w[\w-.]+\w, unanchored as Vault uses it (MatchString).
bool PathSuffixMatches(const std::string& s) {
  static const std::regex kRe(R"(\w[\w\-.]+\w)");
  return std::regex_search(s, kRe);
}

// A duration field the caller set to something non-empty, in seconds.
Result<std::optional<int64_t>> OptDuration(const logical::FieldData& fd, const std::string& name) {
  if (!fd.Has(name)) return std::optional<int64_t>();
  const Json& v = fd.Get(name);
  if (v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty())) return std::optional<int64_t>();
  SB_ASSIGN_OR_RETURN(int64_t s, fd.GetDuration(name));
  return std::optional<int64_t>(s);
}

// `meta` (or `metadata`) as a string map, or null when absent.
Result<Json> ParseMeta(const logical::FieldData& fd) {
  const char* key = fd.Has("meta") ? "meta" : fd.Has("metadata") ? "metadata" : nullptr;
  if (!key) return Json(nullptr);
  SB_ASSIGN_OR_RETURN(Json m, fd.GetMap(key));
  if (m.is_null()) return m;
  Json out = Json::object();
  for (auto& [k, v] : m.items()) {
    if (v.is_null()) {
      out[k] = "";
      continue;
    }
    auto s = JsonToString(v);
    if (!s.ok() || v.is_object() || v.is_array())
      return InvalidArgument("Error decoding request: metadata values must be strings");
    out[k] = *s;
  }
  if (out.dump().size() > kMaxMetadataBytes) return InvalidArgument("token metadata is too large");
  return out;
}

Json KeysData(std::vector<std::string> keys) { return Json{{"keys", std::move(keys)}}; }

// Vault's framework.humanDuration: Go's Duration.String without the zero
// units it ends in ("3h0m0s" -> "3h", "1h30m0s" -> "1h30m"), as its TTL
// warnings print durations.
std::string HumanDuration(int64_t seconds) {
  std::string s = GoDurationString(seconds);
  if (s.size() > 3 && s.ends_with("m0s")) s.resize(s.size() - 2);
  if (size_t h = s.find("h0m"); h != std::string::npos && h > 0) s.erase(h + 1, 2);
  return s;
}

// The lesser of the caller's value and the role's (0: not set); Vault warns
// when both are set.
int64_t LesserWithRole(int64_t asked, int64_t role_value, const std::string& what,
                       std::vector<std::string>* warnings) {
  if (role_value == 0) return asked;
  if (asked == 0) return role_value;
  int64_t lesser = std::min(asked, role_value);
  warnings->push_back(what + " specified both during creation call and in role; using the lesser value of " +
                      std::to_string(lesser) + " seconds");
  return lesser;
}

const std::vector<FieldSpec>& CreateFields() {
  static const std::vector<FieldSpec> kFields = {
      {"role_name", FieldType::kString},      {"display_name", FieldType::kString},
      {"explicit_max_ttl", FieldType::kDuration}, {"entity_alias", FieldType::kString},
      {"num_uses", FieldType::kInt},          {"period", FieldType::kDuration},
      {"renewable", FieldType::kBool},        {"ttl", FieldType::kDuration},
      {"lease", FieldType::kDuration},        {"type", FieldType::kString},
      {"no_default_policy", FieldType::kBool}, {"id", FieldType::kString},
      {"meta", FieldType::kMap},              {"metadata", FieldType::kMap},
      {"no_parent", FieldType::kBool},        {"policies", FieldType::kStringList},
      {"format", FieldType::kString}};
  return kFields;
}

}  // namespace

// ---- exported helpers ----

std::vector<std::string> SanitizePolicies(const std::vector<std::string>& in, bool add_default) {
  std::vector<std::string> out;
  bool default_found = false;
  for (const auto& p : in) {
    std::string n = NormalizePolicyName(p);
    if (n.empty()) continue;
    // "root" swallows every other policy (and never gets "default").
    if (n == "root") return {"root"};
    if (n == "default") default_found = true;
    out.push_back(std::move(n));
  }
  if (add_default && !default_found) out.emplace_back("default");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<int64_t> CalculateTtl(int64_t sys_default, int64_t sys_max, int64_t increment, int64_t backend_ttl,
                             int64_t period, int64_t backend_max, int64_t explicit_max, int64_t start_nanos,
                             int64_t now_nanos, std::vector<std::string>* warnings) {
  int64_t max_ttl = sys_max;
  if (backend_max > 0 && (max_ttl <= 0 || backend_max < max_ttl)) max_ttl = backend_max;
  if (explicit_max > 0 && (max_ttl <= 0 || explicit_max < max_ttl)) max_ttl = explicit_max;
  if (max_ttl <= 0) return Internal("max TTL must be greater than zero");
  if (start_nanos == 0) start_nanos = now_nanos;

  int64_t ttl = 0;
  int64_t max_valid_time = 0;  // nanos; 0 = unbounded
  if (period > 0) {
    if (period > max_ttl) {
      warnings->push_back("period of \"" + HumanDuration(period) + "\" exceeded the effective max_ttl of \"" +
                          HumanDuration(max_ttl) + "\"; period value is capped accordingly");
      period = max_ttl;
    }
    ttl = period;
    if (explicit_max > 0) max_valid_time = AddSeconds(start_nanos, explicit_max);
  } else {
    ttl = increment > 0 ? increment : backend_ttl > 0 ? backend_ttl : sys_default;
    max_valid_time = AddSeconds(start_nanos, max_ttl);
  }
  if (max_valid_time != 0) {
    int64_t max_valid = max_valid_time - now_nanos;
    if (max_valid <= 0) return InvalidArgument("past the max TTL, cannot renew");
    if (max_valid < SecondsToNanos(ttl)) {
      int64_t capped = max_valid / kNanosPerSecond;
      warnings->push_back("TTL of \"" + HumanDuration(ttl) + "\" exceeded the effective max_ttl of \"" +
                          HumanDuration(capped) + "\"; TTL value is capped accordingly");
      ttl = capped;
    }
  }
  return ttl;
}

// ---- TokenBackend ----

TokenBackend::TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock,
                           const logical::MountView* mount)
    : tokens_(tokens), policies_(policies), clock_(clock), mount_(mount) {
  using M = Result<Resp> (TokenBackend::*)(Req&, Fd&);
  auto h = [this](M m) { return [this, m](Req& r, Fd& f) { return (this->*m)(r, f); }; };
  auto create = [this](bool orphan) {
    return [this, orphan](Req& r, Fd& f) { return Create(r, f, orphan, nullptr); };
  };
  const std::vector<FieldSpec> token_field = {{"token", FieldType::kString}};
  const std::vector<FieldSpec> renew_fields = {{"token", FieldType::kString}, {"increment", FieldType::kDuration, 0}};
  const std::vector<FieldSpec> accessor_field = {{"accessor", FieldType::kString}};
  const std::vector<FieldSpec> renew_accessor_fields = {{"accessor", FieldType::kString},
                                                        {"increment", FieldType::kDuration, 0}};
  const std::vector<FieldSpec> role_fields = {
      {"role_name", FieldType::kString},
      {"allowed_policies", FieldType::kStringList},
      {"disallowed_policies", FieldType::kStringList},
      {"allowed_policies_glob", FieldType::kStringList},
      {"disallowed_policies_glob", FieldType::kStringList},
      {"orphan", FieldType::kBool},
      {"period", FieldType::kDuration},
      {"path_suffix", FieldType::kString},
      {"explicit_max_ttl", FieldType::kDuration},
      {"renewable", FieldType::kBool, true},
      {"bound_cidrs", FieldType::kStringList},
      {"allowed_entity_aliases", FieldType::kStringList},
      {"token_bound_cidrs", FieldType::kStringList},
      {"token_explicit_max_ttl", FieldType::kDuration},
      {"token_period", FieldType::kDuration},
      {"token_type", FieldType::kString},
      {"token_no_default_policy", FieldType::kBool},
      {"token_num_uses", FieldType::kInt}};

  SetRoutes({
      {.pattern = "create", .fields = CreateFields(), .ops = {{Operation::kUpdate, create(false)}}},
      {.pattern = "create-orphan", .fields = CreateFields(), .ops = {{Operation::kUpdate, create(true)}}},
      {.pattern = "create/{role_name}",
       .fields = CreateFields(),
       .ops = {{Operation::kUpdate, h(&TokenBackend::CreateAgainstRole)}}},
      {.pattern = "lookup-self",
       .fields = token_field,
       .ops = {{Operation::kRead, h(&TokenBackend::LookupSelf)}, {Operation::kUpdate, h(&TokenBackend::LookupSelf)}}},
      {.pattern = "lookup-accessor",
       .fields = accessor_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::LookupAccessor)}}},
      {.pattern = "lookup",
       .fields = token_field,
       .ops = {{Operation::kRead, h(&TokenBackend::Lookup)}, {Operation::kUpdate, h(&TokenBackend::Lookup)}}},
      // Deprecated: the token in the path.
      {.pattern = "lookup/{token:+}", .fields = token_field, .ops = {{Operation::kRead, h(&TokenBackend::Lookup)}}},
      {.pattern = "renew-self", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::RenewSelf)}}},
      {.pattern = "renew-accessor",
       .fields = renew_accessor_fields,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RenewAccessor)}}},
      {.pattern = "renew", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::Renew)}}},
      {.pattern = "renew/{token:+}", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::Renew)}}},
      {.pattern = "revoke-self", .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeSelf)}}},
      {.pattern = "revoke-accessor",
       .fields = accessor_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeAccessor)}}},
      {.pattern = "revoke-orphan", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeOrphan)}}},
      {.pattern = "revoke-orphan/{token:+}",
       .fields = token_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeOrphan)}}},
      {.pattern = "revoke", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::Revoke)}}},
      {.pattern = "revoke/{token:+}", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::Revoke)}}},
      {.pattern = "accessors/", .ops = {{Operation::kList, h(&TokenBackend::ListAccessors)}}},
      {.pattern = "roles/", .ops = {{Operation::kList, h(&TokenBackend::ListRoles)}}},
      {.pattern = "roles/{role_name}",
       .fields = role_fields,
       .ops = {{Operation::kRead, h(&TokenBackend::ReadRole)},
               {Operation::kCreate, h(&TokenBackend::WriteRole)},
               {Operation::kUpdate, h(&TokenBackend::WriteRole)},
               {Operation::kDelete, h(&TokenBackend::DeleteRole)}},
       .exists = [this](Req& r, Fd& f) { return RoleExists(r, f); }},
      {.pattern = "tidy", .ops = {{Operation::kUpdate, h(&TokenBackend::Tidy)}}},
  });
  // Lookups come from the local store (and the entry cache): no thread hop.
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
  // revoke-orphan with the token in the body checks sudo itself (400, as Vault).
  SetSpecialPaths({.root = {"revoke-orphan/*", "accessors*"}, .unauthenticated = {}});
}

Result<TokenEntry> TokenBackend::Caller(const Req& req) {
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(req.client_token, /*include_pending=*/true));
  if (!e) return PermissionDenied();
  return std::move(*e);
}

Result<bool> TokenBackend::HasSudo(const Req& req, const TokenEntry& caller) {
  if (caller.IsRoot()) return true;
  const IdentityContext identity = caller.Identity();
  SB_ASSIGN_OR_RETURN(auto acl, policies_->AclFor(caller.policies, &identity));
  const std::string path = req.original_path.empty() ? req.mount_point + req.path : req.original_path;
  auto caps = acl->Capabilities(path);
  return Contains(caps, "sudo") || Contains(caps, "root");
}

logical::Auth TokenBackend::AuthFor(const TokenEntry& te, const std::string& client_token, int64_t ttl) const {
  logical::Auth a;
  a.client_token = client_token;
  a.accessor = te.accessor;
  a.policies = te.policies;
  a.token_policies = te.policies;
  a.metadata = te.meta;
  a.ttl = ttl;
  a.renewable = te.renewable;
  a.display_name = te.display_name;
  a.num_uses = te.num_uses;
  a.entity_id = te.entity_id;
  a.token_type = te.type;
  a.orphan = te.orphan;
  a.period = te.period;
  a.explicit_max_ttl = te.explicit_max_ttl;
  a.no_default_policy = te.no_default_policy;
  a.bound_cidrs = te.bound_cidrs;
  return a;
}

Json TokenBackend::LookupData(const TokenEntry& e, const std::string& id) const {
  int64_t now = clock_->NowNanos();
  Json d = {{"accessor", e.accessor},
            {"creation_time", e.creation_time},
            {"creation_ttl", e.creation_ttl},
            {"display_name", e.display_name},
            {"entity_id", e.entity_id},
            {"expire_time", nullptr},
            {"explicit_max_ttl", e.explicit_max_ttl},
            {"id", id},
            {"meta", e.meta},
            {"num_uses", e.num_uses},
            {"orphan", e.orphan},
            {"path", e.path},
            {"policies", e.policies},
            {"ttl", 0},
            {"type", e.type}};
  if (e.expire_time_nanos) {
    d["expire_time"] = FormatRfc3339Nano(e.expire_time_nanos);
    d["ttl"] = std::max<int64_t>(0, (e.expire_time_nanos - now) / kNanosPerSecond);
  }
  if (e.issue_time_nanos) {
    // Only tokens with a lease carry issue_time and renewable (root has neither).
    d["issue_time"] = FormatRfc3339Nano(e.issue_time_nanos);
    d["renewable"] = e.renewable && !e.IsBatch();
  }
  if (e.last_renewal_nanos) {
    d["last_renewal_time"] = e.last_renewal_nanos / kNanosPerSecond;
    d["last_renewal"] = FormatRfc3339Nano(e.last_renewal_nanos);
  }
  if (e.period) d["period"] = e.period;
  if (!e.role.empty()) d["role"] = e.role;
  if (!e.bound_cidrs.empty()) d["bound_cidrs"] = e.bound_cidrs;
  return d;
}

// ---- create ----

Result<logical::Response> TokenBackend::CreateAgainstRole(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  std::optional<TokenRole> role;
  if (ValidRoleName(name)) {
    SB_ASSIGN_OR_RETURN(role, tokens_->GetRole(name));
  }
  if (!role) return InvalidArgument("unknown role " + name);
  return Create(req, fd, false, &*role);
}

Result<logical::Response> TokenBackend::Create(Req& req, Fd& fd, bool orphan_path, const TokenRole* role) {
  SB_ASSIGN_OR_RETURN(TokenEntry parent, Caller(req));
  if (parent.IsBatch()) return InvalidArgument("batch tokens cannot create more tokens");
  // A restricted-use token could escape its count through children.
  if (parent.num_uses != 0) return InvalidArgument("restricted use token cannot generate child tokens");
  SB_ASSIGN_OR_RETURN(bool is_sudo, HasSudo(req, parent));

  SB_ASSIGN_OR_RETURN(std::string custom_id, fd.GetString("id"));
  SB_ASSIGN_OR_RETURN(auto req_policies, fd.GetStringList("policies"));
  SB_ASSIGN_OR_RETURN(Json meta, ParseMeta(fd));
  SB_ASSIGN_OR_RETURN(bool no_parent, fd.GetBool("no_parent"));
  SB_ASSIGN_OR_RETURN(bool no_default, fd.GetBool("no_default_policy"));
  SB_ASSIGN_OR_RETURN(auto ttl_opt, OptDuration(fd, "ttl"));
  SB_ASSIGN_OR_RETURN(auto lease_opt, OptDuration(fd, "lease"));
  SB_ASSIGN_OR_RETURN(auto explicit_opt, OptDuration(fd, "explicit_max_ttl"));
  SB_ASSIGN_OR_RETURN(auto period_opt, OptDuration(fd, "period"));
  SB_ASSIGN_OR_RETURN(std::string display_name, fd.GetString("display_name"));
  SB_ASSIGN_OR_RETURN(int64_t num_uses64, fd.GetInt("num_uses"));
  SB_ASSIGN_OR_RETURN(std::string type_str, fd.GetString("type"));
  SB_ASSIGN_OR_RETURN(std::string entity_alias, fd.GetString("entity_alias"));
  bool renewable = true;
  if (fd.Has("renewable") && !fd.Get("renewable").is_null()) {
    SB_ASSIGN_OR_RETURN(renewable, fd.GetBool("renewable"));
  }
  if (num_uses64 > INT32_MAX || num_uses64 < INT32_MIN) return InvalidArgument("number of uses is out of range");
  int num_uses = static_cast<int>(num_uses64);

  // Token type: the role may force it or only supply the default.
  if (role) {
    const std::string& rt = role->token_type;
    if (rt == "default-batch" && type_str.empty()) type_str = "batch";
    else if (rt == "service" || rt == "batch") type_str = rt;
    else if (rt != "default-service" && rt != "default-batch" && !rt.empty())
      return InvalidArgument("role being used for token creation contains invalid token type \"" + rt + "\"");
  }
  bool batch = false;
  if (type_str == "batch") {
    std::string bad;
    if (explicit_opt && *explicit_opt != 0) bad = "explicit_max_ttl";
    else if (num_uses != 0) bad = "num_uses";
    else if (period_opt && *period_opt != 0) bad = "period";
    if (!bad.empty()) return InvalidArgument("batch tokens cannot have \"" + bad + "\" set");
    batch = true;
    renewable = false;
  } else if (!type_str.empty() && type_str != "service") {
    return InvalidArgument("invalid 'token_type' value");
  }
  if (num_uses < 0) return InvalidArgument("number of uses cannot be negative");

  if (!entity_alias.empty()) {
    if (!role) return InvalidArgument("'entity_alias' is only allowed in combination with token role");
    std::string lower = NormalizePolicyName(entity_alias);
    if (!Contains(role->allowed_entity_aliases, lower) && !ContainsGlob(role->allowed_entity_aliases, lower))
      return InvalidArgument("invalid 'entity_alias' value");
    // Sealbox has no identity store to create or fetch the entity in.
    return InvalidArgument("'entity_alias' is not supported: no identity store");
  }

  TokenEntry te;
  te.parent_hash = parent.hash;
  te.path = "auth/token/" + req.path;
  te.meta = meta;
  te.display_name = "token";
  te.num_uses = num_uses;
  const int64_t now = clock_->NowNanos();
  te.creation_time_nanos = now;
  te.creation_time = now / kNanosPerSecond;
  te.type = batch ? "batch" : "service";

  if (role) {
    te.role = role->name;
    if (renewable && !role->renewable) renewable = false;
    // 0 means unlimited, so any limit is tighter than none.
    if (role->token_num_uses != 0 && (te.num_uses == 0 || role->token_num_uses < te.num_uses))
      te.num_uses = role->token_num_uses;
    if (!role->path_suffix.empty()) te.path += "/" + role->path_suffix;
  }
  if (!display_name.empty()) te.display_name = SanitizeDisplayName(display_name);

  if (!custom_id.empty()) {
    if (!is_sudo) return InvalidArgument("root or sudo privileges required to specify token id");
    if (!batch) {
      if (custom_id.rfind("hvs.", 0) == 0) return InvalidArgument("custom token ID cannot have the 'hvs.' prefix");
      if (custom_id.rfind("s.", 0) == 0) return InvalidArgument("custom token ID cannot have the 's.' prefix");
      if (custom_id.find('.') != std::string::npos)
        return InvalidArgument("custom token ID cannot have a '.' in the value");
      if (custom_id.size() > 256) return InvalidArgument("custom token ID is too long");
    }
  }

  // Policies (Vault's handleCreateCommon, in the same order of cases).
  std::vector<std::string> policies = req_policies;
  bool add_default = false;
  const bool role_limits = role && (!role->allowed_policies.empty() || !role->disallowed_policies.empty() ||
                                    !role->allowed_policies_glob.empty() || !role->disallowed_policies_glob.empty());
  if (role_limits) {
    const bool local_default = !no_default && !role->token_no_default_policy &&
                               !Contains(role->disallowed_policies, "default") &&
                               !ContainsGlob(role->disallowed_policies_glob, "default");
    std::vector<std::string> final_policies;
    if (!policies.empty()) final_policies = SanitizePolicies(policies, local_default);
    if (!role->allowed_policies.empty() || !role->allowed_policies_glob.empty()) {
      auto role_allowed = SanitizePolicies(role->allowed_policies, local_default);
      if (final_policies.empty()) {
        final_policies = role_allowed;
      } else {
        auto role_globs = SanitizePolicies(role->allowed_policies_glob, false);
        for (const auto& p : final_policies) {
          if (!Contains(role_allowed, p) && !ContainsGlob(role_globs, p))
            return InvalidArgument("token policies (" + QuoteList(final_policies) +
                                   ") must be subset of the role's allowed policies (" + QuoteList(role_allowed) +
                                   ") or glob policies (" + QuoteList(role_globs) + ")");
        }
      }
    } else if (final_policies.empty()) {
      final_policies = SanitizePolicies(parent.policies, local_default);
    }
    for (const auto& p : final_policies) {
      if (Contains(role->disallowed_policies, p) || ContainsGlob(role->disallowed_policies_glob, p))
        return InvalidArgument("token policy \"" + p + "\" is disallowed by this role");
    }
    policies = std::move(final_policies);
  } else if (policies.empty()) {
    // Inherit the parent's set; "default" only if the parent has it.
    policies = SanitizePolicies(parent.policies, false);
  } else if (!is_sudo) {
    auto wanted = SanitizePolicies(policies, false);
    auto have = SanitizePolicies(parent.policies, false);
    for (const auto& p : wanted) {
      if (!Contains(have, p)) return InvalidArgument("child policies must be subset of parent");
    }
    if (!no_default && Contains(parent.policies, "default")) add_default = true;
  } else {
    add_default = !no_default;
  }
  te.policies = SanitizePolicies(policies, add_default);
  if (no_default) te.policies.erase(std::remove(te.policies.begin(), te.policies.end(), "default"), te.policies.end());
  te.no_default_policy = no_default;
  for (const auto& p : te.policies) {
    if (p == "response-wrapping" || p == "control-group") return InvalidArgument("cannot assign policy \"" + p + "\"");
  }
  if (te.IsRoot()) {
    // Only a root parent mints root: sudo alone must never be enough.
    if (!parent.IsRoot()) return InvalidArgument("root tokens may not be created without parent token being root");
    if (batch) return InvalidArgument("batch tokens cannot be root tokens");
  }

  // Parent link.
  if (role) {
    if (role->orphan) te.parent_hash.clear();
    if (!role->token_bound_cidrs.empty()) te.bound_cidrs = role->token_bound_cidrs;
  } else if (no_parent) {
    if (!is_sudo) return InvalidArgument("root or sudo privileges required to create orphan token");
    te.parent_hash.clear();
  } else if (orphan_path) {
    te.parent_hash.clear();
  }
  if (!te.parent_hash.empty()) {
    // A child shares its parent's identity (Vault: the entity), and with it
    // what templated policies resolve to.
    te.entity_id = parent.entity_id;
    te.alias = parent.alias;
    if (!role) te.bound_cidrs = parent.bound_cidrs;
  }
  te.orphan = te.parent_hash.empty();

  // Durations.
  int64_t explicit_max = 0, period = 0, ttl = 0;
  if (explicit_opt) {
    if (*explicit_opt < 0) return InvalidArgument("explicit_max_ttl must be positive");
    te.explicit_max_ttl = explicit_max = *explicit_opt;
  }
  if (period_opt) {
    if (*period_opt < 0) return InvalidArgument("period must be positive");
    if (*period_opt > 0) {
      if (!is_sudo) return InvalidArgument("root or sudo privileges required to create periodic token");
      te.period = period = *period_opt;
    }
  }
  if (ttl_opt) {
    if (*ttl_opt < 0) return InvalidArgument("ttl must be positive");
    ttl = *ttl_opt;
  } else if (lease_opt) {
    if (*lease_opt < 0) return InvalidArgument("lease must be positive");
    ttl = *lease_opt;
  }

  Resp resp;
  // The role's values bound this TTL (and each renewal's), but the token
  // keeps only what the caller asked for: Vault's lookup shows those.
  if (role && !batch) {
    explicit_max = LesserWithRole(explicit_max, role->token_explicit_max_ttl, "Explicit max TTL", &resp.warnings);
    period = LesserWithRole(period, role->token_period, "Period", &resp.warnings);
  }

  const int64_t sys_default = mount_ ? mount_->DefaultLeaseTtl() : kSystemDefaultTtl;
  const int64_t sys_max = mount_ ? mount_->MaxLeaseTtl() : kSystemDefaultTtl;
  if (period > 0 || ttl > 0 || !te.IsRoot()) {
    SB_ASSIGN_OR_RETURN(ttl, CalculateTtl(sys_default, sys_max, 0, ttl, period, 0, explicit_max, now, now,
                                          &resp.warnings));
  }
  // Root tokens are still bound by an explicit max TTL.
  if (ttl == 0 && explicit_max > 0) ttl = explicit_max;
  if (ttl == 0) {
    if (parent.expire_time_nanos != 0)
      return InvalidArgument("expiring root tokens cannot create non-expiring root tokens");
    renewable = false;
    te.bound_cidrs.clear();
  }
  int64_t expire = ttl > 0 ? AddSeconds(now, ttl) : 0;
  // A child never outlives its parent. Vault revokes the tree when the
  // parent's lease expires; expired tokens here are swept once a minute, so
  // an uncapped child could outlive an expired parent by that long
  // (docs/compatibility.md, Known differences).
  if (!te.parent_hash.empty() && parent.expire_time_nanos != 0 &&
      (expire == 0 || expire > parent.expire_time_nanos)) {
    expire = parent.expire_time_nanos;
    ttl = std::max<int64_t>(0, (expire - now) / kNanosPerSecond);
  }
  te.creation_ttl = ttl;
  te.lease_ttl = ttl;
  te.expire_time_nanos = expire;
  te.issue_time_nanos = (expire != 0 || batch) ? now : 0;
  te.renewable = renewable;

  std::string token;
  if (batch) {
    SB_ASSIGN_OR_RETURN(token, tokens_->CreateBatch(te));
  } else {
    SB_ASSIGN_OR_RETURN(token, tokens_->Create(te, custom_id));
  }
  resp.auth = AuthFor(te, token, ttl);
  for (const auto& p : te.policies) {
    SB_ASSIGN_OR_RETURN(auto pol, policies_->Get(p));
    if (!pol) resp.warnings.push_back("Policy \"" + p + "\" does not exist");
  }
  return resp;
}

// ---- lookup ----

Result<logical::Response> TokenBackend::Lookup(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) id = req.client_token;
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return PermissionDenied("bad token");
  return Resp::WithData(LookupData(*e, id));
}

Result<logical::Response> TokenBackend::LookupSelf(Req& req, Fd&) {
  // The pipeline already counted this use; on the last one the entry is
  // pending revocation and still answers for this request.
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  return Resp::WithData(LookupData(e, req.client_token));
}

Result<logical::Response> TokenBackend::LookupAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor, /*include_pending=*/true));
  if (!e) return InvalidArgument("invalid accessor");
  return Resp::WithData(LookupData(*e, ""));
}

// ---- renew ----

Result<logical::Response> TokenBackend::RenewEntry(const TokenEntry& te, const std::string& client_token, Fd& fd) {
  if (te.IsBatch()) return InvalidArgument("batch tokens cannot be renewed");
  // Tokens without a lease (root) have nothing to renew: Vault finds no lease entry.
  if (te.expire_time_nanos == 0) return InvalidArgument("invalid lease ID");
  if (!te.renewable) return InvalidArgument("lease is not renewable");
  if (renew_check_) SB_RETURN_IF_ERROR(renew_check_(te));
  SB_ASSIGN_OR_RETURN(int64_t increment, fd.GetDuration("increment"));
  if (increment < 0) increment = 0;
  int64_t period = te.period, explicit_max = te.explicit_max_ttl;
  if (!te.role.empty()) {
    SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(te.role));
    if (!role) return InvalidArgument("original token role \"" + te.role + "\" could not be found, not renewing");
    period = role->token_period;
    explicit_max = role->token_explicit_max_ttl;
  }
  const int64_t now = clock_->NowNanos();
  const int64_t sys_default = mount_ ? mount_->DefaultLeaseTtl() : kSystemDefaultTtl;
  const int64_t sys_max = mount_ ? mount_->MaxLeaseTtl() : kSystemDefaultTtl;
  Resp resp;
  SB_ASSIGN_OR_RETURN(int64_t ttl, CalculateTtl(sys_default, sys_max, increment, te.lease_ttl, period, 0, explicit_max,
                                                te.issue_time_nanos, now, &resp.warnings));
  int64_t expire = AddSeconds(now, ttl);
  if (!te.parent_hash.empty()) {  // capped at the parent's expiry, as at creation
    SB_ASSIGN_OR_RETURN(auto parent, tokens_->LookupByHash(te.parent_hash, /*include_pending=*/true));
    if (parent && parent->expire_time_nanos != 0 && expire > parent->expire_time_nanos) {
      expire = parent->expire_time_nanos;
      ttl = std::max<int64_t>(0, (expire - now) / kNanosPerSecond);
    }
  }
  SB_ASSIGN_OR_RETURN(auto updated, tokens_->Update(te.hash, [&](TokenEntry& e) {
                        e.expire_time_nanos = expire;
                        e.lease_ttl = ttl;
                        e.last_renewal_nanos = now;
                        return Status::Ok();
                      }));
  if (!updated) return InvalidArgument("token not found");
  resp.auth = AuthFor(*updated, client_token, ttl);
  return resp;
}

Result<logical::Response> TokenBackend::Renew(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id));
  if (!e) return InvalidArgument("token not found");
  return RenewEntry(*e, id, fd);
}

Result<logical::Response> TokenBackend::RenewSelf(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  return RenewEntry(e, req.client_token, fd);
}

Result<logical::Response> TokenBackend::RenewAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor));
  if (!e) return InvalidArgument("invalid accessor");
  return RenewEntry(*e, "", fd);
}

// ---- revoke ----

Result<logical::Response> TokenBackend::Revoke(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return Resp::Empty();  // idempotent: 204 for unknown tokens
  if (e->IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeSelf(Req& req, Fd&) {
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  if (e.IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e.hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor, /*include_pending=*/true));
  if (!e) {
    Resp r;
    r.warnings.push_back("No token found with this accessor");
    return r;
  }
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeOrphan(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(TokenEntry caller, Caller(req));
  SB_ASSIGN_OR_RETURN(bool is_sudo, HasSudo(req, caller));
  if (!is_sudo) return InvalidArgument("root or sudo privileges required to revoke and orphan");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return InvalidArgument("token to revoke not found");
  if (e->IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeOrphan(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::ListAccessors(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(auto keys, tokens_->ListAccessors());
  return Resp::WithData(KeysData(std::move(keys)));
}

// ---- roles ----

Result<logical::Response> TokenBackend::ListRoles(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(auto keys, tokens_->ListRoles());
  return Resp::WithData(KeysData(std::move(keys)));
}

Result<bool> TokenBackend::RoleExists(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return false;
  SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(name));
  return role.has_value();
}

Result<logical::Response> TokenBackend::ReadRole(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return Resp::Empty();
  SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(name));
  if (!role) return Resp::Empty();
  const TokenRole& r = *role;
  Json d = {{"period", r.period},
            {"token_period", r.token_period},
            {"explicit_max_ttl", r.explicit_max_ttl},
            {"token_explicit_max_ttl", r.token_explicit_max_ttl},
            {"disallowed_policies", r.disallowed_policies},
            {"allowed_policies", r.allowed_policies},
            {"disallowed_policies_glob", r.disallowed_policies_glob},
            {"allowed_policies_glob", r.allowed_policies_glob},
            {"name", r.name},
            {"orphan", r.orphan},
            {"path_suffix", r.path_suffix},
            {"renewable", r.renewable},
            {"token_type", r.token_type},
            {"allowed_entity_aliases", r.has_allowed_entity_aliases ? Json(r.allowed_entity_aliases) : Json(nullptr)},
            {"token_no_default_policy", r.token_no_default_policy}};
  if (!r.token_bound_cidrs.empty()) d["token_bound_cidrs"] = r.token_bound_cidrs;
  if (r.token_num_uses > 0) d["token_num_uses"] = r.token_num_uses;
  return Resp::WithData(std::move(d));
}

Result<logical::Response> TokenBackend::WriteRole(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return NotFound("unsupported path");
  SB_ASSIGN_OR_RETURN(auto existing, tokens_->GetRole(name));
  const bool create = !existing;
  TokenRole r;
  if (existing) r = *existing;
  r.name = name;
  Resp resp;

  if (fd.Has("orphan") || create) {
    SB_ASSIGN_OR_RETURN(r.orphan, fd.GetBool("orphan"));
  }
  if (fd.Has("renewable") || create) {
    SB_ASSIGN_OR_RETURN(r.renewable, fd.GetBool("renewable"));
  }
  if (fd.Has("path_suffix") || create) {
    SB_ASSIGN_OR_RETURN(std::string suffix, fd.GetString("path_suffix"));
    if (!suffix.empty() && !PathSuffixMatches(suffix))
      return InvalidArgument("given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w");
    r.path_suffix = suffix;
  }
  if (r.path_suffix.find("..") != std::string::npos)
    return InvalidArgument("error registering path suffix: path cannot contain parent references");
  auto list_field = [&](const char* n, std::vector<std::string>* out, bool sanitize) -> Status {
    if (!fd.Has(n) && !create) return Status::Ok();
    SB_ASSIGN_OR_RETURN(auto v, fd.GetStringList(n));
    *out = sanitize ? SanitizePolicies(v, false) : RemoveDuplicatesLower(v);
    return Status::Ok();
  };
  SB_RETURN_IF_ERROR(list_field("allowed_policies", &r.allowed_policies, true));
  SB_RETURN_IF_ERROR(list_field("disallowed_policies", &r.disallowed_policies, false));
  SB_RETURN_IF_ERROR(list_field("allowed_policies_glob", &r.allowed_policies_glob, true));
  SB_RETURN_IF_ERROR(list_field("disallowed_policies_glob", &r.disallowed_policies_glob, false));

  if (fd.Has("token_type")) {
    const Json& v = fd.Get("token_type");
    if (v.is_null()) return InvalidArgument("Invalid 'token_type' value: null");
    SB_ASSIGN_OR_RETURN(std::string t, fd.GetString("token_type"));
    if (t != "service" && t != "batch" && t != "default-service" && t != "default-batch")
      return InvalidArgument("invalid 'token_type' value \"" + t + "\"");
    r.token_type = t;
  } else if (r.token_type.empty() || r.token_type == "default") {
    r.token_type = "default-service";
  }

  // token_* names win over the deprecated ones, which are echoed on read.
  if (fd.Has("token_period")) {
    SB_ASSIGN_OR_RETURN(r.token_period, fd.GetDuration("token_period"));
    if (fd.Has("period"))
      resp.warnings.push_back("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value");
    r.period = 0;
  } else if (fd.Has("period")) {
    SB_ASSIGN_OR_RETURN(r.period, fd.GetDuration("period"));
    r.token_period = r.period;
  }
  if (fd.Has("token_bound_cidrs")) {
    SB_ASSIGN_OR_RETURN(r.token_bound_cidrs, fd.GetStringList("token_bound_cidrs"));
    if (fd.Has("bound_cidrs"))
      resp.warnings.push_back(
          "Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value");
  } else if (fd.Has("bound_cidrs")) {
    SB_ASSIGN_OR_RETURN(r.token_bound_cidrs, fd.GetStringList("bound_cidrs"));
  }
  if (fd.Has("token_explicit_max_ttl")) {
    SB_ASSIGN_OR_RETURN(r.token_explicit_max_ttl, fd.GetDuration("token_explicit_max_ttl"));
    if (fd.Has("explicit_max_ttl"))
      resp.warnings.push_back(
          "Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated "
          "value");
    r.explicit_max_ttl = 0;
  } else if (fd.Has("explicit_max_ttl")) {
    SB_ASSIGN_OR_RETURN(r.explicit_max_ttl, fd.GetDuration("explicit_max_ttl"));
    r.token_explicit_max_ttl = r.explicit_max_ttl;
  }
  if (r.token_period < 0 || r.token_explicit_max_ttl < 0)
    return InvalidArgument("error parsing role fields: durations must not be negative");
  const int64_t sys_max = mount_ ? mount_->MaxLeaseTtl() : kSystemDefaultTtl;
  if (r.token_explicit_max_ttl != 0 && sys_max != 0 && r.token_explicit_max_ttl > sys_max)
    resp.warnings.push_back("Given explicit max TTL of " + std::to_string(r.token_explicit_max_ttl) +
                            " is greater than system/mount allowed value of " + std::to_string(sys_max) +
                            " seconds; until this is fixed attempting to create tokens against this role will "
                            "result in an error");
  if (fd.Has("token_num_uses")) {
    SB_ASSIGN_OR_RETURN(int64_t n, fd.GetInt("token_num_uses"));
    if (n < 0) return InvalidArgument("error parsing role fields: token_num_uses cannot be negative");
    if (n > INT32_MAX) return InvalidArgument("error parsing role fields: token_num_uses is out of range");
    r.token_num_uses = static_cast<int>(n);
  }
  if (fd.Has("token_no_default_policy")) {
    SB_ASSIGN_OR_RETURN(r.token_no_default_policy, fd.GetBool("token_no_default_policy"));
  }
  if (r.token_type == "batch") {
    if (!r.orphan)
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
    if (r.period != 0 || r.token_period != 0)
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate periodic tokens");
    if (r.renewable)
      return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate renewable tokens");
    if (r.explicit_max_ttl != 0 || r.token_explicit_max_ttl != 0)
      return InvalidArgument(
          "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL");
  }
  if (fd.Has("allowed_entity_aliases")) {
    SB_ASSIGN_OR_RETURN(auto v, fd.GetStringList("allowed_entity_aliases"));
    r.allowed_entity_aliases = RemoveDuplicatesLower(v);
    r.has_allowed_entity_aliases = true;
  }
  SB_RETURN_IF_ERROR(tokens_->PutRole(r));
  return resp;
}

Result<logical::Response> TokenBackend::DeleteRole(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (ValidRoleName(name)) SB_RETURN_IF_ERROR(tokens_->DeleteRole(name));
  return Resp::Empty();
}

// Vault tidies in the background and answers 202 at once; Sealbox's tidy is
// quick enough to finish first, and its findings go to the log as Vault's do.
Result<logical::Response> TokenBackend::Tidy(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(TidyStats st, tokens_->Tidy());
  log::Info("token tidy: revoked " + std::to_string(st.expired_revoked) + " expired tokens, removed " +
            std::to_string(st.dangling_accessors) + " dangling accessors and " +
            std::to_string(st.dangling_parent_entries) + " dangling parent index entries");
  Resp r;
  r.http_status = 202;
  r.warnings.push_back(kTidyStartedWarning);
  return r;
}

}  // namespace sealbox::auth
