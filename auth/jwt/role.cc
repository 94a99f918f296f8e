// Roles: what a login's token must show (audiences, subject, bound claims)
// and what the Sealbox token it gets carries, as Vault's path_role.go.
#include <algorithm>
#include <cctype>
#include <set>

#include "auth/jwt/backend.h"
#include "auth/jwt/claims.h"

namespace sealbox::auth::jwt {

using logical::FieldType;

namespace {

// The role as first written: Vault's zero values (leeways 0 mean the defaults).
Json EmptyRole() {
  return {{"role_type", "oidc"},          {"expiration_leeway", 0},     {"not_before_leeway", 0},
          {"clock_skew_leeway", 0},       {"bound_audiences", Json::array()}, {"bound_subject", ""},
          {"bound_claims_type", "string"}, {"bound_claims", nullptr},    {"claim_mappings", nullptr},
          {"oauth2_metadata", nullptr},   {"user_claim", ""},           {"user_claim_json_pointer", false},
          {"groups_claim", ""},           {"allowed_redirect_uris", nullptr}, {"callback_mode", "client"},
          {"oidc_scopes", nullptr},       {"verbose_oidc_logging", false}, {"max_age", 0},
          {"token_policies_template_claims", false}};
}

// A signed duration: integer seconds (negative allowed) or a Go duration.
Result<int64_t> SignedSeconds(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string() && !v.get<std::string>().empty() && v.get<std::string>()[0] == '-') {
    SB_ASSIGN_OR_RETURN(int64_t s, JsonToDurationSeconds(Json(v.get<std::string>().substr(1))));
    return -s;
  }
  return JsonToDurationSeconds(v);
}

// bound_claims: a map of scalars or lists; with globs, strings only.
Status CheckBoundClaims(const Json& bound, bool glob) {
  for (const auto& [claim, values] : bound.items()) {
    const Json list = values.is_array() ? values : Json::array({values});
    for (const auto& v : list) {
      if (!(v.is_string() || v.is_number() || v.is_boolean()))
        return InvalidArgument("claim is not a string or list: " + values.dump());
      if (glob && !v.is_string()) return InvalidArgument("claim is not a string: " + v.dump());
    }
  }
  return Status::Ok();
}

Status CheckClaimMappings(const Json& mappings) {
  std::set<std::string> targets;
  for (const auto& [claim, target] : mappings.items()) {
    if (!target.is_string()) return InvalidArgument("claim_mappings values must be strings");
    const std::string t = target.get<std::string>();
    if (t == "role") return InvalidArgument("metadata key \"role\" is reserved and may not be a mapping destination");
    if (!targets.insert(t).second) return InvalidArgument("multiple keys are mapped to metadata key \"" + t + "\"");
  }
  return Status::Ok();
}

// Applies the non-token fields a write supplies to `role`.
Status ApplyRoleFields(const FieldData& f, Json* role, std::vector<std::string>* warnings) {
  Json& r = *role;
  if (f.Has("role_type")) {
    SB_ASSIGN_OR_RETURN(r["role_type"], f.GetString("role_type"));
  }
  if (r["role_type"] == "") r["role_type"] = "oidc";
  if (r["role_type"] != "jwt" && r["role_type"] != "oidc")
    return InvalidArgument("invalid 'role_type': " + r["role_type"].get<std::string>());
  for (const char* k : {"expiration_leeway", "not_before_leeway", "clock_skew_leeway"})
    if (f.Has(k)) {
      SB_ASSIGN_OR_RETURN(r[k], SignedSeconds(f.Get(k)));
    }
  for (const char* k : {"bound_subject", "user_claim", "groups_claim"})
    if (f.Has(k)) {
      SB_ASSIGN_OR_RETURN(r[k], f.GetString(k));
    }
  for (const char* k : {"bound_audiences", "oidc_scopes", "allowed_redirect_uris", "oauth2_metadata"})
    if (f.Has(k)) {
      SB_ASSIGN_OR_RETURN(r[k], f.GetStringList(k));
    }
  for (const char* k : {"verbose_oidc_logging", "user_claim_json_pointer"})
    if (f.Has(k)) {
      SB_ASSIGN_OR_RETURN(r[k], f.GetBool(k));
    }
  if (f.Has("poll_interval")) {
    SB_ASSIGN_OR_RETURN(r["poll_interval"], f.GetInt("poll_interval"));
  }
  if (f.Has("max_age")) {
    SB_ASSIGN_OR_RETURN(r["max_age"], f.GetDuration("max_age"));
  }
  if (f.Has("token_policies_template_claims")) {
    SB_ASSIGN_OR_RETURN(bool templated, f.GetBool("token_policies_template_claims"));
    if (templated) return InvalidArgument("token_policies_template_claims is not supported");
  }
  SB_ASSIGN_OR_RETURN(std::string claims_type, f.GetString("bound_claims_type"));
  if (claims_type != "string" && claims_type != "glob")
    return InvalidArgument("invalid 'bound_claims_type': " + claims_type);
  r["bound_claims_type"] = claims_type;
  if (f.Has("bound_claims")) {
    SB_ASSIGN_OR_RETURN(Json bound, f.GetMap("bound_claims"));
    SB_RETURN_IF_ERROR(CheckBoundClaims(bound, claims_type == "glob"));
    r["bound_claims"] = bound;
  }
  if (f.Has("claim_mappings")) {
    SB_ASSIGN_OR_RETURN(Json mappings, f.GetMap("claim_mappings"));
    SB_RETURN_IF_ERROR(CheckClaimMappings(mappings));
    r["claim_mappings"] = mappings;
  }
  for (const auto& m : r.value("oauth2_metadata", Json::array()))
    if (m != "id_token" && m != "refresh_token" && m != "access_token")
      return InvalidArgument("Unrecognized oauth2 metadata name " + m.get<std::string>());
  SB_ASSIGN_OR_RETURN(std::string callback, f.GetString("callback_mode"));
  if (callback != "device" && callback != "direct" && callback != "client")
    return InvalidArgument("invalid 'callback_mode': " + callback);
  r["callback_mode"] = callback;
  if (r["user_claim"] == "") return InvalidArgument("a user claim must be defined on the role");
  if (r["verbose_oidc_logging"] == true)
    warnings->push_back("verbose_oidc_logging has been enabled for this role. This is not recommended in production "
                        "since sensitive information may be present in OIDC responses.");
  return Status::Ok();
}

}  // namespace

std::vector<logical::FieldSpec> JwtBackend::RoleFields() {
  std::vector<logical::FieldSpec> fields = {{"name"},
                                            {"role_type"},
                                            {"expiration_leeway", FieldType::kAny},
                                            {"not_before_leeway", FieldType::kAny},
                                            {"clock_skew_leeway", FieldType::kAny},
                                            {"bound_subject"},
                                            {"bound_audiences", FieldType::kStringList},
                                            {"bound_claims_type", FieldType::kString, "string"},
                                            {"bound_claims", FieldType::kMap},
                                            {"claim_mappings", FieldType::kMap},
                                            {"oauth2_metadata", FieldType::kStringList},
                                            {"user_claim"},
                                            {"user_claim_json_pointer", FieldType::kBool},
                                            {"groups_claim"},
                                            {"oidc_scopes", FieldType::kStringList},
                                            {"allowed_redirect_uris", FieldType::kStringList},
                                            {"callback_mode", FieldType::kString, "client"},
                                            {"poll_interval", FieldType::kInt},
                                            {"verbose_oidc_logging", FieldType::kBool},
                                            {"max_age", FieldType::kDuration},
                                            {"token_policies_template_claims", FieldType::kBool}};
  for (auto& spec : TokenFieldSpecs(kDeprecatedTokenFields)) fields.push_back(std::move(spec));
  return fields;
}

Result<Json> JwtBackend::LoadRole(Storage* s, const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto raw, s->Get("role/" + LowerCase(name)));
  if (!raw) return Json(nullptr);
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("jwt role malformed");
  return j;
}

Result<bool> JwtBackend::RoleExists(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
  SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, name));
  return !role.is_null();
}

Result<Response> JwtBackend::ListRoles(Request& req, FieldData&) {
  SB_ASSIGN_OR_RETURN(auto keys, req.storage->List("role/"));
  return Response::WithData(Json{{"keys", keys}});
}

// Create and update alike: the fields supplied change, the rest stay.
Result<Response> JwtBackend::WriteRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
  name = LowerCase(name);
  SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, name));
  if (role.is_null()) role = EmptyRole();
  std::vector<std::string> warnings;
  TokenParams token = TokenParamsFromJson(role);
  SB_RETURN_IF_ERROR(ParseTokenFields(f, kDeprecatedTokenFields, &token, &warnings));
  SB_RETURN_IF_ERROR(ApplyRoleFields(f, &role, &warnings));
  if (role["role_type"] == "oidc" && role.value("allowed_redirect_uris", Json::array()).empty())
    return InvalidArgument("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  if (role["role_type"] != "oidc" && role["bound_audiences"].empty() && token.bound_cidrs.empty() &&
      role["bound_subject"] == "" && (!role["bound_claims"].is_object() || role["bound_claims"].empty()))
    return InvalidArgument("must have at least one bound constraint when creating/updating a role");
  const Json token_json = TokenParamsToJson(token);
  for (const auto& [k, v] : token_json.items()) role[k] = v;
  SB_RETURN_IF_ERROR(req.storage->Put("role/" + name, role.dump()));
  if (warnings.empty()) return Response::Empty();
  Response r;
  r.warnings = warnings;
  return r;
}

Result<Response> JwtBackend::ReadRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
  SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, name));
  if (role.is_null()) return Response::Empty();
  Json data = Json::object();
  const Json fields = EmptyRole();
  for (const auto& [k, v] : fields.items()) data[k] = role.value(k, v);
  PopulateTokenData(TokenParamsFromJson(role), &data);
  if (role.value("poll_interval", int64_t{0}) > 0) data["poll_interval"] = role["poll_interval"];
  return Response::WithData(data);
}

Result<Response> JwtBackend::DeleteRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
  SB_RETURN_IF_ERROR(req.storage->Delete("role/" + LowerCase(name)));
  return Response::Empty();
}

}  // namespace sealbox::auth::jwt
