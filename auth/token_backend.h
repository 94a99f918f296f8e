// TokenBackend: the token auth method mounted at auth/token/ (contract §4):
// create (plain, orphan, against a role), lookup, renew and revoke (by token,
// self or accessor), revoke-orphan, LIST accessors, roles CRUD and tidy, over
// the TokenStore. Policy names are sanitised here (trim, lowercase, dedupe,
// sort; "root" swallows the rest) and the parent/child rules enforced: a
// non-root parent grants only a subset of its policies, only root creates
// root, and a child never outlives its parent's current expiry.
//
// Thread-safety: handlers run concurrently; state is in TokenStore and
// PolicyStore, both thread-safe.
#pragma once

#include <functional>

#include <optional>
#include <string>
#include <vector>

#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "base/clock.h"
#include "logical/routed_backend.h"

namespace sealbox::auth {

// Vault's policyutil.SanitizePolicies: normalised names (NormalizePolicyName),
// empty ones dropped, "default" added when asked, sorted and unique; a set
// containing "root" becomes just {"root"}.
std::vector<std::string> SanitizePolicies(const std::vector<std::string>& in, bool add_default);

// Vault's framework.CalculateTTL, in seconds. `start_nanos` is the lease's
// issue time; `warnings` receives Vault's capping warnings. Errors with
// "past the max TTL, cannot renew" when the max is already behind us.
Result<int64_t> CalculateTtl(int64_t sys_default, int64_t sys_max, int64_t increment, int64_t backend_ttl,
                             int64_t period, int64_t backend_max, int64_t explicit_max, int64_t start_nanos,
                             int64_t now_nanos, std::vector<std::string>* warnings);

class TokenBackend final : public logical::RoutedBackend {
 public:
  TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock, const logical::MountView* mount);

  // The lookup `data` object of the contract (§4.3) for an entry. `id` is the
  // plaintext token when the caller presented it, "" for lookup-accessor.
  Json LookupData(const TokenEntry& e, const std::string& id) const;

  // Asked before a token made by an auth method is renewed: the method
  // re-checks what the login checked (role still there, the identity still
  // bound to it). An error refuses the renewal.
  using RenewCheck = std::function<Status(const TokenEntry&)>;
  void SetRenewCheck(RenewCheck check) { renew_check_ = std::move(check); }
  bool IssuesTokens() const override { return true; }

 private:
  using Req = logical::Request;
  using Fd = logical::FieldData;
  using Resp = logical::Response;

  // The calling token, including one on its last use (pending revocation).
  Result<TokenEntry> Caller(const Req& req);
  // Root, or the sudo capability on the request path (Vault's SudoPrivilege).
  Result<bool> HasSudo(const Req& req, const TokenEntry& caller);

  Result<Resp> Create(Req& req, Fd& fd, bool orphan_path, const TokenRole* role);
  Result<Resp> CreateAgainstRole(Req& req, Fd& fd);
  Result<Resp> Lookup(Req& req, Fd& fd);
  Result<Resp> LookupSelf(Req& req, Fd& fd);
  Result<Resp> LookupAccessor(Req& req, Fd& fd);
  Result<Resp> Renew(Req& req, Fd& fd);
  Result<Resp> RenewSelf(Req& req, Fd& fd);
  Result<Resp> RenewAccessor(Req& req, Fd& fd);
  // Renews `te`; `client_token` is echoed in the auth block ("" by accessor).
  Result<Resp> RenewEntry(const TokenEntry& te, const std::string& client_token, Fd& fd);
  Result<Resp> Revoke(Req& req, Fd& fd);
  Result<Resp> RevokeSelf(Req& req, Fd& fd);
  Result<Resp> RevokeAccessor(Req& req, Fd& fd);
  Result<Resp> RevokeOrphan(Req& req, Fd& fd);
  Result<Resp> ListAccessors(Req& req, Fd& fd);
  Result<Resp> ListRoles(Req& req, Fd& fd);
  Result<Resp> ReadRole(Req& req, Fd& fd);
  Result<Resp> WriteRole(Req& req, Fd& fd);
  Result<Resp> DeleteRole(Req& req, Fd& fd);
  Result<bool> RoleExists(Req& req, Fd& fd);
  Result<Resp> Tidy(Req& req, Fd& fd);

  logical::Auth AuthFor(const TokenEntry& te, const std::string& client_token, int64_t ttl) const;

  TokenStore* tokens_;      // not owned
  PolicyStore* policies_;   // not owned
  const Clock* clock_;      // not owned
  const logical::MountView* mount_;  // not owned; may be null (system defaults)
  RenewCheck renew_check_;
};

}  // namespace sealbox::auth
