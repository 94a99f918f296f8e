// role/<name>/secret-id, custom-secret-id, their lookup and destroy paths
// (by secret-id and by accessor), the accessor list and tidy/secret-id.
#include <set>

#include "auth/approle/backend.h"
#include "base/crypto.h"
#include "base/log.h"

namespace sealbox::auth::approle {

using logical::FieldType;
using logical::Operation;

namespace {
constexpr const char* kSecretIdRoot = "secret_id/";
constexpr const char* kSecretIdLocalRoot = "secret_id_local/";
constexpr const char* kAccessorRoot = "accessor/";
constexpr const char* kAccessorLocalRoot = "accessor_local/";

Status RoleMissing(const std::string& name) { return InvalidArgument("role \"" + name + "\" does not exist"); }
}  // namespace

std::vector<logical::PathSpec> AppRoleBackend::SecretIdRoutes() {
  using Handler = Result<Response> (AppRoleBackend::*)(Request&, FieldData&);
  auto bind = [this](Handler h) { return [this, h](Request& r, FieldData& f) { return (this->*h)(r, f); }; };
  const std::vector<logical::FieldSpec> issue_fields = {{"role_name"},
                                                        {"secret_id"},
                                                        {"metadata"},
                                                        {"cidr_list", FieldType::kStringList},
                                                        {"token_bound_cidrs", FieldType::kStringList},
                                                        {"num_uses", FieldType::kInt},
                                                        {"ttl", FieldType::kDuration}};
  return {
      {.pattern = "role/{role_name}/secret-id",
       .fields = issue_fields,
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::GenerateSecretId)}}},
      // LIST paths end in '/' (api/ adds it).
      {.pattern = "role/{role_name}/secret-id/",
       .fields = {{"role_name"}},
       .ops = {{Operation::kList, bind(&AppRoleBackend::ListSecretIds)}}},
      {.pattern = "role/{role_name}/custom-secret-id",
       .fields = issue_fields,
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::CustomSecretId)}}},
      {.pattern = "role/{role_name}/secret-id/lookup",
       .fields = {{"role_name"}, {"secret_id"}},
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::LookupSecretId)}}},
      {.pattern = "role/{role_name}/secret-id/destroy",
       .fields = {{"role_name"}, {"secret_id"}},
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::DestroySecretId)},
               {Operation::kDelete, bind(&AppRoleBackend::DestroySecretId)}}},
      {.pattern = "role/{role_name}/secret-id-accessor/lookup",
       .fields = {{"role_name"}, {"secret_id_accessor"}},
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::LookupAccessor)}}},
      {.pattern = "role/{role_name}/secret-id-accessor/destroy",
       .fields = {{"role_name"}, {"secret_id_accessor"}},
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::DestroyAccessor)},
               {Operation::kDelete, bind(&AppRoleBackend::DestroyAccessor)}}},
      {.pattern = "tidy/secret-id", .ops = {{Operation::kUpdate, bind(&AppRoleBackend::TidySecretIds)}}},
      {.pattern = "login",
       .fields = {{"role_id"}, {"secret_id"}},
       .ops = {{Operation::kUpdate, bind(&AppRoleBackend::Login)},
               {Operation::kRenew, bind(&AppRoleBackend::LoginRenew)}}},
  };
}

Result<std::string> AppRoleBackend::SecretIdDir(const Role& r) {
  SB_ASSIGN_OR_RETURN(std::string name_hash, KeyedHash(r.hmac_key, r.name));
  return std::string(r.local_secret_ids ? kSecretIdLocalRoot : kSecretIdRoot) + name_hash + "/";
}

std::string AppRoleBackend::AccessorPrefix(const Role& r) {
  return r.local_secret_ids ? kAccessorLocalRoot : kAccessorRoot;
}

Result<std::string> AppRoleBackend::SecretIdKey(const Role& r, std::string_view secret_id) {
  SB_ASSIGN_OR_RETURN(std::string dir, SecretIdDir(r));
  SB_ASSIGN_OR_RETURN(std::string hash, KeyedHash(r.hmac_key, secret_id));
  return dir + hash;
}

Result<std::optional<SecretIdEntry>> AppRoleBackend::LoadSecretId(Storage* s, const std::string& key) {
  SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
  if (!raw) return std::optional<SecretIdEntry>();
  SB_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdFromJson(Json::parse(*raw, nullptr, false)));
  if (SecretIdExpired(e, clock_->NowNanos())) return std::optional<SecretIdEntry>();
  return std::optional<SecretIdEntry>(std::move(e));
}

Status AppRoleBackend::DeleteSecretId(Storage* s, const Role& r, const std::string& key, const SecretIdEntry& e) {
  std::vector<WriteOp> ops = {WriteOp::Delete(key)};
  if (!e.accessor.empty()) {
    SB_ASSIGN_OR_RETURN(std::string acc, SaltedHash(s, e.accessor));
    ops.push_back(WriteOp::Delete(AccessorPrefix(r) + acc));
  }
  return s->Batch(ops);
}

Result<std::optional<std::string>> AppRoleBackend::KeyForAccessor(Storage* s, const Role& r,
                                                                  const std::string& accessor) {
  if (accessor.size() > kMaxHmacInput) return std::optional<std::string>();
  SB_ASSIGN_OR_RETURN(std::string acc, SaltedHash(s, accessor));
  SB_ASSIGN_OR_RETURN(auto raw, s->Get(AccessorPrefix(r) + acc));
  if (!raw) return std::optional<std::string>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("approle accessor entry malformed");
  SB_ASSIGN_OR_RETURN(std::string dir, SecretIdDir(r));
  return std::optional<std::string>(dir + j.value("secret_id_hmac", ""));
}

// ---- issuing ----

Result<Response> AppRoleBackend::GenerateSecretId(Request& req, FieldData& f) {
  return IssueSecretId(req, f, crypto::Uuid());
}

Result<Response> AppRoleBackend::CustomSecretId(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string secret_id, f.GetString("secret_id"));
  return IssueSecretId(req, f, secret_id);
}

Result<Response> AppRoleBackend::IssueSecretId(Request& req, FieldData& f, const std::string& secret_id) {
  if (secret_id.empty()) return InvalidArgument("missing secret_id");
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock tidy(tidy_mu_);
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return NotFound("role \"" + name + "\" does not exist");
  if (!role->bind_secret_id) return InvalidArgument("bind_secret_id is not set on the role");
  SB_ASSIGN_OR_RETURN(auto cidr_list, f.GetStringList("cidr_list"));
  SB_ASSIGN_OR_RETURN(auto token_cidrs, f.GetStringList("token_bound_cidrs"));
  SB_RETURN_IF_ERROR(CheckSecretIdCidrs(*role, cidr_list, token_cidrs));
  SB_ASSIGN_OR_RETURN(int64_t num_uses, f.GetInt("num_uses"));
  SB_ASSIGN_OR_RETURN(int64_t ttl, f.GetDuration("ttl"));
  SB_ASSIGN_OR_RETURN(SecretIdLimits limits,
                      ResolveSecretIdLimits(*role, f.Has("num_uses"), num_uses, f.Has("ttl"), ttl));
  SB_ASSIGN_OR_RETURN(std::string metadata_raw, f.GetString("metadata"));
  SB_ASSIGN_OR_RETURN(Json metadata, ParseSecretIdMetadata(metadata_raw));
  if (secret_id.size() > kMaxHmacInput)
    return InvalidArgument("secret_id is longer than maximum of " + std::to_string(kMaxHmacInput) + " bytes");

  // The mount's max TTL caps the secret-id's life (Vault's deriveSecretIDTTL).
  const int64_t mount_max = mount_ ? mount_->MaxLeaseTtl() : 0;
  const int64_t life = mount_max > 0 && limits.ttl > mount_max ? mount_max : limits.ttl;
  SecretIdEntry e;
  SB_ASSIGN_OR_RETURN(e.hmac, KeyedHash(role->hmac_key, secret_id));
  e.accessor = crypto::Uuid();
  e.num_uses = limits.num_uses;
  e.ttl = limits.ttl;
  e.creation_nanos = e.last_updated_nanos = clock_->NowNanos();
  e.expiration_nanos = life > 0 ? e.creation_nanos + life * 1'000'000'000 : 0;
  e.metadata = std::move(metadata);
  e.cidr_list = std::move(cidr_list);
  e.token_bound_cidrs = std::move(token_cidrs);

  SB_ASSIGN_OR_RETURN(std::string key, SecretIdKey(*role, secret_id));
  SB_ASSIGN_OR_RETURN(std::string acc, SaltedHash(req.storage, e.accessor));
  std::lock_guard sl(SecretIdLock(key));
  SB_ASSIGN_OR_RETURN(auto existing, req.storage->Get(key));
  if (existing) return InvalidArgument("failed to store secret_id: SecretID is already registered");
  SB_RETURN_IF_ERROR(req.storage->Batch({WriteOp::Put(AccessorPrefix(*role) + acc,
                                                      Json{{"secret_id_hmac", e.hmac}}.dump()),
                                         WriteOp::Put(key, SecretIdToJson(e).dump())}));
  return Response::WithData(Json{{"secret_id", secret_id},
                                 {"secret_id_accessor", e.accessor},
                                 {"secret_id_ttl", life},
                                 {"secret_id_num_uses", e.num_uses}});
}

// ---- listing, lookup, destroy ----

Result<Response> AppRoleBackend::ListSecretIds(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return RoleMissing(name);
  SB_ASSIGN_OR_RETURN(std::string dir, SecretIdDir(*role));
  SB_ASSIGN_OR_RETURN(auto hashes, req.storage->List(dir));
  std::vector<std::string> accessors;
  for (const auto& h : hashes) {
    SB_ASSIGN_OR_RETURN(auto e, LoadSecretId(req.storage, dir + h));
    if (e) accessors.push_back(e->accessor);
  }
  return Response::WithData(Json{{"keys", accessors}});
}

Result<Response> AppRoleBackend::LookupSecretId(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string secret_id, f.GetString("secret_id"));
  if (secret_id.empty()) return InvalidArgument("missing secret_id");
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return RoleMissing(name);
  SB_ASSIGN_OR_RETURN(std::string key, SecretIdKey(*role, secret_id));
  std::lock_guard sl(SecretIdLock(key));
  SB_ASSIGN_OR_RETURN(auto e, LoadSecretId(req.storage, key));
  if (!e) return Response::Empty();
  return Response::WithData(SecretIdLookupData(*e));
}

Result<Response> AppRoleBackend::DestroySecretId(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string secret_id, f.GetString("secret_id"));
  if (secret_id.empty()) return InvalidArgument("missing secret_id");
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return RoleMissing(name);
  SB_ASSIGN_OR_RETURN(std::string key, SecretIdKey(*role, secret_id));
  std::lock_guard sl(SecretIdLock(key));
  SB_ASSIGN_OR_RETURN(auto raw, req.storage->Get(key));
  if (!raw) return Response::Empty();
  SB_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdFromJson(Json::parse(*raw, nullptr, false)));
  SB_RETURN_IF_ERROR(DeleteSecretId(req.storage, *role, key, e));
  return Response::Empty();
}

Result<Response> AppRoleBackend::LookupAccessor(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string accessor, f.GetString("secret_id_accessor"));
  if (accessor.empty()) return InvalidArgument("missing secret_id_accessor");
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return RoleMissing(name);
  SB_ASSIGN_OR_RETURN(auto key, KeyForAccessor(req.storage, *role, accessor));
  if (!key) {
    // Vault answers 404 with the reason in data.
    Response r = Response::WithData(
        Json{{"error", "failed to find accessor entry for secret_id_accessor: \"" + accessor + "\""}});
    r.http_status = 404;
    return r;
  }
  std::lock_guard sl(SecretIdLock(*key));
  SB_ASSIGN_OR_RETURN(auto e, LoadSecretId(req.storage, *key));
  if (!e) return Response::Empty();
  return Response::WithData(SecretIdLookupData(*e));
}

Result<Response> AppRoleBackend::DestroyAccessor(Request& req, FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string accessor, f.GetString("secret_id_accessor"));
  if (accessor.empty()) return InvalidArgument("missing secret_id_accessor");
  SB_ASSIGN_OR_RETURN(std::string name, f.GetString("role_name"));
  std::shared_lock rl(RoleLock(name));
  SB_ASSIGN_OR_RETURN(auto role, LoadRole(req.storage, name));
  if (!role) return RoleMissing(name);
  SB_ASSIGN_OR_RETURN(auto key, KeyForAccessor(req.storage, *role, accessor));
  if (!key)
    return InvalidArgument("failed to find accessor entry for secret_id_accessor: \"" + accessor + "\"");
  std::lock_guard sl(SecretIdLock(*key));
  SB_ASSIGN_OR_RETURN(std::string acc, SaltedHash(req.storage, accessor));
  SB_RETURN_IF_ERROR(req.storage->Batch({WriteOp::Delete(*key), WriteOp::Delete(AccessorPrefix(*role) + acc)}));
  return Response::Empty();
}

// ---- tidy ----

// Deletes expired secret-ids (with their accessors) and accessors whose
// secret-id is gone. Runs to completion before answering; new secret-ids
// wait for it.
Result<Response> AppRoleBackend::TidySecretIds(Request& req, FieldData&) {
  std::unique_lock tidy(tidy_mu_);
  Storage* s = req.storage;
  size_t expired = 0, dangling = 0;
  for (const auto& [root, accessor_root] : {std::pair{kSecretIdRoot, kAccessorRoot},
                                            std::pair{kSecretIdLocalRoot, kAccessorLocalRoot}}) {
    SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*s, root));
    std::set<std::string> live;  // hashes of the secret-ids kept
    for (const auto& key : keys) {
      std::lock_guard sl(SecretIdLock(key));
      SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
      if (!raw) continue;
      SB_ASSIGN_OR_RETURN(SecretIdEntry e, SecretIdFromJson(Json::parse(*raw, nullptr, false)));
      if (!SecretIdExpired(e, clock_->NowNanos())) {
        live.insert(e.hmac);
        continue;
      }
      SB_ASSIGN_OR_RETURN(std::string acc, SaltedHash(s, e.accessor));
      SB_RETURN_IF_ERROR(s->Batch({WriteOp::Delete(key), WriteOp::Delete(accessor_root + acc)}));
      ++expired;
    }
    SB_ASSIGN_OR_RETURN(auto accessors, ListRecursive(*s, accessor_root));
    for (const auto& key : accessors) {
      SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
      if (!raw) continue;
      Json j = Json::parse(*raw, nullptr, false);
      if (j.is_object() && live.count(j.value("secret_id_hmac", ""))) continue;
      SB_RETURN_IF_ERROR(s->Delete(key));
      ++dangling;
    }
  }
  log::Info("approle: tidy removed " + std::to_string(expired) + " expired secret-ids and " +
            std::to_string(dangling) + " dangling accessors");
  Response r;
  r.warnings = {"Tidy operation successfully started. Any information from the operation will be printed to "
                "the server's logs."};
  r.http_status = 202;
  return r;
}

}  // namespace sealbox::auth::approle
