// auth/token/create, create-orphan and create/:role: TokenBackend::Create as
// its steps, in Vault's order of checks (handleCreateCommon): the creating
// token, the request's fields, the token type, the entity alias, the entry,
// a custom ID, the policies (auth/token_policies.h), the parent link, the
// lifetime, then the token is stored and the response built.
#include <algorithm>
#include <cctype>
#include <optional>

#include "auth/policy.h"
#include "auth/token_backend.h"
#include "auth/token_policies.h"
#include "auth/token_ttl.h"
#include "base/saturating.h"

namespace sealbox::auth {

using logical::FieldSpec;
using logical::FieldType;

namespace {

constexpr size_t kMaxMetadataBytes = 512 * 1024;  // Vault's documented token metadata limit

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

// The request's fields, parsed; nothing checked against the caller yet.
struct CreateParams {
  std::string custom_id;
  std::vector<std::string> policies;
  Json meta;
  bool no_parent = false;
  bool no_default_policy = false;
  std::optional<int64_t> ttl, lease, explicit_max_ttl, period;
  std::string display_name;
  int num_uses = 0;
  std::string type;
  std::string entity_alias;
  bool renewable = true;
};

// The lifetime the caller asked for, checked.
struct AskedLifetime {
  int64_t explicit_max = 0;
  int64_t period = 0;
  int64_t ttl = 0;
};

Result<CreateParams> ParseCreateParams(const logical::FieldData& fd) {
  CreateParams p;
  SB_ASSIGN_OR_RETURN(p.custom_id, fd.GetString("id"));
  SB_ASSIGN_OR_RETURN(p.policies, fd.GetStringList("policies"));
  SB_ASSIGN_OR_RETURN(p.meta, ParseMeta(fd));
  SB_ASSIGN_OR_RETURN(p.no_parent, fd.GetBool("no_parent"));
  SB_ASSIGN_OR_RETURN(p.no_default_policy, fd.GetBool("no_default_policy"));
  SB_ASSIGN_OR_RETURN(p.ttl, OptDuration(fd, "ttl"));
  SB_ASSIGN_OR_RETURN(p.lease, OptDuration(fd, "lease"));
  SB_ASSIGN_OR_RETURN(p.explicit_max_ttl, OptDuration(fd, "explicit_max_ttl"));
  SB_ASSIGN_OR_RETURN(p.period, OptDuration(fd, "period"));
  SB_ASSIGN_OR_RETURN(p.display_name, fd.GetString("display_name"));
  SB_ASSIGN_OR_RETURN(int64_t num_uses, fd.GetInt("num_uses"));
  SB_ASSIGN_OR_RETURN(p.type, fd.GetString("type"));
  SB_ASSIGN_OR_RETURN(p.entity_alias, fd.GetString("entity_alias"));
  if (fd.Has("renewable") && !fd.Get("renewable").is_null()) {
    SB_ASSIGN_OR_RETURN(p.renewable, fd.GetBool("renewable"));
  }
  if (num_uses > INT32_MAX || num_uses < INT32_MIN) return InvalidArgument("number of uses is out of range");
  p.num_uses = static_cast<int>(num_uses);
  return p;
}

// The role may force the type or only supply the default. True for a batch
// token, which is never renewable.
Result<bool> ResolveTokenType(CreateParams& p, const TokenRole* role) {
  if (role) {
    const std::string& rt = role->token_type;
    if (rt == "default-batch" && p.type.empty()) p.type = "batch";
    else if (rt == "service" || rt == "batch") p.type = rt;
    else if (rt != "default-service" && rt != "default-batch" && !rt.empty())
      return InvalidArgument("role being used for token creation contains invalid token type \"" + rt + "\"");
  }
  bool batch = false;
  if (p.type == "batch") {
    std::string bad;
    if (p.explicit_max_ttl && *p.explicit_max_ttl != 0) bad = "explicit_max_ttl";
    else if (p.num_uses != 0) bad = "num_uses";
    else if (p.period && *p.period != 0) bad = "period";
    if (!bad.empty()) return InvalidArgument("batch tokens cannot have \"" + bad + "\" set");
    batch = true;
    p.renewable = false;
  } else if (!p.type.empty() && p.type != "service") {
    return InvalidArgument("invalid 'token_type' value");
  }
  if (p.num_uses < 0) return InvalidArgument("number of uses cannot be negative");
  return batch;
}

Status CheckEntityAlias(const std::string& entity_alias, const TokenRole* role) {
  if (entity_alias.empty()) return Status::Ok();
  if (!role) return InvalidArgument("'entity_alias' is only allowed in combination with token role");
  std::string lower = NormalizePolicyName(entity_alias);
  const auto& allowed = role->allowed_entity_aliases;
  if (std::find(allowed.begin(), allowed.end(), lower) == allowed.end() && !MatchesAnyGoGlob(allowed, lower))
    return InvalidArgument("invalid 'entity_alias' value");
  // Sealbox has no identity store to create or fetch the entity in.
  return InvalidArgument("'entity_alias' is not supported: no identity store");
}

Status CheckCustomId(const std::string& id, bool is_sudo, bool batch) {
  if (id.empty()) return Status::Ok();
  if (!is_sudo) return InvalidArgument("root or sudo privileges required to specify token id");
  if (batch) return Status::Ok();
  if (id.rfind("hvs.", 0) == 0) return InvalidArgument("custom token ID cannot have the 'hvs.' prefix");
  if (id.rfind("s.", 0) == 0) return InvalidArgument("custom token ID cannot have the 's.' prefix");
  if (id.find('.') != std::string::npos) return InvalidArgument("custom token ID cannot have a '.' in the value");
  if (id.size() > 256) return InvalidArgument("custom token ID is too long");
  return Status::Ok();
}

// The entry's own fields: path, metadata, name, uses, type and the role's
// limits on them. Policies, parent link and lifetime come after.
TokenEntry NewEntry(const logical::Request& req, const CreateParams& p, const TokenRole* role,
                    const TokenEntry& parent, int64_t now, bool batch) {
  TokenEntry te;
  te.parent_hash = parent.hash;
  te.path = "auth/token/" + req.path;
  te.meta = p.meta;
  te.display_name = "token";
  te.num_uses = p.num_uses;
  te.creation_time_nanos = now;
  te.creation_time = now / kNanosPerSecond;
  te.type = batch ? "batch" : "service";
  te.renewable = p.renewable;
  if (role) {
    te.role = role->name;
    if (!role->renewable) te.renewable = false;
    // 0 means unlimited, so any limit is tighter than none.
    if (role->token_num_uses != 0 && (te.num_uses == 0 || role->token_num_uses < te.num_uses))
      te.num_uses = role->token_num_uses;
    if (!role->path_suffix.empty()) te.path += "/" + role->path_suffix;
  }
  if (!p.display_name.empty()) te.display_name = SanitizeDisplayName(p.display_name);
  return te;
}

// The parent link: roles and orphan requests cut it; a child shares its
// parent's identity (Vault: the entity), and with it what templated
// policies resolve to.
Status LinkParent(TokenEntry& te, const TokenEntry& parent, const TokenRole* role, bool no_parent, bool orphan_path,
                  bool is_sudo) {
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
    te.entity_id = parent.entity_id;
    te.alias = parent.alias;
    if (!role) te.bound_cidrs = parent.bound_cidrs;
  }
  te.orphan = te.parent_hash.empty();
  return Status::Ok();
}

Result<AskedLifetime> CheckLifetime(const CreateParams& p, bool is_sudo) {
  AskedLifetime asked;
  if (p.explicit_max_ttl) {
    if (*p.explicit_max_ttl < 0) return InvalidArgument("explicit_max_ttl must be positive");
    asked.explicit_max = *p.explicit_max_ttl;
  }
  if (p.period) {
    if (*p.period < 0) return InvalidArgument("period must be positive");
    if (*p.period > 0) {
      if (!is_sudo) return InvalidArgument("root or sudo privileges required to create periodic token");
      asked.period = *p.period;
    }
  }
  if (p.ttl) {
    if (*p.ttl < 0) return InvalidArgument("ttl must be positive");
    asked.ttl = *p.ttl;
  } else if (p.lease) {
    if (*p.lease < 0) return InvalidArgument("lease must be positive");
    asked.ttl = *p.lease;
  }
  return asked;
}

// Sets the entry's TTL, expiry, issue time and renewability. The role's
// values bound the TTL (and each renewal's), but the token keeps only what
// the caller asked for: Vault's lookup shows those.
Status SetLifetime(TokenEntry& te, AskedLifetime asked, const TokenRole* role, const TokenEntry& parent,
                   const TtlDefaults& sys, int64_t now, std::vector<std::string>* warnings) {
  te.explicit_max_ttl = asked.explicit_max;
  te.period = asked.period;
  const bool batch = te.IsBatch();
  if (role && !batch) {
    asked.explicit_max = LesserWithRole(asked.explicit_max, role->token_explicit_max_ttl, "Explicit max TTL", warnings);
    asked.period = LesserWithRole(asked.period, role->token_period, "Period", warnings);
  }
  int64_t ttl = asked.ttl;
  if (asked.period > 0 || ttl > 0 || !te.IsRoot()) {
    SB_ASSIGN_OR_RETURN(ttl, CalculateTtl(sys.default_ttl, sys.max_ttl, 0, ttl, asked.period, 0, asked.explicit_max,
                                          now, now, warnings));
  }
  // Root tokens are still bound by an explicit max TTL.
  if (ttl == 0 && asked.explicit_max > 0) ttl = asked.explicit_max;
  if (ttl == 0) {
    if (parent.expire_time_nanos != 0)
      return InvalidArgument("expiring root tokens cannot create non-expiring root tokens");
    te.renewable = false;
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
  // Every created token has a lease in Vault, a root-policy one without a TTL
  // too (not renewable): it shows issue_time. Only the root tokens of init
  // and generate-root have none.
  te.issue_time_nanos = now;
  return Status::Ok();
}

}  // namespace

const std::vector<FieldSpec>& TokenBackend::CreateFields() {
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

// The auth block, and a warning for each policy that does not exist (Vault
// warns, it does not refuse).
Result<logical::Response> TokenBackend::CreatedResponse(const TokenEntry& te, const std::string& token,
                                                        std::vector<std::string> warnings) {
  Resp resp;
  resp.warnings = std::move(warnings);
  resp.auth = AuthFor(te, token, te.lease_ttl);
  for (const auto& p : te.policies) {
    SB_ASSIGN_OR_RETURN(auto pol, policies_->Get(p));
    if (!pol) resp.warnings.push_back("Policy \"" + p + "\" does not exist");
  }
  return resp;
}

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
  SB_ASSIGN_OR_RETURN(CreateParams params, ParseCreateParams(fd));
  SB_ASSIGN_OR_RETURN(bool batch, ResolveTokenType(params, role));
  SB_RETURN_IF_ERROR(CheckEntityAlias(params.entity_alias, role));
  const int64_t now = clock_->NowNanos();
  TokenEntry te = NewEntry(req, params, role, parent, now, batch);
  te.quota_exempt = parent.IsRoot();  // root callers are not counted by lease-count quotas
  SB_RETURN_IF_ERROR(CheckCustomId(params.custom_id, is_sudo, batch));
  SB_ASSIGN_OR_RETURN(te.policies, ResolveTokenPolicies({.requested = params.policies,
                                                         .parent = parent.policies,
                                                         .role = role,
                                                         .no_default_policy = params.no_default_policy,
                                                         .sudo = is_sudo,
                                                         .parent_is_root = parent.IsRoot(),
                                                         .batch = batch}));
  te.no_default_policy = params.no_default_policy;
  SB_RETURN_IF_ERROR(LinkParent(te, parent, role, params.no_parent, orphan_path, is_sudo));
  SB_ASSIGN_OR_RETURN(AskedLifetime asked, CheckLifetime(params, is_sudo));
  std::vector<std::string> warnings;
  SB_RETURN_IF_ERROR(SetLifetime(te, asked, role, parent, SystemTtls(), now, &warnings));
  std::string token;
  if (batch) {
    SB_ASSIGN_OR_RETURN(token, tokens_->CreateBatch(te));
  } else {
    SB_ASSIGN_OR_RETURN(token, tokens_->Create(te, params.custom_id));
  }
  return CreatedResponse(te, token, std::move(warnings));
}

}  // namespace sealbox::auth
