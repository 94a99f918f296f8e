// sys/metrics: the process's metrics (metrics/exposition.h) for a token the
// ACL lets read it, audited like any request. The listener's
// telemetry.unauthenticated_metrics_access answers it in api/ instead.
#include "core/system_backend.h"
#include "metrics/exposition.h"

namespace sealbox::core {

std::vector<logical::PathSpec> SystemBackend::MetricsRoutes() {
  std::vector<logical::PathSpec> r;
  r.push_back({.pattern = "metrics",
               .fields = {{.name = "format"}},
               .ops = {{logical::Operation::kRead, [](Request&, FieldData& fd) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string format, fd.GetString("format"));
                 metrics::ScrapeAnswer a = metrics::Scrape(metrics::DefaultRegistry(), format, "");
                 Response resp;
                 resp.raw = Response::RawBody{a.status, std::move(a.content_type), std::move(a.body)};
                 return resp;
               }}},
               .run_mode = logical::RunMode::kComputes,
               .standby_ops = {logical::Operation::kRead}});  // each node's own
  return r;
}

}  // namespace sealbox::core
