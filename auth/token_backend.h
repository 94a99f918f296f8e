// TokenBackend: the token auth method mounted at auth/token/ (contract §4):
// create (plain, orphan, against a role), lookup, renew and revoke (by token,
// self or accessor), revoke-orphan, LIST accessors, roles CRUD and tidy, over
// the TokenStore. The parent/child rules are enforced at creation: a non-root
// parent grants only a subset of its policies, only root creates root
// (auth/token_policies.h), and a child never outlives its parent's current
// expiry.
//
// Files: token_backend.cc (routes, lookup, renew, revoke, tidy),
// token_create.cc (create, as its steps), token_roles.cc (roles),
// token_policies.cc (policy resolution), token_ttl.cc (TTL arithmetic).
//
// Thread-safety: handlers run concurrently; state is in TokenStore and
// PolicyStore, both thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/policy_store.h"
#include "auth/token_policies.h"
#include "auth/token_store.h"
#include "auth/token_ttl.h"
#include "base/clock.h"
#include "logical/routed_backend.h"

namespace sealbox::auth {

class TokenBackend final : public logical::RoutedBackend {
 public:
  TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock, const logical::MountView* mount);

  // The lookup `data` object of the contract (§4.3) for an entry. `id` is the
  // plaintext token when the caller presented it, "" for lookup-accessor.
  Json LookupData(const TokenEntry& e, const std::string& id) const;

  // Asked before a token made by an auth method is renewed: the method
  // re-checks what the login checked (role still there, the identity still
  // bound to it). An error refuses the renewal; an Auth carries the method's
  // ttl, max_ttl and period for it (nullopt: the token's own apply).
  using RenewCheck = std::function<Result<std::optional<logical::Auth>>(const TokenEntry&)>;
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

  static const std::vector<logical::FieldSpec>& CreateFields();
  static const std::vector<logical::FieldSpec>& RoleFields();
  // Vault's framework.GenericNameRegex: \w(([\w-.]+)?\w)?
  static bool ValidRoleName(std::string_view name);
  // The mount's default and max lease TTLs, or the system's without a mount.
  TtlDefaults SystemTtls() const;

  Result<Resp> Create(Req& req, Fd& fd, bool orphan_path, const TokenRole* role);
  Result<Resp> CreateAgainstRole(Req& req, Fd& fd);
  // Create's last step: the auth block for the stored `te`, and its warnings.
  Result<Resp> CreatedResponse(const TokenEntry& te, const std::string& token, std::vector<std::string> warnings);
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
