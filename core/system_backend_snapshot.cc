// sys/storage/raft/snapshot and snapshot-force: Vault's raft snapshot paths
// over Sealbox's own snapshot format (core/snapshot.cc, docs/operations.md).
#include "core/core_impl.h"
#include "core/system_backend.h"

namespace sealbox::core {

using logical::FieldData;
using logical::Operation;
using logical::PathSpec;
using logical::Request;
using logical::Response;
using logical::RunMode;

std::vector<PathSpec> SystemBackend::SnapshotRoutes() {
  auto restore = [this](bool force) {
    return [this, force](Request& req, FieldData&) -> Result<Response> {
      SB_RETURN_IF_ERROR(core_->StageRestore(req.id, req.raw_body, force));
      return Response::Empty();
    };
  };
  std::vector<PathSpec> r;
  r.push_back({.pattern = "storage/raft/snapshot",
               .ops = {{Operation::kRead,
                        [this](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(std::string archive, core_->TakeSnapshot());
                          Response resp;
                          resp.raw = logical::Response::RawBody{200, "application/gzip", std::move(archive)};
                          return resp;
                        }},
                       {Operation::kUpdate, restore(false)}},
               .run_mode = RunMode::kWaits});
  r.push_back({.pattern = "storage/raft/snapshot-force",
               .ops = {{Operation::kUpdate, restore(true)}},
               .run_mode = RunMode::kWaits});
  return r;
}

}  // namespace sealbox::core
