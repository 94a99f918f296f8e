#include "auth/approle/role.h"

#include "auth/cidr.h"
#include "base/clock.h"

namespace sealbox::auth::approle {

using logical::FieldSpec;
using logical::FieldType;

namespace {

const DeprecatedTokenFields kDeprecated = {"policies", "period"};

// Vault's validateRoleConstraints: a role nobody could be kept out of is refused.
bool HasConstraint(const Role& r) {
  return r.bind_secret_id || !r.secret_id_bound_cidrs.empty() || !r.token.bound_cidrs.empty();
}

// The secret-id fields: bind_secret_id, the CIDRs, the default limits.
Status ApplySecretIdFields(const logical::FieldData& fd, bool create, Role* r) {
  if (fd.Has("bind_secret_id") || create) {
    SB_ASSIGN_OR_RETURN(r->bind_secret_id, fd.GetBool("bind_secret_id"));
  }
  const char* cidr_name = fd.Has("secret_id_bound_cidrs") ? "secret_id_bound_cidrs" : "bound_cidr_list";
  if (fd.Has(cidr_name)) {
    SB_ASSIGN_OR_RETURN(r->secret_id_bound_cidrs, fd.GetStringList(cidr_name));
  }
  for (const auto& c : r->secret_id_bound_cidrs) {
    if (!CidrValid(c)) return InvalidArgument("failed to validate CIDR blocks: invalid CIDR address: " + c);
  }
  if (fd.Has("secret_id_num_uses") || create) {
    SB_ASSIGN_OR_RETURN(r->secret_id_num_uses, fd.GetInt("secret_id_num_uses"));
  }
  if (r->secret_id_num_uses < 0) return InvalidArgument("secret_id_num_uses cannot be negative");
  if (r->secret_id_num_uses > INT32_MAX) return InvalidArgument("secret_id_num_uses is out of range");
  if (fd.Has("secret_id_ttl") || create) {
    SB_ASSIGN_OR_RETURN(r->secret_id_ttl, fd.GetDuration("secret_id_ttl"));
  }
  if (r->secret_id_ttl < 0) return InvalidArgument("secret_id_ttl cannot be negative");
  return Status::Ok();
}

// The deprecated names are echoed while they are what set the field.
void TrackDeprecated(const logical::FieldData& fd, Role* r) {
  if (fd.Has("token_policies")) {
    r->deprecated_policies.clear();
  } else if (fd.Has("policies")) {
    r->deprecated_policies = r->token.policies;
  }
  if (fd.Has("token_period")) {
    r->deprecated_period = 0;
  } else if (fd.Has("period")) {
    r->deprecated_period = r->token.period;
  }
}

}  // namespace

std::vector<FieldSpec> RoleFieldSpecs() {
  std::vector<FieldSpec> specs = {{"role_name"},
                                  {"role_id"},
                                  {"bind_secret_id", FieldType::kBool, true},
                                  {"secret_id_bound_cidrs", FieldType::kStringList},
                                  {"bound_cidr_list", FieldType::kStringList},
                                  {"secret_id_num_uses", FieldType::kInt, 0},
                                  {"secret_id_ttl", FieldType::kDuration, 0},
                                  {"local_secret_ids", FieldType::kBool, false}};
  for (auto& s : TokenFieldSpecs(kDeprecated)) specs.push_back(std::move(s));
  return specs;
}

Status ApplyRoleFields(const logical::FieldData& fd, bool create, int64_t mount_max_ttl, Role* r,
                       std::vector<std::string>* warnings) {
  SB_RETURN_IF_ERROR(ParseTokenFields(fd, kDeprecated, &r->token, warnings));
  TrackDeprecated(fd, r);
  if (fd.Has("local_secret_ids")) {
    if (!create) return InvalidArgument("local_secret_ids can only be modified during role creation");
    SB_ASSIGN_OR_RETURN(r->local_secret_ids, fd.GetBool("local_secret_ids"));
  }
  if (fd.Has("role_id")) {
    SB_ASSIGN_OR_RETURN(r->role_id, fd.GetString("role_id"));
  }
  if (r->role_id.empty()) return InvalidArgument("invalid role_id supplied, or failed to generate a role_id");
  if (r->role_id.size() > kMaxHmacInput)
    return InvalidArgument("role_id is longer than maximum of " + std::to_string(kMaxHmacInput) + " bytes");
  SB_RETURN_IF_ERROR(ApplySecretIdFields(fd, create, r));
  if (mount_max_ttl > 0 && r->token.period > mount_max_ttl)
    return InvalidArgument("period of \"" + GoDurationString(r->token.period) +
                           "\" is greater than the backend's maximum lease TTL of \"" +
                           GoDurationString(mount_max_ttl) + "\"");
  if (mount_max_ttl > 0 && r->token.max_ttl > mount_max_ttl)
    warnings->push_back(
        "token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be "
        "truncated");
  if (!HasConstraint(*r)) return InvalidArgument("at least one constraint should be enabled on the role");
  return Status::Ok();
}

Json RoleToJson(const Role& r) {
  Json j = TokenParamsToJson(r.token);
  j["role_id"] = r.role_id;
  j["hmac_key"] = r.hmac_key;
  j["bind_secret_id"] = r.bind_secret_id;
  j["secret_id_bound_cidrs"] = r.secret_id_bound_cidrs;
  j["secret_id_num_uses"] = r.secret_id_num_uses;
  j["secret_id_ttl"] = r.secret_id_ttl;
  j["local_secret_ids"] = r.local_secret_ids;
  j["policies"] = r.deprecated_policies;
  j["period"] = r.deprecated_period;
  return j;
}

Result<Role> RoleFromJson(const std::string& name, const Json& j) {
  using V = std::vector<std::string>;
  if (!j.is_object() || !j.contains("role_id") || !j.contains("hmac_key"))
    return Corruption("approle role malformed");
  Role r;
  r.name = name;
  r.token = TokenParamsFromJson(j);
  r.role_id = j.value("role_id", "");
  r.hmac_key = j.value("hmac_key", "");
  r.bind_secret_id = j.value("bind_secret_id", true);
  r.secret_id_bound_cidrs = j.value("secret_id_bound_cidrs", V{});
  r.secret_id_num_uses = j.value("secret_id_num_uses", int64_t{0});
  r.secret_id_ttl = j.value("secret_id_ttl", int64_t{0});
  r.local_secret_ids = j.value("local_secret_ids", false);
  r.deprecated_policies = j.value("policies", V{});
  r.deprecated_period = j.value("period", int64_t{0});
  return r;
}

Json RoleReadData(const Role& r) {
  Json d = Json::object();
  d["bind_secret_id"] = r.bind_secret_id;
  // Vault shows an unset list as null here (it is a nil slice).
  d["secret_id_bound_cidrs"] = r.secret_id_bound_cidrs.empty() ? Json(nullptr) : Json(r.secret_id_bound_cidrs);
  d["secret_id_num_uses"] = r.secret_id_num_uses;
  d["secret_id_ttl"] = r.secret_id_ttl;
  d["local_secret_ids"] = r.local_secret_ids;
  PopulateTokenData(r.token, &d);
  if (r.deprecated_period != 0) d["period"] = r.deprecated_period;
  if (!r.deprecated_policies.empty()) d["policies"] = r.deprecated_policies;
  return d;
}

}  // namespace sealbox::auth::approle
