#include "auth/token_backend.h"

#include <algorithm>

#include "base/log.h"
#include "base/saturating.h"

namespace sealbox::auth {

using logical::FieldSpec;
using logical::FieldType;
using logical::Operation;

namespace {

constexpr int64_t kSystemDefaultTtl = 768 * 3600;  // when no MountView is given
// Vault's word, not "Sealbox's": clients and runbooks match this text.
constexpr const char* kTidyStartedWarning =
    "Tidy operation successfully started. Any information from the operation will be printed to Vault's server "
    "logs.";

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Json KeysData(std::vector<std::string> keys) { return Json{{"keys", std::move(keys)}}; }

}  // namespace

// ---- TokenBackend ----

TokenBackend::TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock,
                           const logical::MountView* mount)
    : tokens_(tokens), policies_(policies), clock_(clock), mount_(mount) {
  using M = Result<Resp> (TokenBackend::*)(Req&, Fd&);
  auto h = [this](M m) { return [this, m](Req& r, Fd& f) { return (this->*m)(r, f); }; };
  auto create = [this](bool orphan) {
    return [this, orphan](Req& r, Fd& f) { return Create(r, f, orphan, nullptr); };
  };
  const std::vector<FieldSpec> token_field = {{"token", FieldType::kString}};
  const std::vector<FieldSpec> renew_fields = {{"token", FieldType::kString}, {"increment", FieldType::kDuration, 0}};
  const std::vector<FieldSpec> accessor_field = {{"accessor", FieldType::kString}};
  // Lookups only read: a standby answers them (HA).
  const std::vector<Operation> kLookups = {Operation::kRead, Operation::kUpdate};
  const std::vector<FieldSpec> renew_accessor_fields = {{"accessor", FieldType::kString},
                                                        {"increment", FieldType::kDuration, 0}};

  SetRoutes({
      {.pattern = "create", .fields = CreateFields(), .ops = {{Operation::kUpdate, create(false)}}},
      {.pattern = "create-orphan", .fields = CreateFields(), .ops = {{Operation::kUpdate, create(true)}}},
      {.pattern = "create/{role_name}",
       .fields = CreateFields(),
       .ops = {{Operation::kUpdate, h(&TokenBackend::CreateAgainstRole)}}},
      {.pattern = "lookup-self",
       .fields = token_field,
       .ops = {{Operation::kRead, h(&TokenBackend::LookupSelf)}, {Operation::kUpdate, h(&TokenBackend::LookupSelf)}},
       .standby_ops = kLookups},
      {.pattern = "lookup-accessor",
       .fields = accessor_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::LookupAccessor)}},
       .standby_ops = kLookups},
      {.pattern = "lookup",
       .fields = token_field,
       .ops = {{Operation::kRead, h(&TokenBackend::Lookup)}, {Operation::kUpdate, h(&TokenBackend::Lookup)}},
       .standby_ops = kLookups},
      // Deprecated: the token in the path.
      {.pattern = "lookup/{token:+}",
       .fields = token_field,
       .ops = {{Operation::kRead, h(&TokenBackend::Lookup)}},
       .standby_ops = kLookups},
      {.pattern = "renew-self", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::RenewSelf)}}},
      {.pattern = "renew-accessor",
       .fields = renew_accessor_fields,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RenewAccessor)}}},
      {.pattern = "renew", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::Renew)}}},
      {.pattern = "renew/{token:+}", .fields = renew_fields, .ops = {{Operation::kUpdate, h(&TokenBackend::Renew)}}},
      {.pattern = "revoke-self", .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeSelf)}}},
      {.pattern = "revoke-accessor",
       .fields = accessor_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeAccessor)}}},
      {.pattern = "revoke-orphan", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeOrphan)}}},
      {.pattern = "revoke-orphan/{token:+}",
       .fields = token_field,
       .ops = {{Operation::kUpdate, h(&TokenBackend::RevokeOrphan)}}},
      {.pattern = "revoke", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::Revoke)}}},
      {.pattern = "revoke/{token:+}", .fields = token_field, .ops = {{Operation::kUpdate, h(&TokenBackend::Revoke)}}},
      {.pattern = "accessors/", .ops = {{Operation::kList, h(&TokenBackend::ListAccessors)}}},
      {.pattern = "roles/", .ops = {{Operation::kList, h(&TokenBackend::ListRoles)}}},
      {.pattern = "roles/{role_name}",
       .fields = RoleFields(),
       .ops = {{Operation::kRead, h(&TokenBackend::ReadRole)},
               {Operation::kCreate, h(&TokenBackend::WriteRole)},
               {Operation::kUpdate, h(&TokenBackend::WriteRole)},
               {Operation::kDelete, h(&TokenBackend::DeleteRole)}},
       .exists = [this](Req& r, Fd& f) { return RoleExists(r, f); }},
      {.pattern = "tidy", .ops = {{Operation::kUpdate, h(&TokenBackend::Tidy)}}},
  });
  // Lookups come from the local store (and the entry cache): no thread hop.
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
  // revoke-orphan with the token in the body checks sudo itself (400, as Vault).
  SetSpecialPaths({.root = {"revoke-orphan/*", "accessors*"}, .unauthenticated = {}});
}

TtlDefaults TokenBackend::SystemTtls() const {
  if (!mount_) return {kSystemDefaultTtl, kSystemDefaultTtl};
  return {mount_->DefaultLeaseTtl(), mount_->MaxLeaseTtl()};
}

Result<TokenEntry> TokenBackend::Caller(const Req& req) {
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(req.client_token, /*include_pending=*/true));
  if (!e) return PermissionDenied();
  return std::move(*e);
}

Result<bool> TokenBackend::HasSudo(const Req& req, const TokenEntry& caller) {
  if (caller.IsRoot()) return true;
  const IdentityContext identity = caller.Identity();
  SB_ASSIGN_OR_RETURN(auto acl, policies_->AclFor(caller.policies, &identity));
  const std::string path = req.original_path.empty() ? req.mount_point + req.path : req.original_path;
  auto caps = acl->Capabilities(path);
  return Contains(caps, "sudo") || Contains(caps, "root");
}

logical::Auth TokenBackend::AuthFor(const TokenEntry& te, const std::string& client_token, int64_t ttl) const {
  logical::Auth a;
  a.client_token = client_token;
  a.accessor = te.accessor;
  a.policies = te.policies;
  a.token_policies = te.policies;
  a.metadata = te.meta;
  a.ttl = ttl;
  a.renewable = te.renewable;
  a.display_name = te.display_name;
  a.num_uses = te.num_uses;
  a.entity_id = te.entity_id;
  a.token_type = te.type;
  a.orphan = te.orphan;
  a.period = te.period;
  a.explicit_max_ttl = te.explicit_max_ttl;
  a.no_default_policy = te.no_default_policy;
  a.bound_cidrs = te.bound_cidrs;
  return a;
}

Json TokenBackend::LookupData(const TokenEntry& e, const std::string& id) const {
  int64_t now = clock_->NowNanos();
  Json d = {{"accessor", e.accessor},
            {"creation_time", e.creation_time},
            {"creation_ttl", e.creation_ttl},
            {"display_name", e.display_name},
            {"entity_id", e.entity_id},
            {"expire_time", nullptr},
            {"explicit_max_ttl", e.explicit_max_ttl},
            {"id", id},
            {"meta", e.meta},
            {"num_uses", e.num_uses},
            {"orphan", e.orphan},
            {"path", e.path},
            {"policies", e.policies},
            {"ttl", 0},
            {"type", e.type}};
  if (e.expire_time_nanos) {
    d["expire_time"] = FormatRfc3339Nano(e.expire_time_nanos);
    d["ttl"] = std::max<int64_t>(0, (e.expire_time_nanos - now) / kNanosPerSecond);
  }
  if (e.issue_time_nanos) {
    // Only tokens with a lease carry issue_time and renewable (the root
    // token of init has neither); a lease that never expires is not renewable.
    d["issue_time"] = FormatRfc3339Nano(e.issue_time_nanos);
    d["renewable"] = e.renewable && !e.IsBatch() && e.expire_time_nanos != 0;
  }
  if (e.last_renewal_nanos) {
    d["last_renewal_time"] = e.last_renewal_nanos / kNanosPerSecond;
    d["last_renewal"] = FormatRfc3339Nano(e.last_renewal_nanos);
  }
  if (e.period) d["period"] = e.period;
  if (!e.role.empty()) d["role"] = e.role;
  if (!e.bound_cidrs.empty()) d["bound_cidrs"] = e.bound_cidrs;
  return d;
}

// ---- lookup ----

Result<logical::Response> TokenBackend::Lookup(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) id = req.client_token;
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return PermissionDenied("bad token");
  return Resp::WithData(LookupData(*e, id));
}

Result<logical::Response> TokenBackend::LookupSelf(Req& req, Fd&) {
  // The pipeline already counted this use; on the last one the entry is
  // pending revocation and still answers for this request.
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  return Resp::WithData(LookupData(e, req.client_token));
}

Result<logical::Response> TokenBackend::LookupAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor, /*include_pending=*/true));
  if (!e) return InvalidArgument("invalid accessor");
  return Resp::WithData(LookupData(*e, ""));
}

// ---- renew ----

Result<logical::Response> TokenBackend::RenewEntry(const TokenEntry& te, const std::string& client_token, Fd& fd) {
  if (te.IsBatch()) return InvalidArgument("batch tokens cannot be renewed");
  // Tokens without a lease (the root token of init) have nothing to renew:
  // Vault finds no lease entry. One whose lease never expires (created
  // without a TTL) has a lease Vault will not renew.
  if (te.issue_time_nanos == 0) return InvalidArgument("invalid lease ID");
  if (te.expire_time_nanos == 0 || !te.renewable) return InvalidArgument("lease is not renewable");
  std::optional<logical::Auth> method;
  if (renew_check_) {
    SB_ASSIGN_OR_RETURN(method, renew_check_(te));
  }
  SB_ASSIGN_OR_RETURN(int64_t increment, fd.GetDuration("increment"));
  if (increment < 0) increment = 0;
  int64_t period = te.period, explicit_max = te.explicit_max_ttl;
  // A login token's renewal follows its method's role as it is now (Vault:
  // the method answers the renewal with the role's TTLs).
  int64_t backend_ttl = te.lease_ttl, backend_max = 0;
  if (method) {
    backend_ttl = method->ttl;
    backend_max = method->max_ttl;
    period = method->period;
  }
  if (!te.role.empty()) {
    SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(te.role));
    if (!role) return InvalidArgument("original token role \"" + te.role + "\" could not be found, not renewing");
    period = role->token_period;
    explicit_max = role->token_explicit_max_ttl;
  }
  const int64_t now = clock_->NowNanos();
  const TtlDefaults sys = SystemTtls();
  Resp resp;
  SB_ASSIGN_OR_RETURN(int64_t ttl, CalculateTtl(sys.default_ttl, sys.max_ttl, increment, backend_ttl, period,
                                                backend_max, explicit_max, te.issue_time_nanos, now, &resp.warnings));
  int64_t expire = AddSeconds(now, ttl);
  if (!te.parent_hash.empty()) {  // capped at the parent's expiry, as at creation
    SB_ASSIGN_OR_RETURN(auto parent, tokens_->LookupByHash(te.parent_hash, /*include_pending=*/true));
    if (parent && parent->expire_time_nanos != 0 && expire > parent->expire_time_nanos) {
      expire = parent->expire_time_nanos;
      ttl = std::max<int64_t>(0, (expire - now) / kNanosPerSecond);
    }
  }
  SB_ASSIGN_OR_RETURN(auto updated, tokens_->Update(te.hash, [&](TokenEntry& e) {
                        e.expire_time_nanos = expire;
                        e.lease_ttl = ttl;
                        e.last_renewal_nanos = now;
                        return Status::Ok();
                      }));
  if (!updated) return InvalidArgument("token not found");
  resp.auth = AuthFor(*updated, client_token, ttl);
  return resp;
}

Result<logical::Response> TokenBackend::Renew(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id));
  if (!e) return InvalidArgument("token not found");
  return RenewEntry(*e, id, fd);
}

Result<logical::Response> TokenBackend::RenewSelf(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  return RenewEntry(e, req.client_token, fd);
}

Result<logical::Response> TokenBackend::RenewAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor));
  if (!e) return InvalidArgument("invalid accessor");
  return RenewEntry(*e, "", fd);
}

// ---- revoke ----

Result<logical::Response> TokenBackend::Revoke(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return Resp::Empty();  // idempotent: 204 for unknown tokens
  if (e->IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeSelf(Req& req, Fd&) {
  SB_ASSIGN_OR_RETURN(TokenEntry e, Caller(req));
  if (e.IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e.hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeAccessor(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
  if (accessor.empty()) return InvalidArgument("missing accessor");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->LookupByAccessor(accessor, /*include_pending=*/true));
  if (!e) {
    Resp r;
    r.warnings.push_back("No token found with this accessor");
    return r;
  }
  SB_RETURN_IF_ERROR(tokens_->RevokeTree(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::RevokeOrphan(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("token"));
  if (id.empty()) return InvalidArgument("missing token ID");
  SB_ASSIGN_OR_RETURN(TokenEntry caller, Caller(req));
  SB_ASSIGN_OR_RETURN(bool is_sudo, HasSudo(req, caller));
  if (!is_sudo) return InvalidArgument("root or sudo privileges required to revoke and orphan");
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(id, /*include_pending=*/true));
  if (!e) return InvalidArgument("token to revoke not found");
  if (e->IsBatch()) return InvalidArgument("batch tokens cannot be revoked");
  SB_RETURN_IF_ERROR(tokens_->RevokeOrphan(e->hash));
  return Resp::Empty();
}

Result<logical::Response> TokenBackend::ListAccessors(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(auto keys, tokens_->ListAccessors());
  return Resp::WithData(KeysData(std::move(keys)));
}

// Vault tidies in the background and answers 202 at once; Sealbox's tidy is
// quick enough to finish first, and its findings go to the log as Vault's do.
Result<logical::Response> TokenBackend::Tidy(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(TidyStats st, tokens_->Tidy());
  log::Info("token tidy: revoked " + std::to_string(st.expired_revoked) + " expired tokens, removed " +
            std::to_string(st.dangling_accessors) + " dangling accessors and " +
            std::to_string(st.dangling_parent_entries) + " dangling parent index entries");
  Resp r;
  r.http_status = 202;
  r.warnings.push_back(kTidyStartedWarning);
  return r;
}

}  // namespace sealbox::auth
