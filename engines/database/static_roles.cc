// Static roles: database/static-roles/<name>, static-creds/<name> and
// rotate-role/<name>: an existing account whose password Sealbox rotates,
// on request and every rotation_period (RotationTick, on the shared
// RotationScheduler), keeping the previous password valid for
// rotation_overlap under the plugin's previous login (the "twin").
#include "base/log.h"
#include "engines/database/database_engine_impl.h"
#include "engines/database/wipe.h"

namespace sealbox::engines::database {

Result<logical::Response> DatabaseEngine::WriteStaticRole(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  SB_ASSIGN_OR_RETURN(auto old, LoadEntry<StaticRole>(req.storage, "static-roles/" + name));
  const bool existed = old.has_value();
  StaticRole role = existed ? std::move(*old) : StaticRole{};
  SB_RETURN_IF_ERROR(role.ApplyAccount(f, existed));
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, LoadConfig(req.storage, role.db_name));
  if (!cfg.AllowsRole(name)) return InvalidArgument("\"" + name + "\" is not an allowed role");
  SB_RETURN_IF_ERROR(role.ApplyRotation(f, existed));
  if (role.rotation_overlap > 0) {
    // A role of the previous login's name that Sealbox did not create is never replaced.
    SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, role.db_name));
    SB_RETURN_IF_ERROR(plugin->CheckPreviousLoginFree(role.username));
  }
  SB_RETURN_IF_ERROR(role.ApplyStatements(f, existed));
  SB_RETURN_IF_ERROR(req.storage->Put("static-roles/" + name, role.ToJson().dump()));
  // A new static role takes over the account at once, as in Vault.
  if (!existed) {
    Status s = RotateStatic(req.storage, name);
    if (!s.ok()) {
      req.storage->Delete("static-roles/" + name).IgnoreError();
      return s;
    }
  }
  return Response::Empty();
}

Result<logical::Response> DatabaseEngine::ReadStaticRole(Request& req, FieldData& f, bool creds) {
  SB_ASSIGN_OR_RETURN(auto role, LoadEntry<StaticRole>(req.storage, "static-roles/" + f.Get("name").get<std::string>()));
  if (!role) return creds ? Result<Response>(InvalidArgument("unknown role")) : Response::Empty();
  return Response::WithData(role->ToReadResponse(clock_->NowSeconds(), creds));
}

// Deleting a static role leaves the account alone but drops its twin (the
// twin cannot log in after its VALID UNTIL anyway, so a database that
// cannot be reached only earns a warning).
Result<logical::Response> DatabaseEngine::DeleteStaticRole(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  std::lock_guard rl(rotate_mu_);
  SB_ASSIGN_OR_RETURN(auto role, LoadEntry<StaticRole>(req.storage, "static-roles/" + name));
  Response resp;
  if (role && role->HasTwin()) {
    Status s = [&]() -> Status {
      SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, role->db_name));
      return plugin->DropPreviousLogin(role->username);
    }();
    if (!s.ok()) {
      log::Warn("database: dropping the previous-password role of " + name + " failed: " + s.message());
      resp.warnings.push_back("could not drop the previous-password role " + role->twin_username +
                              "; its password expires at its VALID UNTIL");
    }
  }
  SB_RETURN_IF_ERROR(req.storage->Delete("static-roles/" + name));
  return resp;
}

Status DatabaseEngine::RotateStatic(Storage* storage, const std::string& name) {
  std::lock_guard rl(rotate_mu_);
  SB_ASSIGN_OR_RETURN(auto stored, LoadEntry<StaticRole>(storage, "static-roles/" + name));
  if (!stored) return InvalidArgument("unknown role");
  StaticRole& role = *stored;
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, LoadConfig(storage, role.db_name));
  PasswordChange change;
  WipeOnExit wipe{&change.password, &change.previous_password, &role.password, &cfg.password};
  SB_ASSIGN_OR_RETURN(change.password, NewPassword(cfg));
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(storage, role.db_name));
  // rotation_overlap: the previous password stays valid until now + overlap.
  // The first rotation has no previous password Sealbox knows.
  const int64_t now = clock_->NowSeconds();
  const bool make_twin = role.rotation_overlap > 0 && !role.password.empty();
  change.username = role.username;
  change.statements = role.rotation_statements;
  change.replace_previous_login = make_twin || role.HasTwin();
  if (make_twin) change.previous_password = role.password;
  change.previous_valid_until_unix = now + role.rotation_overlap;
  PasswordChangeResult result = plugin->SetPassword(change);
  if (result.previous_login_dropped) role.ForgetTwin();
  if (!result.status.ok()) {
    if (!result.change_attempted) return result.status;
    log::Error("database: rotating static role " + name + " failed: " + result.status.message());
    storage->Put("static-roles/" + name, role.ToJson().dump()).IgnoreError();  // the dropped twin is gone either way
    return Internal("failed to rotate the static role's password");
  }
  role.password = change.password;
  role.last_vault_rotation_unix = now;
  if (make_twin) {
    role.twin_username = plugin->PreviousLogin(role.username);
    role.previous_valid_until_unix = change.previous_valid_until_unix;
  }
  return storage->Put("static-roles/" + name, role.ToJson().dump());
}

// The overlap of a static role ended: drop the twin, forget it.
Status DatabaseEngine::ExpireTwin(Storage* storage, const std::string& name) {
  std::lock_guard rl(rotate_mu_);
  SB_ASSIGN_OR_RETURN(auto role, LoadEntry<StaticRole>(storage, "static-roles/" + name));
  if (!role || !role->OverlapEnded(clock_->NowSeconds())) return Status::Ok();
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(storage, role->db_name));
  SB_RETURN_IF_ERROR(plugin->DropPreviousLogin(role->username));
  role->ForgetTwin();
  return storage->Put("static-roles/" + name, role->ToJson().dump());
}

// Static roles whose rotation_period has passed are rotated, and ended
// overlaps dropped, each time the scheduler ticks (about every second).
void DatabaseEngine::RotationTick(const std::atomic<bool>& cancelled) {
  auto names = storage_->List("static-roles/");
  if (!names.ok()) return;
  const int64_t now = clock_->NowSeconds();
  for (const auto& name : *names) {
    if (cancelled) return;
    auto role = LoadEntry<StaticRole>(storage_, "static-roles/" + name);
    if (!role.ok() || !*role) continue;
    if ((*role)->RotationDue(now)) {
      Status s = RotateStatic(storage_, name);
      if (!s.ok()) log::Warn("database: rotating static role " + name + " failed: " + s.message());
    }
    if ((*role)->OverlapEnded(now)) {
      Status s = ExpireTwin(storage_, name);
      if (!s.ok())
        log::Warn("database: dropping the previous-password role of " + name + " failed: " + s.message());
    }
  }
}

}  // namespace sealbox::engines::database
