// CoreImpl: the implementation of Core, visible to the rest of core/ (the
// system backend manages mounts and the seal through it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "audit/audit_broker.h"
#include "base/byte_source.h"
#include "core/break_glass.h"
#include "base/shared_gate.h"
#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "core/core.h"
#include "core/core_metrics.h"
#include "core/expiration_manager.h"
#include "core/identity_store.h"
#include "logical/backend.h"
#include "core/password_policy.h"
#include "core/router.h"
#include "core/snapshot_scheduler.h"
#include "storage/barrier.h"
#include "storage/caching_storage.h"
#include "storage/change_feed.h"
#include "storage/ha_lock.h"
#include "storage/snapshot_archive.h"
#include "storage/write_gate.h"

namespace sealbox::core {

// Storage paths outside the mount tables that both seal kinds use.
inline constexpr const char* kSealConfigPath = "core/seal-config";  // physical; its presence = initialised
inline constexpr const char* kClusterPath = "core/cluster";         // under the barrier

// Vault's checks and messages for a shares/threshold pair; `what` is "seal"
// or "recovery".
Status ValidateShareConfig(const char* what, int shares, int threshold);

class CoreImpl final : public Core {
 public:
  explicit CoreImpl(CoreOptions options);
  ~CoreImpl() override;

  bool Initialized() override;
  Result<InitResult> Initialize(const InitRequest& req) override;
  SealStatus GetSealStatus() override;
  Result<SealStatus> SubmitUnsealKey(const SecureBytes& share) override;
  Result<SealStatus> ResetUnseal() override;
  Status Seal() override;
  bool Sealed() override { return sealed_.load(); }
  bool Standby() override { return standby_.load() && !sealed_.load(); }
  HaStatus GetHaStatus() override;
  std::shared_ptr<const PemKeyPair> ClusterTls() override;
  // sys/step-down: the active node gives up its lock and stays a standby for
  // a while, so another node takes over. No-op without HA.
  void StepDown();
  std::string SealType() const override { return options_.static_seal ? "static" : "shamir"; }
  Status AutoUnseal() override;
  Result<DevCredentials> DevSetup(const std::string& root_token_id) override;
  void Route(RoutedRequest& r) override;
  bool ServesOnStandby(const RoutedRequest& r) override;  // core/standby.cc
  Task<Result<logical::Response>> HandleRequestAsync(RoutedRequest& r, Resumer* resumer) override;
  bool IsUnauthenticated(const std::string& path) override;
  bool TokenResolves(std::string_view token) override;
  void OnSighup() override;
  InFlightRequests& in_flight() override { return in_flight_; }
  RateLimitOutcome ApplyRateLimit(RoutedRequest& r) override;  // core/quotas.cc
  Task<Status> AuditRateLimited(RoutedRequest& r, std::string error, Resumer* resumer) override;
  QuotaManager& quotas() { return *quotas_; }
  // Rebuilds the lease-count quotas' counts from the stored leases and
  // service tokens (core/quotas.cc): at unseal, and after a lease-count
  // quota is written or deleted.
  Status RecountLeaseQuotas();
  audit::AuditBroker& audit() { return audit_; }
  ExpirationManager& expiration() { return *expiration_; }
  // Routes a revoke or renew for a lease to the backend that issued it.
  Status RouteLeaseOp(const LeaseEntry& e, logical::Operation op, int64_t ttl);
  // Asks the auth method that issued `te` whether it may be renewed, and
  // under which of its role's TTLs (nullopt: the token's own).
  Result<std::optional<logical::Auth>> CheckAuthRenewal(const auth::TokenEntry& te);
  void Shutdown() override;
  const Clock& clock() const override { return *options_.clock; }

  // --- For the system backend (called with the state lock held shared). ---
  Router& router() { return router_; }
  auth::TokenStore& tokens() { return *tokens_; }
  auth::PolicyStore& policies() { return *policies_; }
  PasswordPolicyStore& password_policies() { return *password_policies_; }
  Barrier& barrier() { return *barrier_; }
  const CoreOptions& options() const { return options_; }
  const BackendRegistry& backends() const { return options_.backends; }
  // Mounts a new secrets engine or auth method and persists the table.
  Status EnableMount(MountEntry entry);
  // Revokes what the mount granted (leases, or an auth method's tokens), then
  // unmounts and deletes the mount's data. Missing: OK. A failed revocation
  // keeps the mount and is the error.
  Status DisableMount(const std::string& route_path);
  // Moves a mount (its data stays under the same uuid view) with its leases
  // or tokens.
  Status Remount(const std::string& from_route, const std::string& to_route);
  // Persists the table after a tune.
  Status UpdateMount(const std::string& route_path, const std::function<Status(MountEntry&)>& edit);
  // Re-creates a mount's backend from its (tuned) entry: a KV v1 mount tuned
  // to version 2 becomes a KV v2 backend, which migrates the data. The data
  // stays under the mount's uuid. The mount answers 404 while it reloads.
  Status ReloadMount(const std::string& route_path) {
    std::lock_guard l(mount_mu_);
    auto old = router_.Get(route_path);
    if (!old) return InvalidArgument("no mount at " + route_path);
    SB_ASSIGN_OR_RETURN(auto fresh, Instantiate(old->mount));
    SB_RETURN_IF_ERROR(router_.Replace(route_path, std::move(fresh)));
    old->backend->Cleanup();
    return Status::Ok();
  }
  // Seal requested through the API: runs after the current request finishes.
  void RequestSeal();
  // Turns a login response's Auth block into a stored token (core_login.cc).
  // `login_role` is kept on the token for the lease-count quotas' recount.
  Status CompleteLogin(logical::Request& req, const RouteEntry& route, const std::string& login_role,
                       logical::Response& resp);
  // The ACL for a request's token (root ACL for root tokens).
  Result<std::shared_ptr<const auth::Acl>> AclForToken(const auth::TokenEntry& entry);

  // Response wrapping (core/response_wrapping.cc).
  // Replaces `resp` by the wrap info of a new single-use token living
  // req.wrap_ttl seconds, in whose cubbyhole the response waits.
  Status WrapResponse(const logical::Request& req, logical::Response& resp);
  // A wrapping token's stored envelope and creation info. `spend` uses the
  // token up (once only, even under concurrent calls) and revokes it.
  struct WrappedEntry {
    Json envelope;
    Json info;  // creation_path, creation_time, creation_ttl
  };
  Result<WrappedEntry> ReadWrapped(std::string_view token, bool spend);
  // Spends `token` and wraps its payload again in a new token (same TTL).
  Result<logical::WrapInfo> Rewrap(std::string_view token);
  // --- Break-glass (core/break_glass.h): the ceremonies and what they need. ---
  RootGeneration& root_generation() { return *root_generation_; }
  Rekey& rekey(RekeyTarget target) { return target == RekeyTarget::kBarrier ? *barrier_rekey_ : *recovery_rekey_; }
  // The threshold of the shares that open this vault: unseal-key shares
  // (Shamir seal) or recovery-key shares (static seal).
  Result<int> QuorumThreshold();
  // OK if `key` (combined from such shares) is the unseal key, or the
  // recovery key; InvalidArgument("invalid key") otherwise.
  Status CheckQuorumKey(const SecureBytes& key);
  // A new root token (stored hashed, like the one init issued).
  Result<std::string> IssueRootToken() { return CreateRootToken(""); }
  // Shamir seal: the root key, wrapped by `new_key` instead of `old_key`,
  // and the seal configuration, written in one batch.
  Status ReplaceUnsealKey(const SecureBytes& old_key, const SecureBytes& new_key, int shares, int threshold);
  // --- Snapshots (core/snapshot.cc). ---
  // The whole store, as a snapshot archive, at one point in time; writes go
  // on meanwhile. TakeSnapshot builds it in memory, up to
  // snapshot::kMaxStateBytes of archive, for the snapshot scheduler's thread
  // (which PreSeal stops first); gives up once `cancel` (if any) turns true.
  Result<std::string> TakeSnapshot(const std::atomic<bool>* cancel = nullptr);
  // The same archive made while it is read (GET sys/storage/raft/snapshot):
  // a thread scans the store and writes into a bounded queue, so memory
  // stays bounded whatever the store's size (docs/operations.md). The source
  // uses this core: drop it before the core goes (main stops the server first).
  Result<std::shared_ptr<ByteSource>> StreamSnapshot();
  // Scheduled snapshots (sys/storage/raft/snapshot-auto).
  SnapshotScheduler& snapshot_schedules() { return *snapshot_schedules_; }
  // Checks a snapshot (format, checksums and, unless `force`, that it is
  // this vault's) and keeps it for ApplyStagedRestore, which the pipeline
  // runs for request `request_id` once it has released the state lock.
  Status StageRestore(const std::string& request_id, std::string_view archive, bool force);
  // Static seal: the recovery key and its configuration, in one batch.
  Status ReplaceRecoveryKey(const SecureBytes& new_key, int shares, int threshold);

  CoreMetrics& metrics() { return metrics_; }

 private:
  Status CheckSnapshotsSupported() const;
  // Writes a snapshot archive of the store, as of one point in time, to
  // `sink`; `manifest` brings the cluster id (read under the state lock).
  Status WriteSnapshot(const snapshot::ArchiveWriter::Sink& sink, snapshot::Manifest manifest,
                       const std::atomic<bool>* cancel);
  struct StagedRestore {
    std::string request_id;
    bool force = false;
    std::vector<std::pair<std::string, std::string>> entries;
  };
  // Replaces the store by the snapshot staged for `request_id` (if any) and
  // reloads every cache; seals after a forced restore. Takes the state lock
  // exclusively. A request that failed after staging (`request_ok` false:
  // its audit entry, say) drops its snapshot instead.
  Status ApplyStagedRestore(const std::string& request_id, bool request_ok);
  Status RevokeGrants(const RouteEntry& entry);
  Status MoveGrants(bool auth, const std::string& from_route, const std::string& to_route);
  // The pipeline (request_pipeline.cc): its steps in order.
  Task<Result<logical::Response>> RunRequest(RoutedRequest& routed, Resumer* resumer);
  logical::RunMode RunModeOf(const BoundRoute& route, const logical::Request& req);
  // The calling token (nullopt: none or unknown) as the request sees it.
  Result<std::optional<auth::TokenEntry>> Authenticate(logical::Request& req);
  // Create-or-update, the ACL and a use of a limited token. Denied: allowed
  // false. *revoke_after: the request spends the token's last use.
  // `token` is null only for an unauthenticated path.
  Result<bool> Authorize(logical::Request& req, const BoundRoute& route, const auth::TokenEntry* token,
                         bool* revoke_after);
  // After the backend: a login's token, a dynamic secret's lease.
  void Complete(logical::Request& req, const BoundRoute& route, Result<logical::Response>& resp);
  // Quotas (core/quotas.cc). The login role a bound request names ("" for
  // anything but a login); QuotaRoleOf only when a role quota could apply
  // to its mount.
  std::string LoginRoleOf(const BoundRoute& route, logical::Request& bound_req);
  std::string QuotaRoleOf(const BoundRoute& route, logical::Request& bound_req);
  // Counts a new lease (dynamic secret, or a login's or token store's
  // service token) against the lease-count quota that applies; the lease is
  // released by LeaseGone with the same key. Root callers are not counted.
  // REQUIRES: req bound to route (BoundRequestScope).
  Result<std::shared_ptr<std::atomic<int64_t>>> AcquireLeaseQuota(logical::Request& req, const BoundRoute& route,
                                                                   const std::string& login_role);
  void RememberCounted(const std::string& key, std::shared_ptr<std::atomic<int64_t>> counter);
  void LeaseGone(const std::string& key);
  // After the backend, for a response with an auth block or a secret.
  void CountTokenLease(logical::Request& req, const BoundRoute& route, const std::string& login_role,
                       Result<logical::Response>& resp);
  Result<SecureBytes> ReadRootKey(const SecureBytes& unseal_key);
  // Static seal: unwraps the root key (rotating the wrap to the current key)
  // and unseals. REQUIRES: state_mu_ held exclusively, sealed.
  Status AutoUnsealLocked();
  // Static seal: checks recovery shares against the stored recovery key.
  Status VerifyRecoveryKey(const SecureBytes& recovery_key);
  Result<InitResult> InitializeStatic(const InitRequest& req);
  // At init: the cluster's id and name, under the barrier.
  Status WriteClusterIdentity();
  // After the barrier is unsealed: activate (one node), or become a standby
  // and campaign (HA).
  Status PostUnseal();
  void NotifyStateChange() {
    if (options_.on_state_change) options_.on_state_change();
  }
  // Init: activate at once (no other node can be active before init), so the
  // root token can be written. HA hands over to the election afterwards.
  Status PostUnsealForInit();
  Status LoadClusterIdentity();
  // HA, on activation: reads the cluster's TLS identity, creating and storing
  // it first if no node has yet (core/cluster_tls.cc).
  Status EnsureClusterTls();
  void ForgetClusterTls();
  // Loads the mount table, policies, tokens, audit, and starts background work.
  Status Activate();
  void PreSeal();
  // HA (core/ha.cc). REQUIRES: state_mu_ held exclusively.
  void EnterStandby();
  void StopHa();
  void RunHa();
  std::string Advert() const;
  void WaitHa(std::chrono::milliseconds d);
  // A standby's own tables (core/standby.cc). REQUIRES: state_mu_ held
  // exclusively. Load closes the write gate and follows the change feed;
  // Unload stops following and tears the tables down.
  Status LoadStandby();
  void BecomeReadingStandby();  // LoadStandby, or a standby that forwards all
  Status LoadStandbyTables();
  void UnloadStandby();
  // The change feed's callbacks (its thread).
  void OnStandbyChange(std::string_view key);
  void OnStandbyReset();
  void StandbyReloaded(const Status& s);
  // Before a standby read: every acknowledged write seen, or NotActive.
  Task<Status> CatchUpForStandbyRead(Resumer* resumer);
  Status SetupMounts();
  Status PersistMountTable(bool auth_table);
  Result<std::shared_ptr<RouteEntry>> Instantiate(const MountEntry& m);
  Result<SealConfig> LoadSealConfig();
  Result<std::string> CreateRootToken(const std::string& custom_id);
  Status SealLocked();
  Result<Storage*> CubbyholeView();
  Result<logical::WrapInfo> StoreWrapped(const Json& envelope, const std::string& creation_path, int64_t ttl);

  CoreOptions options_;
  // The read cache in front of options_.physical (null with disable_cache);
  // physical_ is what everything in core reads and writes through.
  std::unique_ptr<CachingStorage> cache_;
  // Above the cache: shut while a standby, so it never writes (core/standby.cc).
  std::unique_ptr<WriteGate> gate_;
  Storage* physical_ = nullptr;
  std::unique_ptr<Barrier> barrier_;
  std::unique_ptr<PrefixView> token_view_;
  std::unique_ptr<PrefixView> identity_view_;
  std::unique_ptr<IdentityStore> identity_;
  std::unique_ptr<PrefixView> policy_view_;
  std::unique_ptr<PrefixView> audit_view_;
  std::unique_ptr<PrefixView> expire_view_;
  std::unique_ptr<ExpirationManager> expiration_;
  audit::AuditBroker audit_;
  std::unique_ptr<auth::TokenStore> tokens_;
  std::unique_ptr<auth::PolicyStore> policies_;
  std::unique_ptr<PrefixView> password_policy_view_;
  std::unique_ptr<PasswordPolicyStore> password_policies_;
  Router router_;
  std::unique_ptr<PrefixView> quota_view_;
  std::unique_ptr<QuotaManager> quotas_;
  std::unique_ptr<PrefixView> snapshot_auto_view_;
  std::unique_ptr<SnapshotScheduler> snapshot_schedules_;
  // What each counted lease or token counted against, by "lease:<id>" or
  // "token:<hash>", so its end releases the same quota.
  std::mutex counted_mu_;
  std::unordered_map<std::string, std::shared_ptr<std::atomic<int64_t>>> counted_;  // guarded by counted_mu_

  // state_mu_ guards the seal state: requests hold it shared; init, unseal
  // and seal hold it exclusively.
  SharedGate state_mu_;
  std::atomic<bool> sealed_{true};
  std::mutex unseal_mu_;                // guards the unseal attempt below
  std::vector<SecureBytes> unseal_parts_;
  std::string unseal_nonce_;
  std::string cluster_name_, cluster_id_;  // guarded by state_mu_
  std::mutex mount_mu_;                 // serialises mount table changes
  std::atomic<bool> seal_requested_{false};
  std::unique_ptr<RootGeneration> root_generation_;
  std::unique_ptr<Rekey> barrier_rekey_, recovery_rekey_;

  // HA: the election thread and what it tells requests.
  std::thread ha_thread_;
  std::atomic<bool> ha_stop_{false};
  std::atomic<bool> standby_{false};
  std::atomic<bool> step_down_{false};
  std::atomic<int64_t> active_since_{0};
  std::atomic<bool> standby_reads_{false};  // a standby with its tables loaded and followed
  std::atomic<bool> feed_stop_{false};      // the change feed's callbacks give up
  std::mutex ha_mu_;
  std::mutex cluster_tls_mu_;
  std::shared_ptr<const PemKeyPair> cluster_tls_;  // guarded by cluster_tls_mu_
  std::condition_variable ha_cv_;
  std::mutex staged_mu_;
  std::unique_ptr<StagedRestore> staged_restore_;  // guarded by staged_mu_
  std::atomic<bool> restore_staged_{false};        // staged_restore_ is set: the hot path's check
  // sys/metrics (core_metrics.cc): the gauges reported at scrape time.
  void CollectGauges(metrics::SampleSink& sink);
  CoreMetrics metrics_;
  InFlightRequests in_flight_;
  UsageGauges usage_{options_.usage_gauge_period_s};
  int metrics_collector_ = 0;
};

}  // namespace sealbox::core
