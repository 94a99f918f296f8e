// TokenBackend: the token auth method mounted at auth/token/ (create, lookup,
// renew, revoke, roles...), over the TokenStore.
// Thread-safety: handlers run concurrently; state is in TokenStore.
#pragma once

#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/logical/routed_backend.h"

namespace sealbox::auth {

class TokenBackend final : public logical::RoutedBackend {
 public:
  TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock, const logical::MountView* mount);

  // The lookup `data` object of the contract (§4.3) for an entry. `id` is the
  // plaintext token when the caller presented it, "" for lookup-accessor.
  Json LookupData(const TokenEntry& e, const std::string& id) const;

 private:
  Result<logical::Response> LookupSelf(logical::Request& req, logical::FieldData& fd);

  TokenStore* tokens_;
  PolicyStore* policies_;
  const Clock* clock_;
  const logical::MountView* mount_;
};

}  // namespace sealbox::auth
