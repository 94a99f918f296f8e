// Connection configs: database/config/<name>, reset/<name>, rotate-root/<name>.
#include "base/log.h"
#include "engines/database/database_engine_impl.h"
#include "engines/database/wipe.h"

namespace sealbox::engines::database {

Result<logical::Response> DatabaseEngine::WriteConfig(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, ConnectionConfig::FromFields(f, plugin_types_));
  if (cfg.verify_connection) {
    const PluginType* type = FindPlugin(plugin_types_, cfg.plugin_name);  // FromFields found it
    Status s = type->open(cfg, clock_)->Verify();
    if (!s.ok()) return InvalidArgument("error creating database object: " + s.message());
  }
  SB_RETURN_IF_ERROR(req.storage->Put("config/" + name, cfg.ToJson().dump()));
  ForgetPlugin(name);
  return Response::Empty();
}

Result<logical::Response> DatabaseEngine::ReadConfig(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(auto cfg, LoadEntry<ConnectionConfig>(req.storage, "config/" + f.Get("name").get<std::string>()));
  if (!cfg) return Response::Empty();
  return Response::WithData(cfg->ToReadResponse());  // the root password is never returned
}

Result<logical::Response> DatabaseEngine::DeleteConfig(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  SB_RETURN_IF_ERROR(req.storage->Delete("config/" + name));
  ForgetPlugin(name);
  return Response::Empty();
}

// Closes the config's sessions; the next request opens new ones.
Result<logical::Response> DatabaseEngine::ResetConnection(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  SB_ASSIGN_OR_RETURN(auto cfg, LoadEntry<ConnectionConfig>(req.storage, "config/" + name));
  if (!cfg)  // Vault: 500; a missing connection never succeeds on retry
    return InvalidArgument("failed to find entry for connection with name: \"" + name + "\"");
  ForgetPlugin(name);
  return Response::Empty();
}

Result<logical::Response> DatabaseEngine::RotateRoot(Request& req, FieldData& f) {
  const std::string name = f.Get("name").get<std::string>();
  std::lock_guard rl(rotate_mu_);
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, LoadConfig(req.storage, name));
  if (cfg.username.empty())
    return InvalidArgument("unable to rotate root credentials: no username in configuration");
  std::string pass;
  WipeOnExit wipe{&pass, &cfg.password};
  SB_ASSIGN_OR_RETURN(pass, NewPassword(cfg));
  SB_ASSIGN_OR_RETURN(auto plugin, PluginFor(req.storage, name));
  Status s = plugin->RotateRoot(pass);
  if (s.code() == StatusCode::kInvalidArgument) return s;  // the statements could not be built
  if (!s.ok()) {
    log::Error("database: rotate-root of " + name + " failed: " + s.message());
    return Internal("failed to rotate root credentials");
  }
  cfg.password = pass;
  Status put = req.storage->Put("config/" + name, cfg.ToJson().dump());
  ForgetPlugin(name);  // the pooled sessions used the old password
  if (!put.ok()) {
    log::Error("database: rotate-root of " + name + " changed the password but could not store it");
    return put;
  }
  return Response::Empty();
}

}  // namespace sealbox::engines::database
