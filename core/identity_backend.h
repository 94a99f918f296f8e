// The identity/ mount's backend: Vault's identity API over the identity
// store, for reads (entities are created by logins). Thread-safe.
#pragma once

#include "core/identity_store.h"
#include "logical/routed_backend.h"

namespace sealbox::core {

class IdentityBackend final : public logical::RoutedBackend {
 public:
  explicit IdentityBackend(IdentityStore* store);

 private:
  IdentityStore* store_;  // not owned (the core's)
};

}  // namespace sealbox::core
