// The core's side of the quotas (core/quota_manager.h): what a request is
// for them (its mount, its login role, its client), and the leases and
// tokens counted against lease-count quotas until they end.
#include "base/log.h"
#include "core/core_impl.h"

namespace sealbox::core {

std::string CoreImpl::QuotaRoleOf(const BoundRoute& route, logical::Request& bound_req) {
  const MountEntry& mount = route.entry->mount;
  if (!mount.auth || !bound_req.unauthenticated || !quotas_->NeedsRole(mount.RoutePath())) return "";
  auto role = route.entry->backend->QuotaRole(bound_req);
  return role.ok() ? *role : "";
}

RateLimitOutcome CoreImpl::ApplyRateLimit(RoutedRequest& r) {
  if (sealed_.load()) return {};
  logical::Request& req = r.request;
  const BoundRoute route = r.route && r.route->generation == router_.generation() ? *r.route : router_.Route(req.path);
  std::string mount, role;
  if (route) {
    mount = route.entry->mount.RoutePath();
    if (route.entry->mount.auth && quotas_->NeedsRole(mount)) {
      req.unauthenticated =
          logical::MatchesSpecial(route.entry->backend->special_paths().unauthenticated, route.relative_path);
      BoundRequestScope bound(route, req);
      role = QuotaRoleOf(route, req);
    }
  }
  return quotas_->ApplyRateLimit(QuotaRequest{req.path, mount, role, req.remote_addr});
}

Result<std::shared_ptr<std::atomic<int64_t>>> CoreImpl::AcquireLeaseQuota(logical::Request& req,
                                                                           const BoundRoute& route) {
  // Root callers are not counted, as Vault.
  if (!quotas_->HasLeaseQuotas() || (req.token && req.token->is_root)) return std::shared_ptr<std::atomic<int64_t>>();
  const std::string role = QuotaRoleOf(route, req);
  return quotas_->AcquireLease(QuotaRequest{req.original_path, route.entry->mount.RoutePath(), role, req.remote_addr});
}

void CoreImpl::RememberCounted(const std::string& key, std::shared_ptr<std::atomic<int64_t>> counter) {
  if (!counter) return;
  std::lock_guard l(counted_mu_);
  counted_[key] = std::move(counter);
}

void CoreImpl::LeaseGone(const std::string& key) {
  std::shared_ptr<std::atomic<int64_t>> counter;
  {
    std::lock_guard l(counted_mu_);
    auto it = counted_.find(key);
    if (it == counted_.end()) return;
    counter = std::move(it->second);
    counted_.erase(it);
  }
  QuotaManager::Release(counter);
}

void CoreImpl::CountTokenLease(logical::Request& req, const BoundRoute& route, Result<logical::Response>& resp) {
  if (!resp.ok() || !resp->auth || resp->replayed || resp->auth->token_type != "service") return;
  if (resp->auth->client_token.empty()) return;
  auto counter = AcquireLeaseQuota(req, route);
  if (counter.ok() && !*counter) return;  // no quota applies
  auto entry = tokens_->Lookup(resp->auth->client_token);
  if (!entry.ok() || !*entry) return;
  if (!counter.ok()) {
    // Over the quota: the token just issued never reaches the caller.
    Status s = tokens_->RevokeTree((*entry)->hash);
    if (!s.ok()) log::Error("core: cannot revoke a token refused by a lease quota: " + s.ToString());
    resp = counter.status();
    return;
  }
  RememberCounted("token:" + (*entry)->hash, std::move(*counter));
}

}  // namespace sealbox::core
