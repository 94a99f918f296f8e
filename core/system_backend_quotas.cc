// sys/quotas/config, sys/quotas/rate-limit[/<name>] and
// sys/quotas/lease-count[/<name>] (Vault Enterprise's; Sealbox has it for
// everyone). The quotas themselves: core/quota_manager.h.
#include <cmath>

#include "base/log.h"
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

// A positive number given as a JSON number or a numeric string.
Result<double> PositiveNumber(const FieldData& fd, const std::string& name) {
  const Json& v = fd.Get(name);
  double x = 0;
  if (v.is_number()) {
    x = v.get<double>();
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    x = s.empty() ? 0 : std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') x = 0;
  }
  if (!(x > 0) || !std::isfinite(x) || x > 1e12) return InvalidArgument("'" + name + "' is invalid");
  return x;
}

Result<int64_t> NonNegativeDuration(const FieldData& fd, const std::string& name) {
  auto d = fd.GetDuration(name);
  if (!d.ok() || *d < 0) return InvalidArgument("'" + name + "' is invalid");
  return *d;
}

}  // namespace

// The scope a quota's path and role name: global, a mount, or a path under
// one; a role only on an auth mount.
Result<QuotaScope> SystemBackend::QuotaScopeOf(FieldData& fd) {
  QuotaScope s;
  SB_ASSIGN_OR_RETURN(s.name, fd.GetString("name"));
  if (s.name.empty()) return InvalidArgument("missing quota name");
  SB_ASSIGN_OR_RETURN(s.path, fd.GetString("path"));
  SB_ASSIGN_OR_RETURN(s.role, fd.GetString("role"));
  while (!s.path.empty() && (s.path.front() == '/')) s.path.erase(0, 1);
  if (!s.path.empty() && s.path.back() == '*') s.path.pop_back();  // a prefix either way
  if (s.path.empty()) {
    if (!s.role.empty()) return InvalidArgument("role can only be set on a quota with an auth mount path");
    return s;
  }
  BoundRoute route = core_->router().Route(s.path);
  if (!route && s.path.back() != '/') route = core_->router().Route(s.path + "/");
  if (!route) return InvalidArgument("invalid mount path \"" + s.path + "\"");
  s.mount = route.entry->mount.RoutePath();
  if (s.path + "/" == s.mount) s.path = s.mount;
  if (!s.role.empty() && (!route.entry->mount.auth || s.IsPathRule()))
    return InvalidArgument("role can only be set on a quota with an auth mount path");
  return s;
}

std::vector<PathSpec> SystemBackend::QuotaRoutes() {
  auto kind_of = [](Request& req) {
    return req.path.rfind("quotas/lease-count", 0) == 0 ? QuotaKind::kLeaseCount : QuotaKind::kRateLimit;
  };
  auto list = [this, kind_of](Request& req, FieldData&) -> Result<Response> {
    auto names = core_->quotas().List(kind_of(req));
    if (names.empty()) return Response::Empty();
    return Response::WithData(Json{{"keys", names}});
  };
  auto read = [this, kind_of](Request& req, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    auto q = core_->quotas().Read(kind_of(req), name);
    if (!q) return Response::Empty();
    return Response::WithData(std::move(*q));
  };
  auto remove = [this, kind_of](Request& req, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    SB_ASSIGN_OR_RETURN(bool deleted, core_->quotas().Delete(kind_of(req), name));
    // Its leases now count against the quota that applies to them next.
    if (deleted && kind_of(req) == QuotaKind::kLeaseCount) SB_RETURN_IF_ERROR(core_->RecountLeaseQuotas());
    return Response::Empty();
  };
  auto write_rate = [this](Request& req, FieldData& fd) -> Result<Response> {
    RateLimitQuota q;
    SB_ASSIGN_OR_RETURN(q.scope, QuotaScopeOf(fd));
    SB_ASSIGN_OR_RETURN(q.rate, PositiveNumber(fd, "rate"));
    SB_ASSIGN_OR_RETURN(q.interval_secs, NonNegativeDuration(fd, "interval"));
    if (q.interval_secs == 0) q.interval_secs = 1;
    SB_ASSIGN_OR_RETURN(q.block_interval_secs, NonNegativeDuration(fd, "block_interval"));
    SB_RETURN_IF_ERROR(core_->quotas().WriteRateLimit(std::move(q)));
    return Response::Empty();
  };
  auto write_lease = [this](Request& req, FieldData& fd) -> Result<Response> {
    LeaseCountQuota q;
    SB_ASSIGN_OR_RETURN(q.scope, QuotaScopeOf(fd));
    SB_ASSIGN_OR_RETURN(double max, PositiveNumber(fd, "max_leases"));
    q.max_leases = static_cast<int64_t>(max);
    if (q.max_leases < 1) return InvalidArgument("'max_leases' is invalid");
    SB_RETURN_IF_ERROR(core_->quotas().WriteLeaseCount(std::move(q)));
    // As Vault, a new quota starts with the leases already under it.
    SB_RETURN_IF_ERROR(core_->RecountLeaseQuotas());
    return Response::Empty();
  };
  auto read_config = [this](Request&, FieldData&) -> Result<Response> {
    QuotaConfig c = core_->quotas().config();
    return Response::WithData(Json{{"enable_rate_limit_audit_logging", c.audit_logging},
                                   {"enable_rate_limit_response_headers", c.response_headers},
                                   {"rate_limit_exempt_paths", c.exempt_paths}});
  };
  auto write_config = [this](Request& req, FieldData& fd) -> Result<Response> {
    QuotaConfig c = core_->quotas().config();
    if (fd.Has("enable_rate_limit_audit_logging")) {
      SB_ASSIGN_OR_RETURN(c.audit_logging, fd.GetBool("enable_rate_limit_audit_logging"));
    }
    if (fd.Has("enable_rate_limit_response_headers")) {
      SB_ASSIGN_OR_RETURN(c.response_headers, fd.GetBool("enable_rate_limit_response_headers"));
    }
    if (fd.Has("rate_limit_exempt_paths")) {
      SB_ASSIGN_OR_RETURN(c.exempt_paths, fd.GetStringList("rate_limit_exempt_paths"));
      if (c.exempt_paths.size() > 1000) return InvalidArgument("too many rate_limit_exempt_paths");
    }
    SB_RETURN_IF_ERROR(core_->quotas().WriteConfig(std::move(c)));
    return Response::Empty();
  };

  const std::vector<FieldSpec> scope = {{"name"}, {"path"}, {"role"}};
  auto with = [&](std::vector<FieldSpec> extra) {
    std::vector<FieldSpec> f = scope;
    for (auto& e : extra) f.push_back(std::move(e));
    return f;
  };
  std::vector<PathSpec> r;
  r.push_back({.pattern = "quotas/config",
               .fields = {{"enable_rate_limit_audit_logging", FieldType::kBool},
                          {"enable_rate_limit_response_headers", FieldType::kBool},
                          {"rate_limit_exempt_paths", FieldType::kStringList}},
               .ops = {{Operation::kRead, read_config}, {Operation::kUpdate, write_config}}});
  for (const char* kind : {"rate-limit", "lease-count"}) {
    const std::string base = std::string("quotas/") + kind;
    r.push_back({.pattern = base, .ops = {{Operation::kList, list}}});
    r.push_back({.pattern = base + "/", .ops = {{Operation::kList, list}}});
    const bool rate = std::string(kind) == "rate-limit";
    r.push_back({.pattern = base + "/{name}",
                 .fields = rate ? with({{"rate", FieldType::kAny},
                                        {"interval", FieldType::kDuration},
                                        {"block_interval", FieldType::kDuration},
                                        {"inheritable", FieldType::kBool}})
                                : with({{"max_leases", FieldType::kAny}, {"inheritable", FieldType::kBool}}),
                 .ops = {{Operation::kRead, read},
                         {Operation::kUpdate, rate ? logical::Handler(write_rate) : logical::Handler(write_lease)},
                         {Operation::kDelete, remove}}});
  }
  return r;
}

}  // namespace sealbox::core
