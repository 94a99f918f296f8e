// Core: the vault itself. Owns the seal state (init, unseal progress, seal),
// the barrier, the mount table and router, the token store and policies, and
// runs every routed request through the pipeline: sealed check, token lookup,
// ACL, audit, backend, response.
//
// Thread-safety: every public method may be called concurrently. The seal
// state is guarded by a shared mutex: requests hold it shared, init, unseal
// and seal take it exclusively.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_file.h"
#include "base/clock.h"
#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "base/x509_cert.h"
#include "base/task.h"
#include "core/backend_registry.h"
#include "core/in_flight.h"
#include "core/quota_manager.h"
#include "logical/backend.h"
#include "logical/request.h"

namespace sealbox {
class ChangeFeed;
class HaLock;
class Storage;
}

namespace sealbox::core {

// The static seal (OpenBao's `seal "static"`): the root key is wrapped by a
// 32-byte key the operator supplies instead of being split into shares, so
// the server unseals itself at start. `previous_*` lets the key rotate: a root
// key wrapped by the previous key is rewrapped with the current one.
struct StaticSealKeys {
  std::string current_key_id;
  SecureBytes current_key;
  std::string previous_key_id;  // empty: none
  SecureBytes previous_key;
};

struct BoundRoute;  // core/router.h: what Route resolved

// A routed request and the route Core::Route bound it to.
struct RoutedRequest {
  logical::Request request;
  std::shared_ptr<const BoundRoute> route;  // null until Route (or while sealed)
  logical::RunMode run_mode = logical::RunMode::kWaits;
  // HA: a standby serves this read itself (Core::ServesOnStandby said so
  // when it was routed); otherwise a standby answers NotActive.
  bool standby_read = false;
};

struct CoreOptions {
  std::unique_ptr<Storage> physical;      // required: RocksDB or in-memory
  std::string storage_type = "rocksdb";   // reported in seal-status
  Clock* clock = SystemClock::Default();
  int64_t default_lease_ttl = 768 * 3600;
  int64_t max_lease_ttl = 768 * 3600;
  size_t max_entry_size = 1 << 20;        // largest KV value we store (413 above)
  size_t cache_size = 131072;             // read cache entries (Vault's cache_size); 0: disable_cache
  std::optional<StaticSealKeys> static_seal;  // absent: Shamir
  audit::FileDeviceLimits audit_file_limits;  // allow_audit_log_prefixing, audit_file_dirs
  // The engines and auth methods mounts may use, by type (the composition
  // root's choice; core adds its own sys, token and identity).
  BackendRegistry backends;
  // HA (storage "etcd" with ha_enabled): the election; null on one node.
  // An unsealed node campaigns; until it wins it is a standby (core/ha.cc).
  std::shared_ptr<HaLock> ha_lock;
  // With ha_lock: what the active node writes, so a standby serves reads
  // itself (core/standby.cc). Without one, a standby forwards everything.
  std::shared_ptr<ChangeFeed> change_feed;
  std::string api_addr;      // advertised: where standbys send clients
  std::string cluster_addr;  // advertised: where standbys forward requests (mutual TLS)
  // telemetry usage_gauge_period: how often the token and lease counts that
  // sys/metrics reports are recounted (Vault's default, 10 minutes).
  int64_t usage_gauge_period_s = 600;
  // sys/config/state/sanitized: the loaded configuration, nothing secret in
  // it (the composition root's; null in tests and dev setups that give none).
  Json sanitized_config;
  // Called after the node's state may have changed (init, unseal, seal,
  // becoming active or standby), possibly with core locks held: it must only
  // take note (service registration reads the state later through the
  // getters). Null: nobody listens.
  std::function<void()> on_state_change;
};

// The name the cluster certificate is issued to and checked against: nodes
// reach each other by address, and every node holds the same certificate.
inline constexpr const char* kClusterTlsServerName = "sealbox-cluster";

// What sys/leader, sys/ha-status and sys/health report.
struct HaStatus {
  struct Node {
    std::string hostname, api_addr, cluster_addr;
    bool active = false;
  };
  bool enabled = false;
  bool active = false;  // unsealed and serving (always, without HA)
  std::string leader_api_addr, leader_cluster_addr;  // empty: no active node known
  int64_t active_since = 0;                          // unix seconds, while active
  std::vector<Node> nodes;                           // the active node first
};

struct SealConfig {
  std::string type = "shamir";  // shamir | static
  int secret_shares = 0;
  int secret_threshold = 0;
  int recovery_shares = 0;      // static seal only
  int recovery_threshold = 0;
};

struct InitRequest {
  int secret_shares = 0;
  int secret_threshold = 0;
  int recovery_shares = 0;      // static seal; 0 = Vault's CLI default 5
  int recovery_threshold = 0;   // static seal; 0 = 3
};

struct InitResult {
  std::vector<SecureBytes> shares;           // 33 bytes each (Shamir seal)
  std::vector<SecureBytes> recovery_shares;  // static seal
  std::string root_token;                    // shown once; stored only hashed
};

struct SealStatus {
  bool initialized = false;
  bool sealed = true;
  int t = 0;
  int n = 0;
  int progress = 0;
  std::string nonce;
  std::string cluster_name;  // empty while sealed
  std::string cluster_id;
  std::string storage_type;
  std::string seal_type = "shamir";  // shamir | static
  bool recovery_seal = false;        // t/n/progress count recovery shares
};

struct DevCredentials {
  std::string unseal_key_b64;
  std::string root_token;
};

class Core {
 public:
  static Result<std::unique_ptr<Core>> Create(CoreOptions options);
  virtual ~Core() = default;

  virtual bool Initialized() = 0;
  // Errors: InvalidArgument with Vault's messages ("Vault is already
  // initialized", "invalid seal configuration: ...").
  virtual Result<InitResult> Initialize(const InitRequest& req) = 0;
  virtual SealStatus GetSealStatus() = 0;
  // Adds one share; at the threshold, combines and unseals. A wrong share set
  // resets progress and returns InvalidArgument("Unseal failed, invalid key").
  virtual Result<SealStatus> SubmitUnsealKey(const SecureBytes& share) = 0;
  // Errors: "Vault is not initialized", "vault is unsealed".
  virtual Result<SealStatus> ResetUnseal() = 0;
  // Wipes every key from memory; routed requests then get kSealed.
  virtual Status Seal() = 0;
  virtual bool Sealed() = 0;
  // Unsealed but not the active node (HA): routed requests go to the active.
  virtual bool Standby() = 0;
  virtual HaStatus GetHaStatus() = 0;
  // HA: the cluster's own certificate and key, shared by every node through
  // the barrier (created by the first active node), which the cluster
  // listener presents and requires and a standby forwards requests with.
  // Null while sealed, without HA, or before an active node created it.
  virtual std::shared_ptr<const PemKeyPair> ClusterTls() = 0;
  // The configured seal: "shamir" or "static".
  virtual std::string SealType() const = 0;
  // Static seal, at start: unwraps the root key with the configured key and
  // unseals (rewrapping with the current key if the previous one matched).
  // Errors: InvalidArgument when the stored seal and the configured one
  // differ, PermissionDenied when neither key opens the root key.
  virtual Status AutoUnseal() = 0;

  // Dev mode: initialise with one share, unseal, optionally with a chosen root
  // token id, and mount secret/ as kv v2.
  virtual Result<DevCredentials> DevSetup(const std::string& root_token_id) = 0;

  // Matches a routed request (everything under /v1/ except the raw sys
  // endpoints) to its mount, once, on its decoded path, and says how it runs
  // (the backend's RunMode for that route; any request while sealed answers
  // at once; a read goes off the I/O thread while an audit device may block).
  // Cheap and never blocking: the server calls it on the I/O thread to pick
  // the thread that runs the request.
  virtual void Route(RoutedRequest& r) = 0;
  // HA, on a standby: true if it serves the routed request itself (a read
  // its bound route declares safe on a standby, its tables loaded and
  // following the active node's writes). Everything else goes to the active
  // node. False on an active node.
  virtual bool ServesOnStandby(const RoutedRequest& r) = 0;
  // Runs a request on the route Route bound. With a resumer, the request
  // suspends instead of blocking on the audit devices that allow it
  // (AuditBroker); without one it never suspends. On a standby, a request
  // not marked standby_read, or one that tried to write, answers NotActive
  // (without effect): the caller sends it to the active node.
  virtual Task<Result<logical::Response>> HandleRequestAsync(RoutedRequest& r, Resumer* resumer) = 0;
  // Route, then run without suspending (tests, internal callers).
  Result<logical::Response> HandleRequest(logical::Request& req) {
    RoutedRequest r{std::move(req)};
    Route(r);
    auto result = RunSync(HandleRequestAsync(r, nullptr));
    req = std::move(r.request);
    return result;
  }
  // The rate-limit quota for a routed request whose body is parsed (a
  // login's role may be in it): whether it may run, and the figures for
  // the X-Ratelimit-* headers. Nothing applies while sealed.
  virtual RateLimitOutcome ApplyRateLimit(RoutedRequest& r) = 0;
  // A request refused by a rate limit: audited (unauthenticated, its data
  // elided) when sys/quotas/config enable_rate_limit_audit_logging is set.
  virtual Task<Status> AuditRateLimited(RoutedRequest& r, std::string error, Resumer* resumer) = 0;
  // Before a request's body is read (the body limit): true if `path` is a
  // login path, which takes requests without a token (auth/<mount>/login...);
  // false while sealed. Only for bodies that claim to be large.
  virtual bool IsUnauthenticated(const std::string& path) = 0;
  // True if `token` resolves to a live token. False while sealed.
  virtual bool TokenResolves(std::string_view token) = 0;
  // The requests running now (sys/in-flight-req); the HTTP layer registers
  // each routed request for its lifetime.
  virtual InFlightRequests& in_flight() = 0;
  // SIGHUP: reopen audit files (logrotate moves them away first).
  virtual void OnSighup() = 0;

  // Stops background work and closes storage. Called once at shutdown.
  virtual void Shutdown() = 0;

  virtual const Clock& clock() const = 0;
};

}  // namespace sealbox::core
