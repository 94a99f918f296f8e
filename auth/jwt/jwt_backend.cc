#include "auth/jwt/jwt_backend.h"

#include <algorithm>
#include <cctype>

#include "auth/jws.h"
#include "auth/jwt/backend.h"

namespace sealbox::auth::jwt {

using logical::FieldType;
using logical::Operation;

JwtBackend::JwtBackend(const logical::BackendConfig& cfg, std::shared_ptr<HttpClient> client)
    : clock_(cfg.clock ? cfg.clock : SystemClock::Default()), keys_(std::move(client), clock_) {
  using Handler = Result<Response> (JwtBackend::*)(Request&, FieldData&);
  auto bind = [this](Handler h) { return [this, h](Request& r, FieldData& f) { return (this->*h)(r, f); }; };
  SetRoutes({
      {.pattern = "config",
       .fields = {{"oidc_discovery_url"},
                  {"oidc_discovery_ca_pem"},
                  {"oidc_client_id"},
                  {"oidc_client_secret"},
                  {"oidc_response_mode"},
                  {"oidc_response_types", FieldType::kStringList},
                  {"jwks_url"},
                  {"jwks_ca_pem"},
                  {"default_role"},
                  {"jwt_validation_pubkeys", FieldType::kStringList},
                  {"jwt_supported_algs", FieldType::kStringList},
                  {"bound_issuer"},
                  {"provider_config", FieldType::kMap},
                  {"override_allowed_server_names", FieldType::kStringList},
                  {"namespace_in_state", FieldType::kBool},
                  {"skip_jwks_validation", FieldType::kBool, false}},
       .ops = {{Operation::kRead, bind(&JwtBackend::ReadConfig)},
               {Operation::kUpdate, bind(&JwtBackend::WriteConfig)}}},
      {.pattern = "role/", .ops = {{Operation::kList, bind(&JwtBackend::ListRoles)}}},
      {.pattern = "role/{name}",
       .fields = RoleFields(),
       .ops = {{Operation::kRead, bind(&JwtBackend::ReadRole)},
               {Operation::kCreate, bind(&JwtBackend::WriteRole)},
               {Operation::kUpdate, bind(&JwtBackend::WriteRole)},
               {Operation::kDelete, bind(&JwtBackend::DeleteRole)}},
       .exists = [this](Request& r, FieldData& f) { return RoleExists(r, f); }},
      {.pattern = "login",
       .fields = {{"role"}, {"jwt"}},
       .ops = {{Operation::kUpdate, bind(&JwtBackend::Login)}, {Operation::kRenew, bind(&JwtBackend::LoginRenew)}}},
  });
  SetSpecialPaths({.root = {}, .unauthenticated = {"login"}});
}

Result<Json> JwtBackend::LoadConfig(Storage* s) {
  SB_ASSIGN_OR_RETURN(auto raw, s->Get("config"));
  if (!raw) return Json(nullptr);
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("jwt config malformed");
  return j;
}

Result<Response> JwtBackend::ReadConfig(Request& req, FieldData&) {
  SB_ASSIGN_OR_RETURN(Json cfg, LoadConfig(req.storage));
  if (cfg.is_null()) return Response::Empty();
  cfg.erase("oidc_client_secret");  // a credential: never read back, as Vault
  cfg["status"] = "valid";          // only a config that passed the write checks is stored
  return Response::WithData(cfg);
}

namespace {

// Vault's checks of the OIDC flow fields (stored, the flow itself is not served).
Status CheckOidcFields(const Json& cfg) {
  const bool id = !cfg["oidc_client_id"].get<std::string>().empty();
  const bool secret = !cfg["oidc_client_secret"].get<std::string>().empty();
  if (id != secret) return InvalidArgument("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");
  if (id && cfg["oidc_discovery_url"].get<std::string>().empty())
    return InvalidArgument("'oidc_discovery_url' must be set for OIDC");
  bool has_id_token = false;
  for (const auto& t : cfg["oidc_response_types"]) {
    if (t != "code" && t != "id_token")
      return InvalidArgument("invalid response_types " + cfg["oidc_response_types"].dump() +
                             ". 'code' and 'id_token' are allowed");
    has_id_token = has_id_token || t == "id_token";
  }
  const std::string mode = cfg["oidc_response_mode"].get<std::string>();
  if ((mode.empty() || mode == "query") && has_id_token)
    return InvalidArgument("query response_mode may not be used with an id_token response_type");
  if (!mode.empty() && mode != "query" && mode != "form_post")
    return InvalidArgument("invalid response_mode: \"" + mode + "\"");
  return Status::Ok();
}

}  // namespace

// Exactly one key source; a remote one must answer now (as Vault checks
// it), unless skip_jwks_validation turns that into a warning.
Result<Response> JwtBackend::WriteConfig(Request& req, FieldData& f) {
  Json cfg = Json::object();
  for (const char* k : {"oidc_discovery_url", "oidc_discovery_ca_pem", "oidc_client_id", "oidc_client_secret",
                        "oidc_response_mode", "jwks_url", "jwks_ca_pem", "bound_issuer"}) {
    SB_ASSIGN_OR_RETURN(cfg[k], f.GetString(k));
  }
  SB_ASSIGN_OR_RETURN(std::string default_role, f.GetString("default_role"));
  cfg["default_role"] = LowerCase(default_role);
  for (const char* k : {"oidc_response_types", "jwt_validation_pubkeys", "jwt_supported_algs",
                        "override_allowed_server_names"}) {
    SB_ASSIGN_OR_RETURN(cfg[k], f.GetStringList(k));
  }
  SB_ASSIGN_OR_RETURN(Json provider, f.GetMap("provider_config"));
  if (provider.is_object() && !provider.empty()) return InvalidArgument("invalid provider_config: not supported");
  cfg["provider_config"] = Json::object();
  if (!cfg["override_allowed_server_names"].empty())
    return InvalidArgument("invalid override_allowed_server_names: not supported");
  SB_ASSIGN_OR_RETURN(Json existing, LoadConfig(req.storage));
  bool ns_in_state = existing.is_object() ? existing.value("namespace_in_state", true) : true;
  if (f.Has("namespace_in_state")) {
    SB_ASSIGN_OR_RETURN(ns_in_state, f.GetBool("namespace_in_state"));
  }
  cfg["namespace_in_state"] = ns_in_state;

  const auto& pems = cfg["jwt_validation_pubkeys"];
  std::string& discovery = cfg["oidc_discovery_url"].get_ref<std::string&>();
  const int sources = !discovery.empty() + !pems.empty() + !cfg["jwks_url"].get<std::string>().empty();
  if (sources != 1)
    return InvalidArgument("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
  SB_RETURN_IF_ERROR(CheckOidcFields(cfg));
  Response resp;
  if (size_t cut = discovery.find(".well-known/openid-configuration"); cut != std::string::npos) {
    discovery.resize(cut);
    resp.warnings.push_back("modifying provided `OIDCDiscoveryURL` to \"" + discovery + "\"");
  }
  for (const auto& pem : pems) {
    if (!PublicKey::FromPem(pem.get<std::string>()).ok())
      return InvalidArgument("error parsing public key: data does not contain any valid public keys");
  }
  for (const auto& alg : cfg["jwt_supported_algs"]) {
    if (std::find(kSupportedAlgs.begin(), kSupportedAlgs.end(), alg.get<std::string>()) == kSupportedAlgs.end())
      return InvalidArgument("invalid jwt_supported_algs: unsupported signing algorithm \"" + alg.get<std::string>() +
                             "\"");
  }
  if (pems.empty()) {
    Status checked = keys_.Check(cfg);
    SB_ASSIGN_OR_RETURN(bool skip, f.GetBool("skip_jwks_validation"));
    if (!checked.ok() && !skip) return checked;
    if (!checked.ok()) resp.warnings.push_back(checked.message());
  } else {
    keys_.Clear();
  }
  SB_RETURN_IF_ERROR(req.storage->Put("config", cfg.dump()));
  if (resp.warnings.empty()) return Response::Empty();
  return resp;
}

logical::BackendFactory Factory(std::shared_ptr<HttpClient> client) {
  return [client](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new JwtBackend(cfg, client));
  };
}

}  // namespace sealbox::auth::jwt
