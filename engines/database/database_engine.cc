#include "engines/database/database_engine.h"

#include "base/crypto.h"
#include "engines/database/database_engine_impl.h"

namespace sealbox::engines::database {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using logical::RunMode;

std::string DefaultPassword() {
  // 20 characters with at least one upper, one lower, one digit and a '-'.
  std::string p = crypto::RandomBase62(16);
  return "A1a-" + p;
}

}  // namespace

DatabaseEngine::DatabaseEngine(const logical::BackendConfig& cfg, const std::vector<PluginType>& plugins,
                               std::shared_ptr<RotationScheduler> scheduler)
    : plugin_types_(plugins),
      clock_(cfg.clock ? cfg.clock : SystemClock::Default()),
      mount_(cfg.mount),
      generate_password_(cfg.generate_password),
      scheduler_(std::move(scheduler)) {
  std::vector<logical::PathSpec> routes;
  for (const auto& group : {ConfigRoutes(), StaticRoleRoutes(), RoleRoutes()})
    routes.insert(routes.end(), group.begin(), group.end());
  SetRoutes(std::move(routes));
  if (cfg.storage) {
    storage_ = cfg.storage;
    rotation_job_ = scheduler_->Add([this](const std::atomic<bool>& cancelled) { RotationTick(cancelled); });
  }
}

DatabaseEngine::~DatabaseEngine() { StopRotation(); }
void DatabaseEngine::Cleanup() { StopRotation(); }

void DatabaseEngine::StopRotation() {
  if (rotation_job_) scheduler_->Cancel(*rotation_job_);
}

std::vector<logical::PathSpec> DatabaseEngine::ConfigRoutes() {
  return {
      {.pattern = "config/",
       .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "config/"); }}}},
      {.pattern = "config/{name}",
       .fields = {{"name"}, {"plugin_name"}, {"connection_url"}, {"username"}, {"password"},
                  {"verify_connection", FieldType::kBool, true}, {"allowed_roles", FieldType::kStringList},
                  {"username_template"}, {"password_policy"}, {"password_authentication"},
                  {"root_rotation_statements", FieldType::kStringList}, {"plugin_version"},
                  {"max_open_connections", FieldType::kInt}, {"max_idle_connections", FieldType::kInt},
                  {"max_connection_lifetime"}, {"disable_escaping", FieldType::kBool}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteConfig(r, f); }},
               {Operation::kRead, [this](Request& r, FieldData& f) { return ReadConfig(r, f); }},
               {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteConfig(r, f); }}}},
      {.pattern = "reset/{name}",
       .fields = {{"name"}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return ResetConnection(r, f); }}}},
      {.pattern = "rotate-root/{name}",
       .fields = {{"name"}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return RotateRoot(r, f); }}}},
  };
}

std::vector<logical::PathSpec> DatabaseEngine::RoleRoutes() {
  return {
      {.pattern = "roles/", .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "roles/"); }}}},
      {.pattern = "roles/{name}",
       .fields = {{"name"}, {"db_name"}, {"creation_statements", FieldType::kStringList},
                  {"revocation_statements", FieldType::kStringList}, {"renew_statements", FieldType::kStringList},
                  {"rollback_statements", FieldType::kStringList}, {"default_ttl", FieldType::kDuration},
                  {"max_ttl", FieldType::kDuration}, {"credential_type"}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteRole(r, f); }},
               {Operation::kRead, [this](Request& r, FieldData& f) { return ReadRole(r, f); }},
               {Operation::kDelete, [this](Request& r, FieldData& f) -> Result<Response> {
                  SB_RETURN_IF_ERROR(r.storage->Delete("roles/" + f.Get("name").get<std::string>()));
                  return Response::Empty();
                }}}},
      {.pattern = "creds/{role}",
       .fields = {{"role"}},
       .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return Creds(r, f); }},
               {Operation::kRevoke, [this](Request& r, FieldData&) { return Revoke(r); }},
               {Operation::kRenew, [this](Request& r, FieldData&) { return Renew(r); }}},
       .any_fields = true,
       .run_mode = RunMode::kWaits},  // a read that creates a database user
  };
}

std::vector<logical::PathSpec> DatabaseEngine::StaticRoleRoutes() {
  return {
      {.pattern = "static-roles/",
       .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "static-roles/"); }}}},
      {.pattern = "static-roles/{name}",
       .fields = {{"name"}, {"db_name"}, {"username"}, {"rotation_period", FieldType::kDuration},
                  {"rotation_overlap", FieldType::kDuration}, {"rotation_statements", FieldType::kStringList},
                  {"credential_type"}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteStaticRole(r, f); }},
               {Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, false); }},
               {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteStaticRole(r, f); }}}},
      {.pattern = "static-creds/{name}",
       .fields = {{"name"}},
       .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, true); }}},
       .run_mode = RunMode::kWaits},
      {.pattern = "rotate-role/{name}",
       .fields = {{"name"}},
       .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) -> Result<Response> {
         SB_RETURN_IF_ERROR(RotateStatic(r.storage, f.Get("name").get<std::string>()));
         return Response::Empty();
       }}}},
  };
}

Result<ConnectionConfig> DatabaseEngine::LoadConfig(Storage* s, const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto cfg, LoadEntry<ConnectionConfig>(s, "config/" + name));
  if (!cfg) return InvalidArgument("database configuration not found");
  return std::move(*cfg);
}

Result<std::shared_ptr<DatabasePlugin>> DatabaseEngine::PluginFor(Storage* s, const std::string& name) {
  {
    std::lock_guard l(mu_);
    auto it = plugins_.find(name);
    if (it != plugins_.end()) return it->second;
  }
  SB_ASSIGN_OR_RETURN(ConnectionConfig cfg, LoadConfig(s, name));
  const PluginType* type = FindPlugin(plugin_types_, cfg.plugin_name);
  if (type == nullptr) return InvalidArgument("unsupported plugin");
  std::shared_ptr<DatabasePlugin> plugin = type->open(cfg, clock_);
  std::lock_guard l(mu_);
  // Concurrent first requests each opened one: keep the first, or the
  // sessions would be bounded per plugin rather than per database.
  return plugins_.emplace(name, std::move(plugin)).first->second;
}

void DatabaseEngine::ForgetPlugin(const std::string& name) {
  std::lock_guard l(mu_);
  plugins_.erase(name);
}

Result<std::string> DatabaseEngine::NewPassword(const ConnectionConfig& cfg) {
  if (cfg.password_policy.empty()) return DefaultPassword();
  if (!generate_password_) return Internal("unable to generate password: password policies are not available");
  auto p = generate_password_(cfg.password_policy);
  if (!p.ok()) {
    if (p.status().code() == StatusCode::kNotFound)
      return InvalidArgument("unable to generate password: password policy \"" + cfg.password_policy +
                             "\" does not exist");
    return p.status();
  }
  return p;
}

Result<Response> DatabaseEngine::List(Request& req, const std::string& prefix) {
  SB_ASSIGN_OR_RETURN(auto keys, req.storage->List(prefix));
  return Response::WithData(Json{{"keys", keys}});
}

logical::BackendFactory Factory(std::vector<PluginType> plugins) {
  auto scheduler = std::make_shared<RotationScheduler>();
  return [plugins = std::move(plugins), scheduler](const logical::BackendConfig& cfg)
             -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new DatabaseEngine(cfg, plugins, scheduler));
  };
}

}  // namespace sealbox::engines::database
