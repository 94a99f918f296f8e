// login: role_id (+ secret_id) -> token; and the renewal re-check.
#include "auth/approle/backend.h"
#include "auth/cidr.h"

namespace sealbox::auth::approle {

namespace {

// Vault's one answer for an unknown role_id, an unknown, spent or expired
// secret_id: nothing tells a caller which half was wrong.
Status InvalidCredentials() { return InvalidArgument("invalid role or secret ID"); }

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

Result<SecretIdEntry> AppRoleBackend::SpendSecretId(Request& req, const Role& role, const std::string& secret_id) {
  if (secret_id.size() > kMaxHmacInput) return InvalidCredentials();
  SB_ASSIGN_OR_RETURN(std::string key, SecretIdKey(role, secret_id));
  SB_ASSIGN_OR_RETURN(std::string presented, KeyedHash(role.hmac_key, secret_id));
  // Read, check and spend under the secret-id's lock: two logins racing for
  // the last use cannot both have it.
  std::lock_guard sl(SecretIdLock(key));
  SB_ASSIGN_OR_RETURN(auto raw, req.storage->Get(key));
  if (!raw) return InvalidCredentials();
  SB_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdFromJson(Json::parse(*raw, nullptr, false)));
  if (!HashesEqual(e.hmac, presented)) return InvalidCredentials();
  if (SecretIdExpired(e, clock_->NowNanos())) {
    SB_RETURN_IF_ERROR(DeleteSecretId(req.storage, role, key, e));
    return InvalidCredentials();
  }
  // The CIDRs are checked before a use is spent: a refused address costs nothing.
  if (!CidrsWithin(role.secret_id_bound_cidrs, e.cidr_list))
    return InvalidArgument("the CIDR blocks on the secret ID are no longer within the role's");
  if (!e.cidr_list.empty() && !IpInCidrs(req.remote_addr, e.cidr_list))
    return InvalidArgument("source address \"" + req.remote_addr +
                           "\" unauthorized through CIDR restrictions on the secret ID");
  if (e.num_uses == 1) {
    SB_RETURN_IF_ERROR(DeleteSecretId(req.storage, role, key, e));
  } else if (e.num_uses > 1) {
    SecretIdEntry spent = e;
    spent.num_uses -= 1;
    spent.last_updated_nanos = clock_->NowNanos();
    SB_RETURN_IF_ERROR(req.storage->Put(key, SecretIdToJson(spent).dump()));
  }
  return e;
}

Result<Response> AppRoleBackend::Login(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string role_id_raw, f.GetString("role_id"));
  const std::string role_id = Trim(role_id_raw);
  if (role_id.empty()) return InvalidArgument("missing role_id");
  SB_ASSIGN_OR_RETURN(auto role, RoleByRoleId(req.storage, role_id));
  if (!role) return InvalidCredentials();
  if (!role->secret_id_bound_cidrs.empty() && !IpInCidrs(req.remote_addr, role->secret_id_bound_cidrs))
    return InvalidArgument("source address \"" + req.remote_addr + "\" unauthorized by CIDR restrictions on the role");

  Json metadata = Json::object();
  std::vector<std::string> token_cidrs = role->token.bound_cidrs;
  if (role->bind_secret_id) {
    SB_ASSIGN_OR_RETURN(std::string secret_id_raw, f.GetString("secret_id"));
    const std::string secret_id = Trim(secret_id_raw);
    if (secret_id.empty()) return InvalidArgument("missing secret_id");
    SB_ASSIGN_OR_RETURN(SecretIdEntry e, SpendSecretId(req, *role, secret_id));
    if (e.metadata.is_object()) metadata = e.metadata;
    if (!e.token_bound_cidrs.empty()) token_cidrs = e.token_bound_cidrs;
  }
  metadata["role_name"] = role->name;

  logical::Auth a;
  PopulateTokenAuth(role->token, &a);
  a.bound_cidrs = std::move(token_cidrs);
  a.metadata = metadata;
  a.alias_name = role->role_id;
  a.alias_metadata = std::move(metadata);
  a.internal_data = {{"role_name", role->name}};
  Response resp;
  resp.auth = std::move(a);
  return resp;
}

// A renewal: the role that issued the token must still exist.
Result<Response> AppRoleBackend::LoginRenew(Request& req, FieldData&) {
  const Json meta = req.data.is_object() ? req.data.value("metadata", Json::object()) : Json::object();
  const std::string name = meta.is_object() ? meta.value("role_name", "") : "";
  if (name.empty()) return Internal("failed to fetch role_name during renewal");
  std::shared_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return InvalidArgument("role \"" + name + "\" does not exist during renewal");
  return RenewalResponse(role->token);
}

Result<std::string> AppRoleBackend::QuotaRole(Request& req) {
  if (req.path != "login" || !req.data.is_object()) return std::string();
  auto it = req.data.find("role_id");
  if (it == req.data.end() || !it->is_string()) return std::string();
  SB_ASSIGN_OR_RETURN(auto role, RoleByRoleId(req.storage, it->get<std::string>()));
  return role ? role->name : std::string();
}

}  // namespace sealbox::auth::approle
