// SystemBackend: the routed sys/ endpoints (seal, step-down, keyring, mounts,
// policies, capabilities...). The raw seal-lifecycle endpoints (init,
// seal-status, unseal, health, leader) are answered in api/ without routing.
// Thread-safety: handlers run concurrently; state lives in CoreImpl.
#pragma once

#include "logical/routed_backend.h"

namespace sealbox::core {

class CoreImpl;

class SystemBackend final : public logical::RoutedBackend {
 public:
  explicit SystemBackend(CoreImpl* core);

 private:
  std::vector<logical::PathSpec> SealRoutes();
  std::vector<logical::PathSpec> MountRoutes();   // system_backend_mounts.cc
  std::vector<logical::PathSpec> AuthRoutes();    // system_backend_mounts.cc
  std::vector<logical::PathSpec> PolicyRoutes();  // system_backend_policy.cc
  std::vector<logical::PathSpec> PasswordPolicyRoutes();  // system_backend_password_policy.cc
  std::vector<logical::PathSpec> AuditRoutes();   // system_backend_audit.cc
  std::vector<logical::PathSpec> LeaseRoutes();   // system_backend_leases.cc
  CoreImpl* core_;
};

}  // namespace sealbox::core
