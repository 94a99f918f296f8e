// The request pipeline: a routed request, bound to its mount once, runs
// through its steps in order:
//
//   Route        match the decoded path to a mount (on the I/O thread; the
//                route's RunMode picks the thread the rest runs on)
//   Authenticate the calling token
//   Authorize    create-or-update, the ACL, a use of a limited token
//   audit        the request entry; no device could record it: 500, stop
//   dispatch     the backend, with the request bound to the mount
//   Complete     a login's token, a dynamic secret's lease
//   wrap         X-Vault-Wrap-TTL: the response waits behind a wrapping token
//   audit        the response entry; no device could record it: withheld
//
// A request refused before the backend is audited too (request and response
// entries carrying the error). Lease revocation and renewal, and the
// re-check before an auth method's token is renewed, reach the backend
// through the same bound route.
#include <algorithm>

#include "auth/cidr.h"
#include "base/log.h"
#include "core/core_impl.h"

namespace sealbox::core {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

// Vault's core collects the errors of a non-login request in a
// go-multierror, so its clients read "1 error occurred:\n\t* <error>\n\n";
// a login's errors, and the error responses a backend builds itself, stay
// bare. These are the errors Vault raises as Go errors rather than as
// error responses.
Status AsVaultMultierror(Status s) {
  static const char* const kWrapped[] = {"permission denied",  "unsupported path", "unsupported operation",
                                         "missing accessor",   "invalid accessor", "invalid token",
                                         "no token found"};
  for (const char* m : kWrapped) {
    if (s.message() == m) return Status(s.code(), "1 error occurred:\n\t* " + s.message() + "\n\n");
  }
  return s;
}

logical::TokenInfo TokenInfoOf(const auth::TokenEntry& token, int64_t now_nanos) {
  logical::TokenInfo ti;
  ti.accessor = token.accessor;
  ti.policies = token.policies;
  ti.display_name = token.display_name;
  ti.metadata = token.meta;
  ti.entity_id = token.entity_id;
  ti.token_type = token.type;
  ti.issue_time_nanos = token.issue_time_nanos;
  // Batch tokens have no storage identity, hence no cubbyhole.
  ti.storage_id = token.IsBatch() ? "" : token.hash;
  ti.orphan = token.orphan;
  ti.is_root = token.IsRoot();
  if (token.expire_time_nanos) ti.ttl = (token.expire_time_nanos - now_nanos) / kNanos;
  return ti;
}

// What Vault wraps: a response with something in it, not an error, an
// empty answer or one already wrapped.
bool Wrappable(const logical::Response& r) {
  if (r.wrap_info || (r.http_status != 0 && r.http_status != 200)) return false;
  return r.data || r.secret || r.auth;
}

audit::MountInfo AuditMountInfo(const BoundRoute& route) {
  audit::MountInfo info;
  if (route) {
    info.non_hmac_request_keys = route.entry->mount.config.audit_non_hmac_request_keys;
    info.non_hmac_response_keys = route.entry->mount.config.audit_non_hmac_response_keys;
  }
  return info;
}

}  // namespace

// ---- Route ----

void CoreImpl::Route(RoutedRequest& r) {
  if (sealed_.load()) {  // answered 503 at once
    r.route.reset();
    r.run_mode = logical::RunMode::kNonBlocking;
    return;
  }
  auto bound = std::make_shared<BoundRoute>(router_.Route(r.request.path));
  r.run_mode = RunModeOf(*bound, r.request);
  r.route = std::move(bound);
}

logical::RunMode CoreImpl::RunModeOf(const BoundRoute& route, const logical::Request& req) {
  if (!route) return logical::RunMode::kNonBlocking;  // refused after a token lookup
  logical::RunMode mode = route.entry->backend->RunModeFor(route.relative_path, req.op);
  // An audit device that may block keeps every request off the I/O threads.
  if (mode == logical::RunMode::kNonBlocking && audit_.AnyBlocking()) return logical::RunMode::kComputes;
  return mode;
}

Task<Result<logical::Response>> CoreImpl::HandleRequestAsync(RoutedRequest& r, Resumer* resumer) {
  if (standby_.load() && !sealed_.load()) {
    // Before the state lock: catching up may reload a table, which takes it.
    if (!r.standby_read) co_return NotActive();
    if (Status caught = co_await CatchUpForStandbyRead(resumer); !caught.ok()) co_return caught;
  }
  Result<logical::Response> result = co_await RunRequest(r, resumer);
  if (seal_requested_.exchange(false)) Seal().IgnoreError();
  if (restore_staged_.load(std::memory_order_acquire)) {
    if (Status restored = ApplyStagedRestore(r.request.id, result.ok()); !restored.ok()) result = restored;
  }
  co_return result;
}

Task<Status> CoreImpl::AuditRateLimited(RoutedRequest& r, std::string error, Resumer* resumer) {
  std::shared_lock l(state_mu_);
  if (sealed_.load() || !quotas_->config().audit_logging) co_return Status::Ok();
  logical::Request& req = r.request;
  req.original_path = req.path;
  req.data_elided = true;  // refused before authentication: size and hash only
  const BoundRoute route = r.route && r.route->generation == router_.generation() ? *r.route : router_.Route(req.path);
  // One request entry with the refusal, as Vault's (no response entry).
  Status logged = co_await audit_.Log(audit::EntryKind::kRequest, req, AuditMountInfo(route), nullptr, error, resumer);
  if (!logged.ok()) metrics_.audit_request_failure.Add();
  co_return logged;
}

// ---- The steps ----

Result<std::optional<auth::TokenEntry>> CoreImpl::Authenticate(logical::Request& req) {
  std::optional<auth::TokenEntry> token;
  if (!req.client_token.empty()) {
    SB_ASSIGN_OR_RETURN(token, tokens_->Lookup(req.client_token));
  }
  if (token) req.token = TokenInfoOf(*token, options_.clock->NowNanos());
  return token;
}

Result<bool> CoreImpl::Authorize(logical::Request& req, const BoundRoute& route, const auth::TokenEntry* token,
                                 bool* revoke_after) {
  logical::Backend& backend = *route.entry->backend;
  if (req.op == logical::Operation::kUpdate) {
    SB_ASSIGN_OR_RETURN(auto exists, backend.ExistenceCheck(req));
    if (exists && !*exists) req.op = logical::Operation::kCreate;
  }
  if (req.unauthenticated) return true;
  // A token bound to client addresses works only from them (Vault's CheckToken).
  if (!token->bound_cidrs.empty() && !auth::IpInCidrs(req.remote_addr, token->bound_cidrs)) return false;
  SB_ASSIGN_OR_RETURN(auto acl, AclForToken(*token));
  bool sudo = logical::MatchesSpecial(backend.special_paths().root, route.relative_path);
  if (!acl->AllowOperation(req.original_path, req.op, req.data, sudo, req.wrap_ttl).allowed) return false;
  if (token->num_uses > 0) {
    // Count the use before the request runs (under the token's lock, so
    // concurrent requests cannot overspend it). On the last use the entry
    // is marked pending: this request still sees it, no other does, and
    // it is revoked when this request ends.
    SB_ASSIGN_OR_RETURN(auto used, tokens_->UseToken(token->hash));
    if (!used) return false;
    *revoke_after = used->num_uses == auth::kTokenRevocationPending;
  }
  return true;
}

void CoreImpl::Complete(logical::Request& req, const BoundRoute& route, Result<logical::Response>& resp) {
  if (!resp.ok() || resp->replayed) return;
  const MountEntry& mount = route.entry->mount;
  // An auth block is a login to complete, unless the token store issued it.
  if (resp->auth && !route.entry->backend->IssuesTokens()) {
    if (!mount.auth || !req.unauthenticated) {
      log::Error("core: backend returned an auth block on a non-login path");
      resp = Internal();
      return;
    }
    // Kept on the token only while lease-count quotas exist: asking costs the auth method a lookup.
    const std::string role = quotas_->HasLeaseQuotas() ? LoginRoleOf(route, req) : "";
    Status s = CompleteLogin(req, *route.entry, role, *resp);
    if (!s.ok()) resp = s;  // a failed login never carries a token
    CountTokenLease(req, route, role, resp);
    return;
  }
  if (resp->auth) {  // the token store's own tokens
    CountTokenLease(req, route, "", resp);
    if (!resp.ok()) return;
  }
  if (resp->secret && mount.auth) {
    log::Error("core: auth backend returned a secret");
    resp = Internal();
    return;
  }
  // A dynamic secret (one with internal data to revoke it by) gets a lease.
  if (resp->secret && !resp->secret->internal_data.is_null()) {
    auto counter = AcquireLeaseQuota(req, route, "");
    const bool root_caller = req.token && req.token->is_root;
    Result<std::string> id = counter.ok() ? expiration_->Register(req.original_path, mount.RoutePath(),
                                                                 req.token ? req.token->storage_id : "",
                                                                 *resp->secret, root_caller)
                                          : Result<std::string>(counter.status());
    if (id.ok()) {
      resp->secret->lease_id = *id;
      RememberCounted("lease:" + *id, std::move(*counter));
      return;
    }
    if (counter.ok()) QuotaManager::Release(*counter);
    // Never hand out a credential nobody will revoke.
    LeaseEntry unregistered;
    unregistered.path = req.original_path;
    unregistered.mount = mount.RoutePath();
    unregistered.internal = resp->secret->internal_data;
    RouteLeaseOp(unregistered, logical::Operation::kRevoke, 0).IgnoreError();
    if (!counter.ok()) {
      resp = counter.status();
      return;
    }
    log::Error("core: cannot register a lease: " + id.status().message());
    resp = Internal();
  }
}

Task<Result<logical::Response>> CoreImpl::RunRequest(RoutedRequest& routed, Resumer* resumer) {
  std::shared_lock l(state_mu_);
  if (sealed_.load()) co_return ::sealbox::Sealed();
  logical::Request& req = routed.request;
  req.original_path = req.path;
  // Bound on the I/O thread; bound again only if the mount table changed since.
  const BoundRoute route = routed.route && routed.route->generation == router_.generation()
                               ? *routed.route
                               : router_.Route(req.path);
  // A standby's tables changed since the route was bound: still a read it serves?
  if (standby_.load() && (!route || !route.entry->backend->ServesOnStandby(route.relative_path, req.op)))
    co_return NotActive();
  req.unauthenticated =
      route && logical::MatchesSpecial(route.entry->backend->special_paths().unauthenticated, route.relative_path);
  const audit::MountInfo audit_mount = AuditMountInfo(route);
  const bool login = req.unauthenticated && route.entry->mount.auth;
  metrics::ScopedTimer request_timer(login ? &metrics_.handle_login_request : &metrics_.handle_request);
  auto refuse = [&](Status s) -> Task<Result<logical::Response>> {
    req.data_elided = !req.token;  // refused before authentication: size and hash only
    std::string err = s.code() == StatusCode::kPermissionDenied ? "permission denied" : s.message();
    Status a = co_await audit_.Log(audit::EntryKind::kRefusal, req, audit_mount, nullptr, err, resumer);
    if (!a.ok()) {
      metrics_.audit_request_failure.Add();
      co_return Internal();
    }
    co_return AsVaultMultierror(std::move(s));
  };

  SB_CO_ASSIGN_OR_RETURN(auto token, Authenticate(req));
  if (!req.unauthenticated && !token) co_return co_await refuse(InvalidToken());
  if (!route) {
    if (!req.token->is_root) co_return co_await refuse(PermissionDenied());
    co_return co_await refuse(NotFound("no handler for route \"" + req.path + "\". route entry not found."));
  }
  BoundRequestScope bound(route, req);  // until the request ends
  bool revoke_after = false;
  SB_CO_ASSIGN_OR_RETURN(bool allowed, Authorize(req, route, token ? &*token : nullptr, &revoke_after));
  if (!allowed) co_return co_await refuse(PermissionDenied());
  // Fail closed: a request no audit device could record never runs.
  if (!(co_await audit_.Log(audit::EntryKind::kRequest, req, audit_mount, nullptr, "", resumer)).ok()) {
    metrics_.audit_request_failure.Add();
    co_return Internal();
  }

  auto resp = [&] {
    metrics::ScopedTimer route_timer(CoreMetrics::RouteTimer(*route.entry, req.op));
    return route.entry->backend->HandleRequest(req);
  }();
  if (revoke_after) {
    Status s = tokens_->RevokeTree(token->hash);
    if (!s.ok()) log::Error("core: cannot revoke a used-up token: " + s.ToString());
  }
  Complete(req, route, resp);
  if (resp.ok() && req.wrap_ttl > 0 && req.op != logical::Operation::kHelp && Wrappable(*resp)) {
    Status s = WrapResponse(req, *resp);
    if (!s.ok()) resp = s;
  }
  if (!resp.ok() && !req.unauthenticated) resp = AsVaultMultierror(resp.status());
  std::string err;
  if (!resp.ok()) {
    const Status& st = resp.status();
    bool internal = st.code() == StatusCode::kInternal || st.code() == StatusCode::kCorruption ||
                    st.code() == StatusCode::kIOError;
    err = internal ? "internal error" : st.message();
  }
  // The response is withheld unless some device recorded it.
  const logical::Response* logged = resp.ok() ? &*resp : nullptr;
  if (!(co_await audit_.Log(audit::EntryKind::kResponse, req, audit_mount, logged, err, resumer)).ok()) {
    metrics_.audit_response_failure.Add();
    co_return Internal();
  }
  co_return resp;
}

// ---- Lease operations and auth renewal: the same bound route ----

Status CoreImpl::RouteLeaseOp(const LeaseEntry& e, logical::Operation op, int64_t ttl) {
  BoundRoute route = router_.RouteTo(e.mount, e.path);
  if (!route) return InvalidArgument("the lease's mount no longer exists");
  logical::Request r;
  r.id = "lease-" + std::string(logical::OperationName(op));
  r.op = op;
  r.original_path = e.path;
  route.Apply(r);
  r.data = e.internal.is_object() ? e.internal : Json::object();
  if (op == logical::Operation::kRenew) r.data["ttl"] = ttl;
  auto resp = route.entry->backend->HandleRequest(r);
  return resp.ok() ? Status::Ok() : resp.status();
}

Result<std::optional<logical::Auth>> CoreImpl::CheckAuthRenewal(const auth::TokenEntry& te) {
  using Limits = std::optional<logical::Auth>;
  // Only tokens an auth method issued at login; token-store tokens have no method to ask.
  if (te.path.rfind("auth/", 0) != 0 || te.path.rfind("auth/token/", 0) == 0) return Limits();
  BoundRoute route = router_.Route(te.path);
  if (!route) return InvalidArgument("the auth method that issued this token no longer exists, not renewing");
  logical::Request r;
  r.id = "auth-renew";
  r.op = logical::Operation::kRenew;
  r.original_path = te.path;
  route.Apply(r);
  r.data = {{"metadata", te.meta.is_object() ? te.meta : Json::object()}, {"policies", te.policies}};
  auto resp = route.entry->backend->HandleRequest(r);
  // A method without a renew handler has nothing to re-check.
  if (!resp.ok() && resp.status().code() == StatusCode::kUnsupportedOperation) return Limits();
  if (!resp.ok()) return resp.status();
  return resp->auth ? Limits(resp->auth) : Limits();
}

}  // namespace sealbox::core
