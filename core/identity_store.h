// The identity store (a subset of Vault's): an entity per person or machine,
// found through the aliases its logins create, one alias per (auth mount,
// alias name). Every login through an auth method that names an alias gets
// the entity's id on its token, so templated policies and audit entries see
// one identity whichever method was used. Groups, merges and the write API
// of entities are not here.
//
// Storage (a barrier view): entity/<id> (the entity with its aliases) and
// alias/<mount accessor>/<SHA-256 of the alias name> (its entity's id).
// Thread-safety: a mutex serialises the creation of entities and aliases.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/status.h"

namespace sealbox {
class Storage;
}

namespace sealbox::core {

struct AliasRequest {
  std::string mount_accessor;
  std::string mount_type;
  std::string mount_path;  // "auth/userpass/"
  std::string name;
  Json metadata = nullptr;  // string map or null
};

class IdentityStore {
 public:
  IdentityStore(Storage* view, const Clock* clock) : view_(view), clock_(clock) {}

  // The id of the entity behind this alias, created (entity and alias) on
  // the first login through it.
  Result<std::string> EntityForAlias(const AliasRequest& alias);
  // The entity as Vault's identity/entity/id/<id> shows it; nullopt when absent.
  Result<std::optional<Json>> Entity(const std::string& id);
  // The entity by its name, or by an alias (accessor + name); nullopt when none.
  Result<std::optional<Json>> EntityByName(const std::string& name);
  Result<std::optional<Json>> EntityByAlias(const std::string& mount_accessor, const std::string& alias_name);
  Result<std::optional<Json>> EntityByAliasId(const std::string& alias_id);
  Result<std::vector<std::string>> ListIds();
  // Deletes the entity and its aliases' index entries (missing: OK).
  Status Delete(const std::string& id);

 private:
  static std::string AliasKey(const std::string& mount_accessor, const std::string& name);

  Storage* view_;  // not owned
  const Clock* clock_;
  std::mutex mu_;
};

}  // namespace sealbox::core
