// KeyStore: the Transit keys of one mount, persisted under "policy/<name>" in
// the mount's (barrier-encrypted) view and cached decoded.
//
// Thread-safety: all methods may be called concurrently. Readers get an
// immutable snapshot (shared_ptr<const KeyPolicy>); changes are serialised
// by one mutex, made on a copy, persisted, then published, so a reader never
// sees a change that is not yet stored. Clear() drops the cache (seal,
// unmount); a snapshot's key bytes are wiped when its last holder lets go.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "engines/transit/key_policy.h"

namespace sealbox {
class Storage;
}

namespace sealbox::engines::transit {

using PolicyPtr = std::shared_ptr<const KeyPolicy>;

class KeyStore {
 public:
  explicit KeyStore(Storage* storage) : storage_(storage) {}

  // The key, or nullptr if there is none.
  Result<PolicyPtr> Get(const std::string& name);
  // Stores `fresh` unless a key of that name exists; returns the key in force.
  Result<PolicyPtr> CreateIfAbsent(KeyPolicy fresh);
  // Stores a restored key; InvalidArgument `key "<name>" already exists`
  // when one of that name exists and `force` is not set.
  Result<PolicyPtr> Restore(KeyPolicy restored, bool force);
  // Applies `change` to a copy of the key and stores it. InvalidArgument
  // (message `missing`, as Vault answers 400) when there is no key; an error
  // from `change` leaves the key as it was.
  Result<PolicyPtr> Update(const std::string& name, const std::string& missing,
                           const std::function<Status(KeyPolicy&)>& change);
  // Removes the key; `check` may refuse (deletion_allowed).
  Status Delete(const std::string& name, const std::function<Status(const KeyPolicy*)>& check);
  Result<std::vector<std::string>> List();
  void Clear();

 private:
  Result<PolicyPtr> LoadLocked(const std::string& name);  // REQUIRES: write_mu_ held
  Status StoreLocked(const KeyPolicy& p);                  // REQUIRES: write_mu_ held
  void Publish(const std::string& name, PolicyPtr p);

  Storage* storage_;
  std::mutex write_mu_;  // serialises loads on a miss and every change
  std::mutex cache_mu_;  // guards cache_
  std::map<std::string, PolicyPtr> cache_;
};

}  // namespace sealbox::engines::transit
