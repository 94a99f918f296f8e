// The JWT backend's class, shared by its sources: jwt_backend.cc (routes
// and config), role.cc (roles) and login.cc.
#pragma once

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "auth/jwt/key_set.h"
#include "auth/token_fields.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::auth::jwt {

using logical::FieldData;
using logical::Request;
using logical::Response;

// The pre-tokenutil names Vault's JWT roles still accept.
inline const DeprecatedTokenFields kDeprecatedTokenFields = {"policies", "ttl",       "max_ttl",
                                                             "period",   "num_uses",  "bound_cidrs"};

// The signing algorithms a login accepts when the config names none.
inline const std::vector<std::string> kSupportedAlgs = {"RS256", "RS384", "RS512", "ES256", "ES384",
                                                        "ES512", "PS256", "PS384", "PS512", "EdDSA"};

// Role names are case-insensitive, as Vault's TypeLowerCaseString.
inline std::string LowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class JwtBackend final : public logical::RoutedBackend {
 public:
  JwtBackend(const logical::BackendConfig& cfg, std::shared_ptr<HttpClient> client);
  void Cleanup() override { keys_.Clear(); }

 private:
  std::vector<logical::FieldSpec> RoleFields();

  // ---- config (jwt_backend.cc) ----
  Result<Response> ReadConfig(Request& req, FieldData& f);
  Result<Response> WriteConfig(Request& req, FieldData& f);
  // The stored config; null when absent.
  static Result<Json> LoadConfig(Storage* s);

  // ---- roles (role.cc) ----
  Result<Response> ListRoles(Request& req, FieldData& f);
  Result<Response> ReadRole(Request& req, FieldData& f);
  Result<Response> WriteRole(Request& req, FieldData& f);
  Result<Response> DeleteRole(Request& req, FieldData& f);
  Result<bool> RoleExists(Request& req, FieldData& f);
  // The stored role; null when absent.
  static Result<Json> LoadRole(Storage* s, const std::string& name);

  // ---- login (login.cc) ----
  Result<Response> Login(Request& req, FieldData& f);
  Result<Response> LoginRenew(Request& req, FieldData& f);
  // The Auth of a token whose claims passed the role's checks.
  Result<Response> LoginResponse(const Json& role, const std::string& role_name, const Json& claims);

  const Clock* clock_;
  KeySet keys_;
};

}  // namespace sealbox::auth::jwt
