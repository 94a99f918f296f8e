// ExpirationManager: leases of dynamic secrets, persisted under the barrier
// ("sys/expire/"), revoked on time even across restarts.
//
// Layout: id/<lease id> (the entry), time/<expire minute>/<expire ns>|<hash>
// (a time-ordered index: unseal loads nothing, the scheduler reads only the
// earliest buckets), token/<token hash>/<hash> (leases by owning token).
// Revocation and renewal are routed back to the owning backend through the
// callbacks the core provides; failures retry with jittered exponential
// backoff, and after 6 attempts the lease is marked irrevocable.
// Thread-safety: all methods may be called concurrently; Start/Stop from one
// thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/status.h"
#include "logical/request.h"
#include "storage/storage.h"

namespace sealbox::core {

struct LeaseEntry {
  std::string lease_id;
  std::string path;         // full request path that created it ("database/creds/ro")
  std::string mount;        // route path of the owning mount ("database/")
  std::string token_hash;   // owning token's storage id ("" if none)
  int64_t issue_ns = 0, expire_ns = 0, last_renew_ns = 0;
  int64_t max_ttl = 0;      // seconds from issue
  int64_t ttl = 0;          // seconds granted at issue: a renewal without increment grants it again
  bool renewable = false;
  bool quota_exempt = false;  // made by a root caller: no lease-count quota counts it
  Json internal = nullptr;
  int attempts = 0;
  bool irrevocable = false;
  std::string last_error;
  std::string time_key;     // current index key ("" when not scheduled)

  Json ToJson() const;
  static LeaseEntry FromJson(const Json& j);
};

class ExpirationManager {
 public:
  using RevokeFn = std::function<Status(const LeaseEntry&)>;
  using RenewFn = std::function<Status(const LeaseEntry&, int64_t new_ttl)>;
  static constexpr int kMaxAttempts = 6;

  ExpirationManager(Storage* view, const Clock* clock) : view_(view), clock_(clock) {}
  ~ExpirationManager() { Stop(); }

  void SetCallbacks(RevokeFn revoke, RenewFn renew) {
    revoke_ = std::move(revoke);
    renew_ = std::move(renew);
  }
  // Told each lease id once its lease is gone (revoked, expired, forced):
  // the lease-count quotas release it. Set before Start.
  void SetDeletedHook(std::function<void(const std::string& lease_id)> hook) { deleted_ = std::move(hook); }
  // Starts the scheduler thread (after unseal); Stop joins it (before seal).
  void Start();
  void Stop();

  // Persists a lease for `secret` and returns its id: "<path>/<24 base62>".
  Result<std::string> Register(const std::string& path, const std::string& mount, const std::string& token_hash,
                               const logical::Secret& secret, bool quota_exempt = false);
  Result<std::optional<LeaseEntry>> Lookup(const std::string& lease_id);
  // Renews from now by `increment` (0: the original TTL), capped at issue +
  // max_ttl with a warning. Returns the new TTL.
  Result<int64_t> Renew(const std::string& lease_id, int64_t increment, std::vector<std::string>* warnings);
  // Revokes through the backend now. Unknown ids are OK.
  Status Revoke(const std::string& lease_id);
  // Revokes every lease under `prefix`; `force` deletes them even if the backend fails.
  Status RevokePrefix(const std::string& prefix, bool force);
  // Moves every lease under `from` to `to` (a remount): ids, paths and the
  // owning mount are re-prefixed, each lease in one batch, so the leases stay
  // revocable at the new path. Returns how many moved.
  Result<size_t> MovePrefix(const std::string& from, const std::string& to);
  // Revokes every lease the token owns (on token revoke or expiry).
  void RevokeByToken(const std::string& token_hash);
  Result<std::vector<std::string>> List(const std::string& prefix);
  Result<std::vector<LeaseEntry>> Irrevocable(size_t limit);
  // Calls `visit` with every stored lease (to recount the lease-count quotas).
  Status ForEach(const std::function<void(const LeaseEntry&)>& visit);

  // Runs due expirations once (the scheduler's step; exposed for tests).
  void Tick();

 private:
  // The writes that store (and, with `reschedule`, re-index) or delete a lease.
  void AppendSave(LeaseEntry& e, bool reschedule, std::vector<WriteOp>& ops);
  static void AppendDelete(const LeaseEntry& e, std::vector<WriteOp>& ops);
  Status Save(LeaseEntry& e, bool reschedule);
  Status Delete(const LeaseEntry& e);
  Status TryRevoke(LeaseEntry& e);
  static std::string Hash(const std::string& lease_id);

  Storage* view_;
  const Clock* clock_;
  RevokeFn revoke_;
  RenewFn renew_;
  std::function<void(const std::string&)> deleted_;
  std::mutex mu_;  // serialises index updates of one lease (coarse, cheap)
  std::thread thread_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace sealbox::core
