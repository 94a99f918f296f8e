// sys/host-info, sys/in-flight-req and sys/config/state/sanitized: what an
// operator (or `sealbox debug`) asks about the server itself.
#include "core/core_impl.h"
#include "core/host_info.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

std::vector<PathSpec> SystemBackend::HostRoutes() {
  // About the node asked, standby or not (HA): a standby answers itself.
  const std::vector<Operation> kThisNode = {Operation::kRead};
  std::vector<PathSpec> r;
  r.push_back({.pattern = "host-info",
               .ops = {{Operation::kRead,
                        [this](Request&, FieldData&) -> Result<Response> {
                          return Response::WithData(CollectHostInfo(core_->clock().NowNanos()));
                        }}},
               .run_mode = RunMode::kComputes,  // reads /proc and statvfs
               .standby_ops = kThisNode});
  // Vault answers the map itself, without the response envelope.
  r.push_back({.pattern = "in-flight-req",
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                 Response resp;
                 resp.raw = Response::RawBody{200, "application/json", core_->in_flight().ToJson().dump()};
                 return resp;
               }}},
               .standby_ops = kThisNode});
  r.push_back({.pattern = "config/state/sanitized",
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                 const Json& c = core_->options().sanitized_config;
                 return Response::WithData(c.is_object() ? c : Json::object());
               }}},
               .standby_ops = kThisNode});
  return r;
}

}  // namespace sealbox::core
