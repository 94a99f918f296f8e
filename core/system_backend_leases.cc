// sys/leases/* and the legacy sys/renew, sys/revoke, sys/revoke-prefix and
// sys/revoke-force aliases.
#include "base/clock.h"
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

// Renew and revoke by lease id need more than the sys/leases endpoint: the
// caller must own the lease, be root, or hold update on the lease's own path
// (CVE-2026-45808: no cross-tenant revoke with a leaked lease id).
Status CheckLeaseAccess(CoreImpl* core, const Request& req, const LeaseEntry& e) {
  if (!req.token) return PermissionDenied();
  if (req.token->is_root) return Status::Ok();
  if (!e.token_hash.empty() && req.token->storage_id == e.token_hash) return Status::Ok();
  SB_ASSIGN_OR_RETURN(auto entry, core->tokens().Lookup(req.client_token));
  if (!entry) return PermissionDenied();
  SB_ASSIGN_OR_RETURN(auto acl, core->AclForToken(*entry));
  auto d = acl->AllowOperation(e.lease_id, Operation::kUpdate, Json::object(), false);
  return d.allowed ? Status::Ok() : PermissionDenied();
}

std::string LeaseIdFrom(FieldData& f) {
  const Json& url_id = f.Get("url_lease_id");
  if (url_id.is_string() && !url_id.get<std::string>().empty()) return url_id.get<std::string>();
  const Json& body_id = f.Get("lease_id");
  return body_id.is_string() ? body_id.get<std::string>() : "";
}

}  // namespace

std::vector<PathSpec> SystemBackend::LeaseRoutes() {
  std::vector<PathSpec> r;
  auto lookup = [this](Request& req, FieldData& f) -> Result<Response> {
    std::string id = LeaseIdFrom(f);
    if (id.empty()) return InvalidArgument("lease_id must be specified");
    SB_ASSIGN_OR_RETURN(auto e, core_->expiration().Lookup(id));
    if (!e) return InvalidArgument("invalid lease");
    SB_RETURN_IF_ERROR(CheckLeaseAccess(core_, req, *e));
    int64_t now = core_->clock().NowNanos();
    Json d = {{"id", e->lease_id},
              {"issue_time", FormatRfc3339Nano(e->issue_ns)},
              {"expire_time", e->expire_ns ? Json(FormatRfc3339Nano(e->expire_ns)) : Json(nullptr)},
              {"last_renewal", e->last_renew_ns ? Json(FormatRfc3339Nano(e->last_renew_ns)) : Json(nullptr)},
              {"renewable", e->renewable && !e->irrevocable},
              {"ttl", std::max<int64_t>(0, (e->expire_ns - now) / 1'000'000'000)}};
    return Response::WithData(d);
  };
  auto renew = [this](Request& req, FieldData& f) -> Result<Response> {
    std::string id = LeaseIdFrom(f);
    if (id.empty()) return InvalidArgument("lease_id must be specified");
    if (id.rfind("auth/", 0) == 0) return InvalidArgument("tokens cannot be renewed through this endpoint");
    SB_ASSIGN_OR_RETURN(auto e, core_->expiration().Lookup(id));
    if (!e) return InvalidArgument("lease not found");
    SB_RETURN_IF_ERROR(CheckLeaseAccess(core_, req, *e));
    SB_ASSIGN_OR_RETURN(int64_t increment, f.GetDuration("increment"));
    Response resp;
    SB_ASSIGN_OR_RETURN(int64_t ttl, core_->expiration().Renew(id, increment, &resp.warnings));
    logical::Secret s;
    s.lease_id = id;
    s.renewable = true;
    s.ttl = ttl;
    resp.secret = s;
    return resp;
  };
  auto revoke = [this](Request& req, FieldData& f) -> Result<Response> {
    std::string id = LeaseIdFrom(f);
    if (id.empty()) return InvalidArgument("lease_id must be specified");
    SB_ASSIGN_OR_RETURN(auto e, core_->expiration().Lookup(id));
    if (!e) return Response::Empty();
    SB_RETURN_IF_ERROR(CheckLeaseAccess(core_, req, *e));
    SB_ASSIGN_OR_RETURN(bool sync, f.GetBool("sync"));
    if (!sync) {
      // Asynchronous: due now, the scheduler revokes it (with retries).
      core_->expiration().Revoke(id).IgnoreError();
      Response resp;
      resp.http_status = 202;
      return resp;
    }
    SB_RETURN_IF_ERROR(core_->expiration().Revoke(id));
    return Response::Empty();
  };
  auto revoke_prefix = [this](bool force) {
    return [this, force](Request&, FieldData& f) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(std::string prefix, f.GetString("prefix"));
      SB_RETURN_IF_ERROR(core_->expiration().RevokePrefix(prefix, force));
      return Response::Empty();
    };
  };
  auto list = [this](Request&, FieldData& f) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string prefix, f.GetString("prefix"));
    SB_ASSIGN_OR_RETURN(auto keys, core_->expiration().List(prefix));
    return Response::WithData(Json{{"keys", keys}});
  };
  auto irrevocable = [this](bool count_only) {
    return [this, count_only](Request&, FieldData& f) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(std::string type, f.GetString("type"));
      if (type != "irrevocable") return InvalidArgument("type must be \"irrevocable\"");
      SB_ASSIGN_OR_RETURN(int64_t limit, f.GetInt("limit"));
      SB_ASSIGN_OR_RETURN(auto leases, core_->expiration().Irrevocable(limit > 0 ? limit : 10000));
      if (count_only) return Response::WithData(Json{{"lease_count", leases.size()}});
      Json arr = Json::array();
      for (const auto& e : leases)
        arr.push_back(Json{{"lease_id", e.lease_id}, {"mount_id", e.mount}, {"error", e.last_error},
                           {"expire_time", FormatRfc3339Nano(e.expire_ns)}});
      return Response::WithData(Json{{"lease_count", leases.size()}, {"leases", arr}});
    };
  };
  const std::vector<logical::FieldSpec> id_fields = {{"lease_id"}, {"url_lease_id"},
                                                     {"increment", FieldType::kDuration},
                                                     {"sync", FieldType::kBool, true}};
  for (const char* base : {"leases/", ""}) {
    std::string b = base;
    r.push_back({.pattern = b + "renew", .fields = id_fields, .ops = {{Operation::kUpdate, renew}}});
    r.push_back({.pattern = b + "renew/{url_lease_id:+}", .fields = id_fields, .ops = {{Operation::kUpdate, renew}}});
    r.push_back({.pattern = b + "revoke", .fields = id_fields, .ops = {{Operation::kUpdate, revoke}}});
    r.push_back({.pattern = b + "revoke/{url_lease_id:+}", .fields = id_fields, .ops = {{Operation::kUpdate, revoke}}});
    r.push_back({.pattern = b + "revoke-prefix/{prefix:+}", .fields = {{"prefix"}, {"sync", FieldType::kBool, true}},
                 .ops = {{Operation::kUpdate, revoke_prefix(false)}}});
    r.push_back({.pattern = b + "revoke-force/{prefix:+}", .fields = {{"prefix"}},
                 .ops = {{Operation::kUpdate, revoke_prefix(true)}}});
  }
  r.push_back({.pattern = "leases/lookup", .fields = id_fields, .ops = {{Operation::kUpdate, lookup}}});
  // Lease listings scan storage: they compute, off the I/O threads.
  r.push_back({.pattern = "leases/lookup/{prefix:*}", .fields = {{"prefix"}}, .ops = {{Operation::kList, list}},
               .run_mode = RunMode::kComputes});
  r.push_back({.pattern = "leases/count", .fields = {{"type"}, {"limit", FieldType::kInt}},
               .ops = {{Operation::kRead, irrevocable(true)}}, .run_mode = RunMode::kComputes});
  r.push_back({.pattern = "leases", .fields = {{"type"}, {"limit", FieldType::kInt}},
               .ops = {{Operation::kRead, irrevocable(false)}}, .run_mode = RunMode::kComputes});
  // Vault's answer, 202 and its own word in the text (clients match it).
  r.push_back({.pattern = "leases/tidy", .ops = {{Operation::kUpdate, [](Request&, FieldData&) -> Result<Response> {
                 Response resp;
                 resp.http_status = 202;
                 resp.warnings.push_back("Tidy operation successfully started. Any information from the "
                                         "operation will be printed to Vault's server logs.");
                 return resp;
               }}}});
  return r;
}

}  // namespace sealbox::core
