// Dynamic roles: database/roles/<name>, and creds/<role> whose users live
// only as long as their lease (created on read, renewed and revoked by the
// expiration manager).
#include <algorithm>

#include "base/log.h"
#include "engines/database/database_engine_impl.h"
#include "engines/database/username_template.h"
#include "engines/database/wipe.h"

namespace sealbox::engines::database {
namespace {

// The username for a new credential, from the config's template (or Vault's
// default); an unusable name is an error, never truncated.
Result<std::string> MakeUsername(const ConnectionConfig& cfg, const PluginType& plugin, const UsernameMetadata& md,
                                 int64_t now_nanos) {
  auto tmpl = UsernameTemplate::Parse(cfg.username_template.empty() ? kDefaultUsernameTemplate
                                                                    : cfg.username_template);
  if (!tmpl.ok()) return InvalidArgument("unable to initialize username template: " + tmpl.status().message());
  TemplateEnv env;
  env.unix_nanos = now_nanos;
  auto user = tmpl->Render(md, env);
  if (!user.ok()) return InvalidArgument("unable to generate username: " + user.status().message());
  Status ok = plugin.check_username(*user);
  if (!ok.ok()) return InvalidArgument("unable to generate username: " + ok.message());
  return user;
}

constexpr int64_t kTtlWithoutMount = 768 * 3600;  // Vault's system default, for tests without a core

}  // namespace

Result<logical::Response> DatabaseEngine::WriteRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(Role role, Role::FromFields(f));
  SB_RETURN_IF_ERROR(req.storage->Put("roles/" + f.Get("name").get<std::string>(), role.ToJson().dump()));
  return Response::Empty();
}

Result<logical::Response> DatabaseEngine::ReadRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(auto role, LoadEntry<Role>(req.storage, "roles/" + f.Get("name").get<std::string>()));
  if (!role) return Response::Empty();
  Json data = role->ToJson();
  data["credential_type"] = "password";  // Vault's default
  return Response::WithData(data);
}

// The role's TTLs bounded by the mount's.
std::pair<int64_t, int64_t> DatabaseEngine::LeaseTtls(const Role& role) const {
  const int64_t mount_max = mount_ ? mount_->MaxLeaseTtl() : kTtlWithoutMount;
  int64_t max_ttl = role.max_ttl;
  if (max_ttl <= 0 || (mount_ && max_ttl > mount_max)) max_ttl = mount_max;
  int64_t ttl = role.default_ttl;
  if (ttl <= 0) ttl = mount_ ? mount_->DefaultLeaseTtl() : kTtlWithoutMount;
  return {std::min(ttl, max_ttl), max_ttl};
}

Result<logical::Response> DatabaseEngine::Creds(Request& req, FieldData& f) {
  const std::string role_name = f.Get("role").get<std::string>();
  SB_ASSIGN_OR_RETURN(auto role, LoadEntry<Role>(req.storage, "roles/" + role_name));
  if (!role) return InvalidArgument("unknown role: " + role_name);
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, LoadConfig(req.storage, role->db_name));
  if (!cfg.AllowsRole(role_name))
    return InvalidArgument("\"" + role_name + "\" is not an allowed role");  // Vault: 500; it never succeeds on retry
  if (role->creation_statements.empty()) return InvalidArgument("empty creation statements");
  const PluginType* type = FindPlugin(plugin_types_, cfg.plugin_name);
  if (type == nullptr) return InvalidArgument("unsupported plugin");
  const auto [ttl, max_ttl] = LeaseTtls(*role);
  const int64_t now_nanos = clock_->NowNanos();
  const std::string display = req.token ? req.token->display_name : "token";
  NewUser user;
  WipeOnExit wipe{&user.password};
  SB_ASSIGN_OR_RETURN(user.username, MakeUsername(cfg, *type, UsernameMetadata{display, role_name}, now_nanos));
  SB_ASSIGN_OR_RETURN(user.password, NewPassword(cfg));
  user.expiration_unix = now_nanos / 1'000'000'000 + ttl + 5;
  user.statements = role->creation_statements;
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, role->db_name));
  Status s = plugin->CreateUser(user);
  if (s.code() == StatusCode::kInvalidArgument)
    return InvalidArgument("cannot build the creation statements: " + s.message());
  if (!s.ok()) {
    log::Error("database: creating credentials for role " + role_name + " failed: " + s.message());
    return Internal("failed to create credentials");
  }
  Response resp = Response::WithData(Json{{"username", user.username}, {"password", user.password}});
  logical::Secret sec;
  sec.ttl = ttl;
  sec.max_ttl = max_ttl;
  sec.renewable = true;
  sec.internal_data = CredentialLease{user.username, role_name, role->db_name, role->revocation_statements,
                                      role->renew_statements}
                          .ToJson();
  resp.secret = std::move(sec);
  return resp;
}

Result<logical::Response> DatabaseEngine::Renew(Request& req) {
  SB_ASSIGN_OR_RETURN(CredentialLease lease, CredentialLease::FromJson(req.data));
  SB_ASSIGN_OR_RETURN(int64_t ttl, JsonToInt(req.data.value("ttl", Json(0))));
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, lease.db_name));
  SB_RETURN_IF_ERROR(plugin->RenewUser(lease.username, lease.renew_statements, clock_->NowSeconds() + ttl + 5));
  return Response::Empty();
}

Result<logical::Response> DatabaseEngine::Revoke(Request& req) {
  SB_ASSIGN_OR_RETURN(CredentialLease lease, CredentialLease::FromJson(req.data));
  if (lease.username.empty()) return Response::Empty();
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, lease.db_name));
  SB_RETURN_IF_ERROR(plugin->RevokeUser(lease.username, lease.revocation_statements));
  return Response::Empty();
}

}  // namespace sealbox::engines::database
