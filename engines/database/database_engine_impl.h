// DatabaseEngine: the backend behind database_engine.h, declared here so its
// handlers live in files by concept: connection configs (config_handlers.cc),
// dynamic roles and their leases (dynamic_roles.cc), static roles and their
// rotation (static_roles.cc). Private to engines/database/.
//
// Revocation and renewal arrive as kRevoke / kRenew requests routed by the
// expiration manager, carrying the lease's CredentialLease.
// Thread-safety: handlers run concurrently; the plugin cache has its own
// mutex, and one password change runs at a time (rotate_mu_).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engines/database/connection_config.h"
#include "engines/database/plugin.h"
#include "engines/database/roles.h"
#include "engines/database/rotation_scheduler.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::engines::database {

class DatabaseEngine final : public logical::RoutedBackend {
 public:
  DatabaseEngine(const logical::BackendConfig& cfg, const std::vector<PluginType>& plugins,
                 std::shared_ptr<RotationScheduler> scheduler);
  ~DatabaseEngine() override;
  void Cleanup() override;

 private:
  using Request = logical::Request;
  using Response = logical::Response;
  using FieldData = logical::FieldData;

  // Routes, one list per concept.
  std::vector<logical::PathSpec> ConfigRoutes();
  std::vector<logical::PathSpec> RoleRoutes();
  std::vector<logical::PathSpec> StaticRoleRoutes();
  void StopRotation();

  // config_handlers.cc
  Result<Response> WriteConfig(Request& req, FieldData& f);
  Result<Response> ReadConfig(Request& req, FieldData& f);
  Result<Response> DeleteConfig(Request& req, FieldData& f);
  Result<Response> ResetConnection(Request& req, FieldData& f);
  Result<Response> RotateRoot(Request& req, FieldData& f);

  // dynamic_roles.cc
  Result<Response> WriteRole(Request& req, FieldData& f);
  Result<Response> ReadRole(Request& req, FieldData& f);
  Result<Response> Creds(Request& req, FieldData& f);
  Result<Response> Renew(Request& req);
  Result<Response> Revoke(Request& req);
  std::pair<int64_t, int64_t> LeaseTtls(const Role& role) const;  // ttl, max_ttl

  // static_roles.cc
  Result<Response> WriteStaticRole(Request& req, FieldData& f);
  Result<Response> ReadStaticRole(Request& req, FieldData& f, bool creds);
  Result<Response> DeleteStaticRole(Request& req, FieldData& f);
  Status RotateStatic(Storage* storage, const std::string& name);
  Status ExpireTwin(Storage* storage, const std::string& name);
  void RotationTick(const std::atomic<bool>& cancelled);

  // Shared (database_engine.cc).
  Result<ConnectionConfig> LoadConfig(Storage* s, const std::string& name);  // InvalidArgument if missing
  // The plugin for config `name`, opened once and kept until the config changes.
  Result<std::shared_ptr<DatabasePlugin>> PluginFor(Storage* s, const std::string& name);
  void ForgetPlugin(const std::string& name);
  // A new password: from the config's password policy when it names one,
  // else the built-in generator.
  Result<std::string> NewPassword(const ConnectionConfig& cfg);
  Result<Response> List(Request& req, const std::string& prefix);

  const std::vector<PluginType> plugin_types_;
  const Clock* clock_;
  const logical::MountView* mount_;
  logical::PasswordGenerator generate_password_;  // empty without a core (tests)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<DatabasePlugin>> plugins_;  // by config name; guarded by mu_
  std::mutex rotate_mu_;  // one password change at a time (root and static roles)
  Storage* storage_ = nullptr;
  std::shared_ptr<RotationScheduler> scheduler_;
  std::optional<uint64_t> rotation_job_;  // set while the scheduler runs this mount's rotations
};

// Reads entry `key` as T (T::FromJson); nullopt if it does not exist.
template <typename T>
Result<std::optional<T>> LoadEntry(Storage* s, const std::string& key) {
  SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
  if (!raw) return std::optional<T>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("database entry malformed");
  SB_ASSIGN_OR_RETURN(T entry, T::FromJson(j));
  return std::optional<T>(std::move(entry));
}

}  // namespace sealbox::engines::database
