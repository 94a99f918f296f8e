// sys/storage/raft/snapshot and snapshot-force: Vault's raft snapshot paths
// over Sealbox's own snapshot format (core/snapshot.cc, docs/operations.md);
// sys/storage/raft/snapshot-auto: scheduled snapshots (Vault Enterprise's
// API, core/snapshot_scheduler.h).
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

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
                          SB_ASSIGN_OR_RETURN(auto stream, core_->StreamSnapshot());
                          Response resp;
                          resp.raw = logical::Response::RawBody{.status = 200,
                                                                .content_type = "application/gzip",
                                                                .stream = std::move(stream)};
                          return resp;
                        }},
                       {Operation::kUpdate, restore(false)}},
               .run_mode = RunMode::kWaits});
  r.push_back({.pattern = "storage/raft/snapshot-force",
               .ops = {{Operation::kUpdate, restore(true)}},
               .run_mode = RunMode::kWaits});
  for (auto& route : AutoSnapshotRoutes()) r.push_back(std::move(route));
  return r;
}

namespace {

// A write's fields over the stored configuration (Vault's update semantics:
// what the request leaves out stays).
Result<AutoSnapshotConfig> AutoSnapshotConfigOf(FieldData& fd, std::optional<AutoSnapshotConfig> old) {
  AutoSnapshotConfig c = old.value_or(AutoSnapshotConfig{});
  SB_ASSIGN_OR_RETURN(c.name, fd.GetString("name"));
  if (fd.Has("interval")) {
    SB_ASSIGN_OR_RETURN(c.interval_s, fd.GetDuration("interval"));
  }
  if (fd.Has("retain")) {
    SB_ASSIGN_OR_RETURN(int64_t retain, fd.GetInt("retain"));
    if (retain < 1 || retain > 1'000'000) return InvalidArgument("retain must be at least 1");
    c.retain = static_cast<int>(retain);
  }
  for (auto [field, target] : {std::pair{"path_prefix", &c.path_prefix}, std::pair{"file_prefix", &c.file_prefix},
                               std::pair{"storage_type", &c.storage_type}}) {
    if (fd.Has(field)) {
      SB_ASSIGN_OR_RETURN(*target, fd.GetString(field));
    }
  }
  if (!old && !fd.Has("storage_type")) c.storage_type.clear();  // required on create, as Vault
  if (fd.Has("local_max_space")) {
    SB_ASSIGN_OR_RETURN(int64_t space, fd.GetInt("local_max_space"));
    if (space < 0) return InvalidArgument("local_max_space must not be negative");
    c.local_max_space = static_cast<uint64_t>(space);
  }
  return c;
}

}  // namespace

std::vector<PathSpec> SystemBackend::AutoSnapshotRoutes() {
  auto list = [this](Request&, FieldData&) -> Result<Response> {
    auto names = core_->snapshot_schedules().List();
    if (names.empty()) return Response::Empty();
    return Response::WithData(Json{{"keys", names}});
  };
  auto read = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    auto c = core_->snapshot_schedules().Read(name);
    if (!c) return Response::Empty();
    return Response::WithData(c->ToJson());
  };
  auto write = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    SB_ASSIGN_OR_RETURN(AutoSnapshotConfig c, AutoSnapshotConfigOf(fd, core_->snapshot_schedules().Read(name)));
    SB_RETURN_IF_ERROR(core_->snapshot_schedules().Write(std::move(c)));
    return Response::Empty();
  };
  auto remove = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    SB_RETURN_IF_ERROR(core_->snapshot_schedules().Delete(name));
    return Response::Empty();
  };
  auto status = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("name"));
    auto st = core_->snapshot_schedules().GetStatus(name);
    if (!st) return Response::Empty();
    return Response::WithData(st->ToJson());
  };
  const std::string base = "storage/raft/snapshot-auto/";
  std::vector<PathSpec> r;
  r.push_back({.pattern = base + "config", .ops = {{Operation::kList, list}}});
  r.push_back({.pattern = base + "config/", .ops = {{Operation::kList, list}}});
  r.push_back({.pattern = base + "config/{name}",
               .fields = {{"name"},
                          {"interval", FieldType::kDuration},
                          {"retain", FieldType::kAny},
                          {"path_prefix"},
                          {"file_prefix"},
                          {"storage_type"},
                          {"local_max_space", FieldType::kAny}},
               .ops = {{Operation::kRead, read}, {Operation::kUpdate, write}, {Operation::kDelete, remove}}});
  r.push_back({.pattern = base + "status/{name}", .fields = {{"name"}}, .ops = {{Operation::kRead, status}}});
  return r;
}

}  // namespace sealbox::core
