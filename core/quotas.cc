// The core's side of the quotas (core/quota_manager.h): what a request is
// for them (its mount, its login role, its client), and the leases and
// tokens counted against lease-count quotas until they end. The counts live
// in memory and are rebuilt from the stored leases and tokens at unseal
// (RecountLeaseQuotas): each keeps what its quota is found by (path, mount,
// login role) and whether a root caller made it.
#include "base/log.h"
#include "core/core_impl.h"

namespace sealbox::core {

std::string CoreImpl::LoginRoleOf(const BoundRoute& route, logical::Request& bound_req) {
  if (!route.entry->mount.auth || !bound_req.unauthenticated) return "";
  auto role = route.entry->backend->QuotaRole(bound_req);
  return role.ok() ? *role : "";
}

std::string CoreImpl::QuotaRoleOf(const BoundRoute& route, logical::Request& bound_req) {
  return quotas_->NeedsRole(route.entry->mount.RoutePath()) ? LoginRoleOf(route, bound_req) : "";
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
                                                                           const BoundRoute& route,
                                                                           const std::string& login_role) {
  // Root callers are not counted, as Vault.
  if (!quotas_->HasLeaseQuotas() || (req.token && req.token->is_root)) return std::shared_ptr<std::atomic<int64_t>>();
  return quotas_->AcquireLease(
      QuotaRequest{req.original_path, route.entry->mount.RoutePath(), login_role, req.remote_addr});
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

void CoreImpl::CountTokenLease(logical::Request& req, const BoundRoute& route, const std::string& login_role,
                               Result<logical::Response>& resp) {
  if (!resp.ok() || !resp->auth || resp->replayed || resp->auth->token_type != "service") return;
  if (resp->auth->client_token.empty()) return;
  auto counter = AcquireLeaseQuota(req, route, login_role);
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

Status CoreImpl::RecountLeaseQuotas() {
  // Held throughout: a lease ending meanwhile waits, then finds its new counter.
  std::lock_guard l(counted_mu_);
  counted_.clear();
  quotas_->ResetLeaseCounts();
  if (!quotas_->HasLeaseQuotas()) return Status::Ok();
  size_t leases = 0, tokens = 0;
  SB_RETURN_IF_ERROR(expiration_->ForEach([&](const LeaseEntry& e) {
    if (e.quota_exempt) return;
    auto counter = quotas_->CountExisting(QuotaRequest{e.path, e.mount, "", ""});
    if (!counter) return;
    counted_["lease:" + e.lease_id] = std::move(counter);
    ++leases;
  }));
  SB_RETURN_IF_ERROR(tokens_->ForEachService([&](const auth::TokenEntry& t) {
    if (t.quota_exempt || t.IsRoot()) return;
    const BoundRoute route = router_.Route(t.path);
    const std::string mount = route ? route.entry->mount.RoutePath() : "";
    auto counter = quotas_->CountExisting(QuotaRequest{t.path, mount, t.login_role, ""});
    if (!counter) return;
    counted_["token:" + t.hash] = std::move(counter);
    ++tokens;
  }));
  log::Info("core: lease-count quotas recounted: " + std::to_string(leases) + " leases, " + std::to_string(tokens) +
            " tokens");
  return Status::Ok();
}

}  // namespace sealbox::core
