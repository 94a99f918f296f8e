#include "core/system_backend.h"
#include "core/system_backend_names.h"

#include "base/clock.h"
#include "base/version.h"
#include "core/core_impl.h"

namespace sealbox::core {
namespace {

// sys/ha-status as Vault's: the active node first, then the standbys that
// campaign (last_echo: when this node last saw them; null for itself).
logical::Response HaStatusResponse(const HaStatus& h, int64_t now) {
  Json nodes = Json::array();
  for (const auto& n : h.nodes)
    nodes.push_back({{"hostname", n.hostname},
                     {"api_address", n.api_addr},
                     {"cluster_address", n.cluster_addr},
                     {"active_node", n.active},
                     {"last_echo", n.active ? Json() : Json(FormatRfc3339(now))},
                     {"version", kVaultApiVersion}});
  logical::Response resp = logical::Response::WithData(Json{{"nodes", nodes}});
  resp.inject_top_level = true;
  return resp;
}

}  // namespace

SystemBackend::SystemBackend(CoreImpl* core) : core_(core) {
  std::vector<PathSpec> routes = SealRoutes();
  for (auto& r : MountRoutes()) routes.push_back(std::move(r));
  for (auto& r : AuthRoutes()) routes.push_back(std::move(r));
  for (auto& r : PolicyRoutes()) routes.push_back(std::move(r));
  for (auto& r : PasswordPolicyRoutes()) routes.push_back(std::move(r));
  for (auto& r : AuditRoutes()) routes.push_back(std::move(r));
  for (auto& r : LeaseRoutes()) routes.push_back(std::move(r));
  for (auto& r : WrappingRoutes()) routes.push_back(std::move(r));
  for (auto& r : SnapshotRoutes()) routes.push_back(std::move(r));
  for (auto& r : QuotaRoutes()) routes.push_back(std::move(r));
  for (auto& r : LoggerRoutes()) routes.push_back(std::move(r));
  for (auto& r : MetricsRoutes()) routes.push_back(std::move(r));
  for (auto& r : HostRoutes()) routes.push_back(std::move(r));
  for (auto& r : GenerateRootRoutes()) routes.push_back(std::move(r));
  for (auto& r : RekeyRoutes("rekey", RekeyTarget::kBarrier)) routes.push_back(std::move(r));
  for (auto& r : RekeyRoutes("rekey-recovery-key", RekeyTarget::kRecovery)) routes.push_back(std::move(r));
  SetRoutes(std::move(routes));
  // sys/ reads answer from memory and the local store (lease listings say otherwise).
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
  SetSpecialPaths({.root = {"seal", "step-down", "rotate", "rotate/keyring", "audit", "audit/*", "auth/*", "raw/*", "raw",
                            "leases/revoke-prefix/*", "leases/revoke-force/*", "leases/lookup/*",
                            "revoke-prefix/*", "revoke-force/*", "remount", "config/*", "generate-root-token/*",
                            "rekey/backup",
                            "storage/raft/snapshot", "storage/raft/snapshot-force",
                            "storage/raft/snapshot-auto/*"},
                   // As Vault: a quorum of key shares, not a token, is what the
                   // break-glass paths take; a wrapping token is its own credential.
                   // (sys/rekey/backup is Vault's logical path, for a sudo token.)
                   .unauthenticated = {"internal/ui/mounts", "internal/ui/mounts/*", "generate-root/*", "rekey/init",
                                       "rekey/update", "rekey/verify", "rekey-recovery-key/init",
                                       "rekey-recovery-key/update", "rekey-recovery-key/verify", "wrapping/lookup",
                                       "wrapping/unwrap"}});
}

Result<Response> SystemBackend::HandleRequest(Request& req) {
  auto resp = RoutedBackend::HandleRequest(req);
  if (!resp.ok() || resp->http_status >= 400 || !resp->errors.empty()) return resp;
  std::string_view change = AdminChangeOf(req.path, req.op);
  if (!change.empty()) LogAdminChange(req, change, "sys/" + req.path);
  return resp;
}

std::vector<PathSpec> SystemBackend::SealRoutes() {
  std::vector<PathSpec> r;
  r.push_back({.pattern = "seal",
               .ops = {{Operation::kUpdate, [this](Request&, FieldData&) -> Result<Response> {
                 core_->RequestSeal();
                 return Response::Empty();
               }}}});
  r.push_back({.pattern = "step-down",
               .ops = {{Operation::kUpdate, [this](Request&, FieldData&) -> Result<Response> {
                 core_->StepDown();  // no HA: nothing to step down from
                 return Response::Empty();
               }}}});
  r.push_back({.pattern = "ha-status",
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                 return HaStatusResponse(core_->GetHaStatus(), core_->clock().NowSeconds());
               }}}});
  r.push_back({.pattern = "key-status",
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                 KeyStatus ks = core_->barrier().ActiveKeyStatus();
                 Response resp = Response::WithData(Json{{"term", ks.term},
                                                         {"install_time", FormatRfc3339Nano(ks.install_time_nanos)},
                                                         {"encryptions", ks.encryptions}});
                 resp.inject_top_level = true;
                 return resp;
               }}}});
  // Vault's sys/rotate, and OpenBao 2.4+'s name for it, which `bao operator rotate` calls.
  for (const char* pattern : {"rotate", "rotate/keyring"}) {
    r.push_back({.pattern = pattern,
                 .ops = {{Operation::kUpdate, [this](Request&, FieldData&) -> Result<Response> {
                   SB_RETURN_IF_ERROR(core_->barrier().Rotate(core_->clock().NowNanos()));
                   return Response::Empty();
                 }}}});
  }
  return r;
}

}  // namespace sealbox::core
