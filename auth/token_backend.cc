#include "auth/token_backend.h"

namespace sealbox::auth {

using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

TokenBackend::TokenBackend(TokenStore* tokens, PolicyStore* policies, const Clock* clock,
                           const logical::MountView* mount)
    : tokens_(tokens), policies_(policies), clock_(clock), mount_(mount) {
  auto lookup_self = [this](Request& r, FieldData& f) { return LookupSelf(r, f); };
  SetRoutes({
      {.pattern = "lookup-self",
       .fields = {{"token", logical::FieldType::kString}},
       .ops = {{Operation::kRead, lookup_self}, {Operation::kUpdate, lookup_self}}},
  });
  SetSpecialPaths({.root = {"revoke-orphan/*", "accessors/"}, .unauthenticated = {}});
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
    d["ttl"] = std::max<int64_t>(0, (e.expire_time_nanos - now) / 1'000'000'000);
  }
  if (e.issue_time_nanos) {
    // Only tokens with a lease carry issue_time and renewable (root has neither).
    d["issue_time"] = FormatRfc3339Nano(e.issue_time_nanos);
    d["renewable"] = e.renewable;
  }
  if (e.last_renewal_nanos) {
    d["last_renewal_time"] = e.last_renewal_nanos / 1'000'000'000;
    d["last_renewal"] = FormatRfc3339Nano(e.last_renewal_nanos);
  }
  if (e.period) d["period"] = e.period;
  if (!e.role.empty()) d["role"] = e.role;
  if (!e.bound_cidrs.empty()) d["bound_cidrs"] = e.bound_cidrs;
  return d;
}

Result<Response> TokenBackend::LookupSelf(Request& req, FieldData&) {
  SB_ASSIGN_OR_RETURN(auto e, tokens_->Lookup(req.client_token));
  if (!e) return PermissionDenied();
  return Response::WithData(LookupData(*e, req.client_token));
}

}  // namespace sealbox::auth
