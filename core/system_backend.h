// SystemBackend: the routed sys/ endpoints (seal, step-down, keyring, mounts,
// policies, capabilities...). The raw seal-lifecycle endpoints (init,
// seal-status, unseal, health, leader) are answered in api/ without routing.
// Thread-safety: handlers run concurrently; state lives in CoreImpl.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/admin_log.h"
#include "core/break_glass.h"
#include "core/quota_manager.h"
#include "logical/routed_backend.h"

namespace sealbox::core {

class CoreImpl;

class SystemBackend final : public logical::RoutedBackend {
 public:
  explicit SystemBackend(CoreImpl* core);
  // Routes the request; a successful administrative change (a mount, a
  // policy, an audit device, a quota, the seal...) earns one info line
  // (core/admin_log.h).
  Result<logical::Response> HandleRequest(logical::Request& req) override;

 private:
  std::vector<logical::PathSpec> SealRoutes();
  std::vector<logical::PathSpec> MountRoutes();   // system_backend_mounts.cc
  std::vector<logical::PathSpec> AuthRoutes();    // system_backend_mounts.cc
  std::vector<logical::PathSpec> PolicyRoutes();  // system_backend_policy.cc
  std::vector<logical::PathSpec> PasswordPolicyRoutes();  // system_backend_password_policy.cc
  std::vector<logical::PathSpec> AuditRoutes();   // system_backend_audit.cc
  std::vector<logical::PathSpec> LeaseRoutes();   // system_backend_leases.cc
  std::vector<logical::PathSpec> RemountRoutes();   // system_backend_mounts.cc
  std::vector<logical::PathSpec> UiMountRoutes();   // system_backend_mounts.cc
  std::vector<logical::PathSpec> WrappingRoutes();  // system_backend_wrapping.cc
  std::vector<logical::PathSpec> SnapshotRoutes();  // system_backend_snapshot.cc
  std::vector<logical::PathSpec> AutoSnapshotRoutes();  // system_backend_snapshot.cc
  std::vector<logical::PathSpec> QuotaRoutes();     // system_backend_quotas.cc
  std::vector<logical::PathSpec> LoggerRoutes();    // system_backend_loggers.cc
  std::vector<logical::PathSpec> MetricsRoutes();   // system_backend_metrics.cc
  std::vector<logical::PathSpec> HostRoutes();      // system_backend_host.cc
  // system_backend_break_glass.cc: generate-root, and rekey under `prefix`.
  std::vector<logical::PathSpec> GenerateRootRoutes();
  std::vector<logical::PathSpec> RekeyRoutes(const std::string& prefix, RekeyTarget target);

  // sys/mounts/<path>[/tune] (system_backend_mounts.cc).
  using Response = logical::Response;
  using Request = logical::Request;
  using FieldData = logical::FieldData;
  Result<Response> ReadMount(Request& req, FieldData& fd);
  Result<Response> WriteMount(Request& req, FieldData& fd);
  Result<Response> TuneMount(const std::string& path, FieldData& fd);
  Result<Response> EnableSecretsEngine(const std::string& path, FieldData& fd);
  Result<Response> DisableMountPath(Request& req, FieldData& fd);
  // A quota's name, path and role as a scope (system_backend_quotas.cc).
  Result<QuotaScope> QuotaScopeOf(FieldData& fd);
  // An unwrap of someone else's wrapping token: the caller's own token must allow it.
  Status CallerMayUnwrap(const Request& req);

  // The moves sys/remount made, newest last (bounded), for sys/remount/status.
  struct RemountHistory {
    struct Migration {
      std::string id, from, to;
    };
    static constexpr size_t kMax = 100;
    std::mutex mu;
    std::deque<Migration> done;  // guarded by mu
  };

  CoreImpl* core_;
  std::unique_ptr<RemountHistory> remounts_ = std::make_unique<RemountHistory>();
};

}  // namespace sealbox::core
