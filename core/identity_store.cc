#include "core/identity_store.h"

#include "base/crypto.h"
#include "storage/storage.h"

namespace sealbox::core {

std::string IdentityStore::AliasKey(const std::string& mount_accessor, const std::string& name) {
  return "alias/" + mount_accessor + "/" + crypto::HexEncode(crypto::Sha256(name));
}

Result<std::string> IdentityStore::EntityForAlias(const AliasRequest& alias) {
  const std::string key = AliasKey(alias.mount_accessor, alias.name);
  std::lock_guard l(mu_);
  SB_ASSIGN_OR_RETURN(auto existing, view_->Get(key));
  if (existing) return *existing;
  const std::string now = FormatRfc3339Nano(clock_->NowNanos());
  const std::string id = crypto::Uuid();
  const Json a = {{"id", crypto::Uuid()},
                  {"canonical_id", id},
                  {"mount_accessor", alias.mount_accessor},
                  {"mount_type", alias.mount_type},
                  {"mount_path", alias.mount_path},
                  {"name", alias.name},
                  {"metadata", alias.metadata.is_object() && !alias.metadata.empty() ? alias.metadata : Json()},
                  {"custom_metadata", nullptr},
                  {"local", false},
                  {"merged_from_canonical_ids", nullptr},
                  {"creation_time", now},
                  {"last_update_time", now}};
  const Json entity = {{"id", id},
                       {"name", "entity_" + crypto::Uuid().substr(0, 8)},
                       {"aliases", Json::array({a})},
                       {"policies", Json::array()},
                       {"metadata", nullptr},
                       {"disabled", false},
                       {"direct_group_ids", Json::array()},
                       {"group_ids", Json::array()},
                       {"inherited_group_ids", Json::array()},
                       {"merged_entity_ids", nullptr},
                       {"mfa_secrets", Json::object()},
                       {"namespace_id", "root"},
                       {"creation_time", now},
                       {"last_update_time", now}};
  SB_RETURN_IF_ERROR(view_->Batch({WriteOp::Put("entity/" + id, entity.dump()), WriteOp::Put(key, id)}));
  return id;
}

Result<std::optional<Json>> IdentityStore::Entity(const std::string& id) {
  if (id.empty() || id.find('/') != std::string::npos) return std::optional<Json>();
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("entity/" + id));
  if (!raw) return std::optional<Json>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("identity entity malformed");
  return std::optional<Json>(std::move(j));
}

Result<std::optional<Json>> IdentityStore::EntityByName(const std::string& name) {
  // A scan: entities are few per mount of people and machines, and this is an
  // operator's lookup, never on a login's path.
  SB_ASSIGN_OR_RETURN(auto ids, ListIds());
  for (const auto& id : ids) {
    SB_ASSIGN_OR_RETURN(auto e, Entity(id));
    if (e && e->value("name", "") == name) return e;
  }
  return std::optional<Json>();
}

Result<std::optional<Json>> IdentityStore::EntityByAlias(const std::string& mount_accessor,
                                                         const std::string& alias_name) {
  SB_ASSIGN_OR_RETURN(auto id, view_->Get(AliasKey(mount_accessor, alias_name)));
  if (!id) return std::optional<Json>();
  return Entity(*id);
}

Result<std::optional<Json>> IdentityStore::EntityByAliasId(const std::string& alias_id) {
  SB_ASSIGN_OR_RETURN(auto ids, ListIds());  // a scan, as EntityByName
  for (const auto& id : ids) {
    SB_ASSIGN_OR_RETURN(auto e, Entity(id));
    if (!e) continue;
    for (const auto& a : (*e)["aliases"])
      if (a.value("id", "") == alias_id) return e;
  }
  return std::optional<Json>();
}

Result<std::vector<std::string>> IdentityStore::ListIds() { return view_->List("entity/"); }

Status IdentityStore::Delete(const std::string& id) {
  std::lock_guard l(mu_);
  SB_ASSIGN_OR_RETURN(auto e, Entity(id));
  if (!e) return Status::Ok();
  std::vector<WriteOp> ops;
  for (const auto& a : (*e)["aliases"])
    ops.push_back(WriteOp::Delete(AliasKey(a.value("mount_accessor", ""), a.value("name", ""))));
  ops.push_back(WriteOp::Delete("entity/" + id));
  return view_->Batch(ops);
}

}  // namespace sealbox::core
