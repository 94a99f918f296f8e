// PolicyStore: ACL policies persisted under "sys/policy/<name>" and compiled
// ACLs cached per policy set, so a request costs a map lookup, not a parse.
// Writing or deleting a policy drops the cache.
//
// Built-ins: "root" (implicit, never stored, cannot be changed) and "default"
// (created on first setup, editable, not deletable).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "auth/acl.h"
#include "auth/policy.h"

namespace sealbox {
class Storage;
}

namespace sealbox::auth {

class PolicyStore {
 public:
  explicit PolicyStore(Storage* view) : view_(view) {}

  // Creates the default policy if missing. REQUIRES: barrier unsealed.
  Status Setup();
  void Reset();

  // nullptr when the policy does not exist. "root" returns an empty policy.
  Result<std::shared_ptr<const Policy>> Get(const std::string& name);
  // Parses and stores. Errors: "cannot update \"root\" policy", parse errors.
  Status Put(const std::string& name, const std::string& text);
  Status Delete(const std::string& name);
  Result<std::vector<std::string>> List();  // sorted, includes "root"

  // The compiled ACL for a set of (normalised) policy names. Unknown names
  // are skipped. "root" in the set yields the root ACL.
  //
  // Templated paths ("{{identity...}}", see RenderPolicyPath) are rendered
  // for `identity`; without one (or when one cannot be rendered) they are
  // skipped. A set without templates is compiled once and cached, whatever
  // the identity; a set with templates is compiled for each call that brings
  // an identity (from the cached parsed policies), so only templated policy
  // sets pay for it.
  Result<std::shared_ptr<const Acl>> AclFor(const std::vector<std::string>& names,
                                            const IdentityContext* identity = nullptr);

 private:
  struct CachedAcl {
    std::shared_ptr<const Acl> acl;  // templated paths skipped
    std::vector<std::shared_ptr<const Policy>> policies;  // kept only when templated
    bool templated = false;
  };

  Storage* view_;  // not owned
  std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const Policy>> policies_;     // guarded by mu_
  std::map<std::string, CachedAcl> acl_cache_;                        // guarded by mu_
  uint64_t generation_ = 0;  // bumped on every change; guarded by mu_
};

}  // namespace sealbox::auth
