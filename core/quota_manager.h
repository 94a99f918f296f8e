// QuotaManager: Vault's resource quotas. Rate-limit quotas (a token bucket
// per client address, core/rate_limiter.h) and lease-count quotas (how many
// leases and service tokens may live at once), each global (path ""), on a
// mount ("kv/"), on a path prefix under a mount ("kv/team-a"), or on the
// logins of one role of an auth mount. The most specific applies: path, then
// mount and role, then mount, then global. Persisted under the barrier as
// rate-limit/<name>, lease-count/<name> and config.
//
// The hot path (a request's rate limit) reads an immutable snapshot through
// one atomic pointer: no lock. Writes (rare, administrative) publish a new
// snapshot and free a replaced one only after a grace period (kGrace) far
// longer than a reader holds one (a lookup and one bucket update), so a
// reader never sees one freed, even across a seal. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/status.h"
#include "core/quota_events.h"
#include "core/rate_limiter.h"
#include "storage/storage.h"

namespace sealbox::core {

struct QuotaConfig {
  bool audit_logging = false;     // enable_rate_limit_audit_logging: refusals are audited
  bool response_headers = false;  // enable_rate_limit_response_headers
  std::vector<std::string> exempt_paths = DefaultExemptPaths();
  static std::vector<std::string> DefaultExemptPaths();
};

// Where a quota applies. `mount` is the route path of the mount it names
// ("" when global); `path` is what the operator wrote.
struct QuotaScope {
  std::string name, path, mount, role;
  bool IsPathRule() const { return !path.empty() && path != mount; }
};

struct RateLimitQuota {
  QuotaScope scope;
  double rate = 0;
  int64_t interval_secs = 1;
  int64_t block_interval_secs = 0;
  std::shared_ptr<RateLimiter> limiter;  // set by the manager
};

struct LeaseCountQuota {
  QuotaScope scope;
  int64_t max_leases = 0;
  std::shared_ptr<std::atomic<int64_t>> counter;  // set by the manager
};

// What a request is, for the quotas.
struct QuotaRequest {
  std::string_view path;         // the request path ("kv/data/x")
  std::string_view mount;        // its mount's route path ("kv/"), "" when none
  std::string_view role;         // the login's role, "" when none
  std::string_view client_addr;
};

struct RateLimitOutcome {
  bool applies = false;       // some quota counted this request
  bool send_headers = false;  // enable_rate_limit_response_headers
  RateDecision decision;
};

class QuotaManager {
 public:
  explicit QuotaManager(const Clock* clock);
  ~QuotaManager();

  // After unseal: reads the stored quotas. Reset at seal forgets them.
  Status Load(Storage* view);
  void Reset();

  RateLimitOutcome ApplyRateLimit(const QuotaRequest& r);
  // True if a role quota names `mount`, so the request's role must be found.
  bool NeedsRole(std::string_view mount) const;
  bool HasLeaseQuotas() const { return !Current().lease.empty(); }
  // Counts a new lease for `r` against the quota that applies. Returns its
  // counter (null when none applies) for Release; over the limit:
  // RateLimited("lease count quota exceeded").
  Result<std::shared_ptr<std::atomic<int64_t>>> AcquireLease(const QuotaRequest& r);
  static void Release(const std::shared_ptr<std::atomic<int64_t>>& counter);
  // The recount (at unseal, and when a lease-count quota is written or
  // deleted): ResetLeaseCounts gives every lease-count quota a fresh zero
  // counter, then CountExisting counts each live lease against the quota
  // that applies to it, past max_leases if need be (null when none applies).
  void ResetLeaseCounts();
  std::shared_ptr<std::atomic<int64_t>> CountExisting(const QuotaRequest& r);

  // Management (sys/quotas/*). Errors carry Vault's messages.
  Status WriteRateLimit(RateLimitQuota q);
  // Its counter starts at zero: the core recounts after it (CountExisting).
  Status WriteLeaseCount(LeaseCountQuota q);
  Result<bool> Delete(QuotaKind kind, const std::string& name);
  std::optional<Json> Read(QuotaKind kind, const std::string& name) const;
  std::vector<std::string> List(QuotaKind kind) const;
  QuotaConfig config() const;
  Status WriteConfig(QuotaConfig c);

 private:
  struct Snapshot {
    std::vector<RateLimitQuota> rate;
    std::vector<LeaseCountQuota> lease;
    QuotaConfig config;
  };
  const Snapshot& Current() const { return *current_.load(std::memory_order_acquire); }
  // REQUIRES: write_mu_ held. Persists `key` (or deletes it when `value` is
  // null) and publishes `next`.
  Status Publish(std::unique_ptr<Snapshot> next, const std::string& key, const Json* value);
  bool Exempt(const Snapshot& s, std::string_view path) const;

  const Clock* clock_;
  Storage* view_ = nullptr;
  struct Retired {
    std::unique_ptr<Snapshot> snapshot;
    std::chrono::steady_clock::time_point at;  // when it stopped being current
  };
  static constexpr std::chrono::seconds kGrace{60};
  // REQUIRES: write_mu_ held. Makes `next` current; frees what retired
  // more than kGrace ago.
  void Install(std::unique_ptr<Snapshot> next);

  mutable std::mutex write_mu_;  // serialises writes; guards view_, live_ and retired_
  std::unique_ptr<Snapshot> live_;  // the current snapshot's owner
  std::vector<Retired> retired_;
  std::atomic<const Snapshot*> current_;
};

// The index of the quota that applies to `r` among `scopes` (most specific
// first), or -1. Exposed for tests.
int MostSpecific(const std::vector<const QuotaScope*>& scopes, const QuotaRequest& r);

}  // namespace sealbox::core
