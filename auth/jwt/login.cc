// Login, in Vault's order (path_login.go): the config and role, the
// signature, the algorithm, the registered claims, the audience rule, the
// identity (user claim, metadata, groups), the bound claims; then the Auth.
#include <algorithm>
#include <cctype>

#include "auth/cidr.h"
#include "auth/jws.h"
#include "auth/jwt/backend.h"
#include "auth/jwt/claims.h"

namespace sealbox::auth::jwt {

namespace {

Expected ExpectedFor(const Json& cfg, const Json& role) {
  Expected e;
  e.issuer = cfg.value("bound_issuer", "");
  e.subject = role.value("bound_subject", "");
  e.audiences = role.value("bound_audiences", std::vector<std::string>{});
  e.expiration_leeway = role.value("expiration_leeway", int64_t{0});
  e.not_before_leeway = role.value("not_before_leeway", int64_t{0});
  e.clock_skew_leeway = role.value("clock_skew_leeway", int64_t{0});
  return e;
}

}  // namespace

Result<Response> JwtBackend::Login(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(Json cfg, LoadConfig(req.storage));
  if (cfg.is_null()) return InvalidArgument("could not load configuration");
  SB_ASSIGN_OR_RETURN(std::string role_name, f.GetString("role"));
  role_name = LowerCase(role_name);
  if (role_name.empty()) role_name = cfg.value("default_role", "");
  if (role_name.empty()) return InvalidArgument("missing role");
  SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, role_name));
  if (role.is_null()) return InvalidArgument("role \"" + role_name + "\" could not be found");
  if (role.value("role_type", "") == "oidc") return InvalidArgument("role with oidc role_type is not allowed");
  SB_ASSIGN_OR_RETURN(std::string token, f.GetString("jwt"));
  if (token.empty()) return InvalidArgument("missing token");
  const TokenParams token_params = TokenParamsFromJson(role);
  if (!token_params.bound_cidrs.empty() && !IpInCidrs(req.remote_addr, token_params.bound_cidrs))
    return PermissionDenied();

  // No signature, "none" or an HMAC algorithm: refused by the key set.
  SB_ASSIGN_OR_RETURN(Jwt jwt, keys_.Verify(cfg, token));
  const Json& claims = jwt.claims;
  auto algs = cfg.value("jwt_supported_algs", std::vector<std::string>{});
  if (algs.empty()) algs = kSupportedAlgs;
  if (std::find(algs.begin(), algs.end(), jwt.alg) == algs.end())
    return InvalidArgument(
        "error validating token: invalid algorithm (alg) header parameter: token signed with unexpected algorithm");
  Status registered = ValidateRegisteredClaims(claims, ExpectedFor(cfg, role), clock_->NowSeconds());
  if (!registered.ok()) return InvalidArgument("error validating token: " + registered.message());
  const Json aud = GetClaim(claims, "aud");
  if (aud.is_array() && !aud.empty() && role.value("bound_audiences", Json::array()).empty())
    return InvalidArgument("audience claim found in JWT but no audiences bound to the role");
  return LoginResponse(role, role_name, claims);
}

Result<Response> JwtBackend::LoginResponse(const Json& role, const std::string& role_name, const Json& claims) {
  const std::string user_claim = role.value("user_claim", "");
  const Json user = role.value("user_claim_json_pointer", false) ? GetClaim(claims, user_claim)
                                                                  : claims.value(user_claim, Json());
  if (user.is_null()) return InvalidArgument("claim \"" + user_claim + "\" not found in token");
  if (!user.is_string()) return InvalidArgument("claim \"" + user_claim + "\" could not be converted to string");
  SB_ASSIGN_OR_RETURN(Json metadata, ExtractMetadata(claims, role.value("claim_mappings", Json::object())));
  metadata["role"] = role_name;
  // Sealbox's identity store has no groups: the claim is checked as Vault
  // checks it, and the names are not kept (docs/compatibility.md).
  if (const std::string groups = role.value("groups_claim", ""); !groups.empty()) {
    SB_RETURN_IF_ERROR(GroupNames(claims, groups).status());
  }
  Status bound = ValidateBoundClaims(role.value("bound_claims", Json::object()),
                                     role.value("bound_claims_type", "string") == "glob", claims);
  if (!bound.ok()) return InvalidArgument("error validating claims: " + bound.message());

  logical::Auth a;
  PopulateTokenAuth(TokenParamsFromJson(role), &a);
  a.display_name = user.get<std::string>();
  a.alias_name = user.get<std::string>();
  a.alias_metadata = metadata;
  a.metadata = metadata;
  a.internal_data = {{"role", role_name}};
  Response resp;
  resp.auth = std::move(a);
  return resp;
}

// A renewal: the role that issued the token must still exist, and its
// token TTLs as they are now apply.
Result<Response> JwtBackend::LoginRenew(Request& req, FieldData&) {
  const Json meta = req.data.is_object() ? req.data.value("metadata", Json::object()) : Json::object();
  const std::string name = meta.is_object() ? meta.value("role", "") : "";
  if (name.empty()) return Internal("failed to fetch role_name during renewal");
  SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, name));
  if (role.is_null()) return InvalidArgument("role " + name + " does not exist during renewal");
  return RenewalResponse(TokenParamsFromJson(role));
}

}  // namespace sealbox::auth::jwt
