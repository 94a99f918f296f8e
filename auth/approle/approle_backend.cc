#include "auth/approle/approle_backend.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "auth/approle/backend.h"
#include "base/crypto.h"

namespace sealbox::auth::approle {

using logical::FieldSpec;
using logical::FieldType;
using logical::Operation;

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The per-field role paths Vault has, and the fields each shows.
const std::vector<std::pair<const char*, std::vector<std::string>>>& FieldPathTable() {
  static const std::vector<std::pair<const char*, std::vector<std::string>>> kTable = {
      {"policies", {"token_policies", "policies"}},
      {"period", {"token_period", "period"}},
      {"secret-id-bound-cidrs", {"secret_id_bound_cidrs"}},
      {"token-bound-cidrs", {"token_bound_cidrs"}},
      {"bind-secret-id", {"bind_secret_id"}},
      {"secret-id-num-uses", {"secret_id_num_uses"}},
      {"secret-id-ttl", {"secret_id_ttl"}},
      {"token-num-uses", {"token_num_uses"}},
      {"token-ttl", {"token_ttl"}},
      {"token-max-ttl", {"token_max_ttl"}},
      {"local-secret-ids", {"local_secret_ids"}}};
  return kTable;
}

// The value a per-field DELETE restores: the field's default.
Json FieldDefault(const std::string& key) {
  for (const auto& s : RoleFieldSpecs()) {
    if (s.name != key) continue;
    if (!s.default_value.is_null()) return s.default_value;
    return s.type == FieldType::kStringList ? Json::array() : Json(0);
  }
  return nullptr;
}

}  // namespace

AppRoleBackend::AppRoleBackend(const logical::BackendConfig& cfg)
    : clock_(cfg.clock ? cfg.clock : SystemClock::Default()), mount_(cfg.mount) {
  std::vector<logical::PathSpec> routes = RoleRoutes();
  for (auto& r : SecretIdRoutes()) routes.push_back(std::move(r));
  SetRoutes(std::move(routes));
  SetSpecialPaths({.root = {}, .unauthenticated = {"login"}});
}

std::vector<logical::PathSpec> AppRoleBackend::RoleRoutes() {
  using Handler = Result<Response> (AppRoleBackend::*)(Request&, FieldData&);
  auto bind = [this](Handler h) { return [this, h](Request& r, FieldData& f) { return (this->*h)(r, f); }; };
  std::vector<logical::PathSpec> routes = {
      {.pattern = "role/", .ops = {{Operation::kList, bind(&AppRoleBackend::ListRoles)}}},
      {.pattern = "role/{role_name}",
       .fields = RoleFieldSpecs(),
       .ops = {{Operation::kRead, bind(&AppRoleBackend::ReadRole)},
               {Operation::kCreate, bind(&AppRoleBackend::WriteRole)},
               {Operation::kUpdate, bind(&AppRoleBackend::WriteRole)},
               {Operation::kDelete, bind(&AppRoleBackend::DeleteRole)}},
       .exists = [this](Request& r, FieldData& f) { return RoleExists(r, f); }},
      {.pattern = "role/{role_name}/role-id",
       .fields = {{"role_name"}, {"role_id"}},
       .ops = {{Operation::kRead, bind(&AppRoleBackend::ReadRoleId)},
               {Operation::kUpdate, bind(&AppRoleBackend::WriteRoleId)}}},
  };
  for (const auto& [segment, keys] : FieldPathTable()) {
    auto path = std::make_shared<RoleFieldPath>(RoleFieldPath{segment, keys, keys[0] == "local_secret_ids"});
    logical::PathSpec spec{.pattern = std::string("role/{role_name}/") + segment, .fields = RoleFieldSpecs()};
    spec.ops[Operation::kRead] = [this, path](Request& r, FieldData& f) { return ReadRoleField(*path, r, f); };
    if (!path->read_only) {
      spec.ops[Operation::kUpdate] = [this, path](Request& r, FieldData& f) { return WriteRoleField(*path, r, f); };
      spec.ops[Operation::kDelete] = [this, path](Request& r, FieldData& f) { return ResetRoleField(*path, r, f); };
    }
    routes.push_back(std::move(spec));
  }
  return routes;
}

void AppRoleBackend::Cleanup() {
  std::lock_guard l(salt_mu_);
  std::fill(salt_.begin(), salt_.end(), '\0');
  salt_.clear();
}

std::shared_mutex& AppRoleBackend::RoleLock(const std::string& name) {
  return role_locks_[std::hash<std::string>{}(Lower(name)) % role_locks_.size()];
}

std::mutex& AppRoleBackend::SecretIdLock(const std::string& key) {
  return secret_id_locks_[std::hash<std::string>{}(key) % secret_id_locks_.size()];
}

Result<std::string> AppRoleBackend::SaltedHash(Storage* s, std::string_view value) {
  std::string salt;
  {
    std::lock_guard l(salt_mu_);
    if (salt_.empty()) {
      SB_ASSIGN_OR_RETURN(auto stored, s->Get("salt"));
      if (!stored) {
        std::string fresh = crypto::HexEncode(crypto::RandomBytes(32).view());
        SB_RETURN_IF_ERROR(s->Put("salt", fresh));
        stored = std::move(fresh);
      }
      salt_ = std::move(*stored);
    }
    salt = salt_;
  }
  auto h = KeyedHash(salt, value);
  std::fill(salt.begin(), salt.end(), '\0');
  return h;
}

// ---- roles ----

Result<std::optional<Role>> AppRoleBackend::LoadRole(Storage* s, const std::string& name) {
  if (name.empty() || name.size() > kMaxHmacInput) return std::optional<Role>();
  const std::string lower = Lower(name);
  SB_ASSIGN_OR_RETURN(auto raw, s->Get("role/" + lower));
  if (!raw) return std::optional<Role>();
  SB_ASSIGN_OR_RETURN(Role r, RoleFromJson(lower, Json::parse(*raw, nullptr, false)));
  return std::optional<Role>(std::move(r));
}

Status AppRoleBackend::SaveRole(Storage* s, const Role& r, const std::string& previous_role_id) {
  SB_ASSIGN_OR_RETURN(std::string index, SaltedHash(s, r.role_id));
  SB_ASSIGN_OR_RETURN(auto owner, s->Get("role_id/" + index));
  if (owner) {
    Json j = Json::parse(*owner, nullptr, false);
    if (!j.is_object() || j.value("name", "") != r.name) return InvalidArgument("role_id already in use");
  }
  std::vector<WriteOp> ops = {WriteOp::Put("role/" + r.name, RoleToJson(r).dump())};
  if (!previous_role_id.empty() && previous_role_id != r.role_id) {
    SB_ASSIGN_OR_RETURN(std::string old_index, SaltedHash(s, previous_role_id));
    ops.push_back(WriteOp::Delete("role_id/" + old_index));
  }
  ops.push_back(WriteOp::Put("role_id/" + index, Json{{"name", r.name}}.dump()));
  return s->Batch(ops);
}

Result<std::optional<Role>> AppRoleBackend::RoleByRoleId(Storage* s, const std::string& role_id) {
  if (role_id.empty() || role_id.size() > kMaxHmacInput) return std::optional<Role>();
  SB_ASSIGN_OR_RETURN(std::string index, SaltedHash(s, role_id));
  SB_ASSIGN_OR_RETURN(auto raw, s->Get("role_id/" + index));
  if (!raw) return std::optional<Role>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("approle role_id index malformed");
  std::shared_lock l(RoleLock(j.value("name", "")));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(s, j.value("name", "")));
  // An index left by a role since re-keyed is no match.
  if (role && !HashesEqual(role->role_id, role_id)) return std::optional<Role>();
  return role;
}

Result<bool> AppRoleBackend::RoleExists(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  return role.has_value();
}

Result<Response> AppRoleBackend::ListRoles(Request& req, FieldData&) {
  SB_ASSIGN_OR_RETURN(auto keys, req.storage->List("role/"));
  return Response::WithData(Json{{"keys", keys}});
}

Result<Response> AppRoleBackend::WriteRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  if (name.size() > kMaxHmacInput)
    return InvalidArgument("role_name is longer than maximum of " + std::to_string(kMaxHmacInput) + " bytes");
  std::unique_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto existing, LoadRole(req.storage, name));
  const bool create = !existing;
  Role role;
  if (existing) {
    role = std::move(*existing);
  } else {
    role.name = Lower(name);
    role.role_id = crypto::Uuid();
    role.hmac_key = crypto::HexEncode(crypto::RandomBytes(32).view());
  }
  const std::string previous_role_id = create ? "" : role.role_id;
  std::vector<std::string> warnings;
  SB_RETURN_IF_ERROR(ApplyRoleFields(f, create, mount_ ? mount_->MaxLeaseTtl() : 0, &role, &warnings));
  SB_RETURN_IF_ERROR(SaveRole(req.storage, role, previous_role_id));
  Response r;
  r.warnings = std::move(warnings);
  return r;
}

Result<Response> AppRoleBackend::ReadRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return Response::Empty();
  return Response::WithData(RoleReadData(*role));
}

Result<Response> AppRoleBackend::DeleteRole(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::unique_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return Response::Empty();
  // The role's secret-ids and their accessors go first, then its index and itself.
  SB_ASSIGN_OR_RETURN(std::string dir, SecretIdDir(*role));
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*req.storage, dir));
  for (const auto& key : keys) {
    std::lock_guard sl(SecretIdLock(key));
    SB_ASSIGN_OR_RETURN(auto raw, req.storage->Get(key));
    if (!raw) continue;
    SB_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdFromJson(Json::parse(*raw, nullptr, false)));
    SB_RETURN_IF_ERROR(DeleteSecretId(req.storage, *role, key, e));
  }
  SB_ASSIGN_OR_RETURN(std::string index, SaltedHash(req.storage, role->role_id));
  SB_RETURN_IF_ERROR(req.storage->Batch({WriteOp::Delete("role_id/" + index), WriteOp::Delete("role/" + role->name)}));
  return Response::Empty();
}

Result<Response> AppRoleBackend::ReadRoleField(const RoleFieldPath& p, Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return Response::Empty();
  const Json all = RoleReadData(*role);
  Json data = Json::object();
  // "policies" and "period" show the token_* value unless set by those names.
  for (const auto& k : p.keys) data[k] = all.contains(k) ? all.at(k) : all.at("token_" + k);
  return Response::WithData(data);
}

Result<Response> AppRoleBackend::WriteRoleField(const RoleFieldPath& p, Request& req, FieldData& f) {
  if (std::none_of(p.keys.begin(), p.keys.end(), [&](const std::string& k) { return f.Has(k); }))
    return InvalidArgument("missing " + p.keys[0]);
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::unique_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return NotFound("unsupported path");
  Json only = Json::object();  // the path's fields and nothing else the body carried
  for (const auto& k : p.keys)
    if (f.Has(k)) only[k] = f.Get(k);
  const std::vector<FieldSpec> specs = RoleFieldSpecs();
  FieldData narrowed(std::move(only), &specs);
  std::vector<std::string> warnings;
  SB_RETURN_IF_ERROR(ApplyRoleFields(narrowed, false, mount_ ? mount_->MaxLeaseTtl() : 0, &*role, &warnings));
  SB_RETURN_IF_ERROR(SaveRole(req.storage, *role, role->role_id));
  Response r;
  r.warnings = std::move(warnings);
  return r;
}

Result<Response> AppRoleBackend::ResetRoleField(const RoleFieldPath& p, Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::unique_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return Response::Empty();
  const std::vector<FieldSpec> specs = RoleFieldSpecs();
  FieldData reset(Json{{p.keys[0], FieldDefault(p.keys[0])}}, &specs);
  std::vector<std::string> warnings;
  SB_RETURN_IF_ERROR(ApplyRoleFields(reset, false, mount_ ? mount_->MaxLeaseTtl() : 0, &*role, &warnings));
  SB_RETURN_IF_ERROR(SaveRole(req.storage, *role, role->role_id));
  return Response::Empty();
}

Result<Response> AppRoleBackend::ReadRoleId(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return Response::Empty();
  return Response::WithData(Json{{"role_id", role->role_id}});
}

Result<Response> AppRoleBackend::WriteRoleId(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  SB_ASSIGN_OR_RETURN(std::string role_id, f.GetString("role_id"));
  if (role_id.empty()) return InvalidArgument("missing role_id");
  if (role_id.size() > kMaxHmacInput)
    return InvalidArgument("role_id is longer than maximum of " + std::to_string(kMaxHmacInput) + " bytes");
  std::unique_lock l(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return NotFound("unsupported path");
  const std::string previous = role->role_id;
  role->role_id = role_id;
  SB_RETURN_IF_ERROR(SaveRole(req.storage, *role, previous));
  return Response::Empty();
}

logical::BackendFactory Factory() {
  return [](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new AppRoleBackend(cfg));
  };
}

}  // namespace sealbox::auth::approle
