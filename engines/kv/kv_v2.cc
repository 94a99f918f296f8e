// KV v2: construction and routes, the storage helpers every handler uses,
// config/, the catch-all for v1-style paths and the v1 upgrade. The handlers
// on versions are in kv_v2_data.cc, those on metadata in kv_v2_metadata.cc.
#include "engines/kv/kv_v2.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "base/clock.h"
#include "engines/kv/kv_v1.h"
#include "engines/kv/kv_v2_meta.h"

namespace sealbox::engines::kv {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::PathSpec;
using logical::Request;
using logical::Response;

// ---- Construction and routes ----

KvV2Backend::~KvV2Backend() = default;

logical::Handler KvV2Backend::Bind(Handler h) {
  return [this, h](Request& r, FieldData& f) -> Result<Response> { return (this->*h)(r, f); };
}

KvV2Backend::KvV2Backend(const logical::BackendConfig& config) : config_(config) {
  std::vector<PathSpec> routes = KeyRoutes();
  // delete/, undelete/ and destroy/ take the same fields.
  for (auto [pattern, handler] : {std::pair{"delete/{path:+}", &KvV2Backend::DeleteVersions},
                                  std::pair{"undelete/{path:+}", &KvV2Backend::UndeleteVersions},
                                  std::pair{"destroy/{path:+}", &KvV2Backend::DestroyVersions}}) {
    routes.push_back({.pattern = pattern,
                      .fields = {{"path", FieldType::kString}, {"versions", FieldType::kStringList}},
                      .ops = {{Operation::kUpdate, Bind(handler)}}});
  }
  routes.push_back({.pattern = "subkeys/{path:+}",
                    .fields = {{"path", FieldType::kString}, {"version", FieldType::kInt}, {"depth", FieldType::kInt}},
                    .ops = {{Operation::kRead, Bind(&KvV2Backend::ReadSubkeys)}}});
  routes.push_back({.pattern = "move",
                    .fields = {{"from", FieldType::kString}, {"to", FieldType::kString}},
                    .ops = {{Operation::kUpdate, Bind(&KvV2Backend::Move)}}});
  // Last: everything else is a v1-style path, answered as Vault does.
  auto invalid = Bind(&KvV2Backend::InvalidPath);
  routes.push_back({.pattern = "{rest:*}",
                    .ops = {{Operation::kRead, invalid},
                            {Operation::kUpdate, invalid},
                            {Operation::kPatch, invalid},
                            {Operation::kDelete, invalid},
                            {Operation::kList, invalid}},
                    .any_fields = true});
  SetRoutes(std::move(routes));
  // Reads come from the local store (its block cache): no thread hop.
  SetRunModes(logical::RunMode::kNonBlocking, logical::RunMode::kWaits);
  SetStandbyReads(true);
  // Moving a secret bypasses the per-path ACLs of both keys, so it needs sudo.
  SetSpecialPaths({.root = {"move"}});
}

std::vector<PathSpec> KvV2Backend::KeyRoutes() {
  auto path_field = logical::FieldSpec{"path", FieldType::kString};
  auto exists = [this](Request& r, FieldData& f) { return MetadataExists(r, f); };
  std::vector<PathSpec> routes;
  routes.push_back({.pattern = "config",
                    .fields = {{"max_versions", FieldType::kInt},
                               {"cas_required", FieldType::kBool},
                               {"delete_version_after", FieldType::kDuration}},
                    .ops = {{Operation::kRead, Bind(&KvV2Backend::ReadConfig)},
                            {Operation::kUpdate, Bind(&KvV2Backend::WriteConfig)}}});
  routes.push_back({.pattern = "data/{path:+}",
                    .fields = {path_field, {"version", FieldType::kInt}, {"options", FieldType::kMap},
                               {"data", FieldType::kMap}},
                    .ops = {{Operation::kRead, Bind(&KvV2Backend::ReadData)},
                            {Operation::kCreate, Bind(&KvV2Backend::WriteData)},
                            {Operation::kUpdate, Bind(&KvV2Backend::WriteData)},
                            {Operation::kPatch, Bind(&KvV2Backend::PatchData)},
                            {Operation::kDelete, Bind(&KvV2Backend::DeleteLatest)},
                            // LIST data/x/ is a v1-style path on a v2 mount.
                            {Operation::kList, Bind(&KvV2Backend::InvalidPath)}},
                    .exists = exists});
  routes.push_back({.pattern = "metadata/{path:*}",
                    .fields = {path_field,
                               {"max_versions", FieldType::kInt},
                               {"cas_required", FieldType::kBool},
                               {"delete_version_after", FieldType::kDuration},
                               {"custom_metadata", FieldType::kMap}},
                    .ops = {{Operation::kRead, Bind(&KvV2Backend::ReadMetadata)},
                            {Operation::kCreate, Bind(&KvV2Backend::WriteMetadata)},
                            {Operation::kUpdate, Bind(&KvV2Backend::WriteMetadata)},
                            {Operation::kPatch, Bind(&KvV2Backend::PatchMetadata)},
                            {Operation::kDelete, Bind(&KvV2Backend::DeleteMetadata)},
                            {Operation::kList, Bind(&KvV2Backend::ListMetadata)}},
                    .exists = exists});
  return routes;
}

int64_t KvV2Backend::NowNanos() const {
  return config_.clock ? config_.clock->NowNanos() : SystemClock::Default()->NowNanos();
}

// ---- Storage helpers ----

Result<Config> KvV2Backend::LoadConfig() {
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(kConfigKey));
  if (!raw) return Config{};
  SB_ASSIGN_OR_RETURN(Json j, DecodeObject(*raw, "kv config"));
  return Config::FromJson(j);
}

Result<std::optional<KeyMeta>> KvV2Backend::LoadMeta(const std::string& key) {
  if (key.empty()) return std::optional<KeyMeta>();
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(kMetadataPrefix + key));
  if (!raw) return std::optional<KeyMeta>();
  std::optional<KeyMeta> m = DecodeKeyMeta(*raw);
  if (!m) {  // another shape than EncodeKeyMeta's: the general decoder says what it holds
    SB_ASSIGN_OR_RETURN(Json j, DecodeObject(*raw, "kv metadata"));
    SB_ASSIGN_OR_RETURN(m, KeyMeta::FromJson(j));
  }
  return m;
}

Status KvV2Backend::SaveMeta(const std::string& key, const KeyMeta& meta, std::vector<WriteOp> extra) {
  std::string value = EncodeKeyMeta(meta);
  SB_RETURN_IF_ERROR(CheckEntrySize(value.size(), MaxEntrySize(config_.mount), "metadata"));
  extra.push_back(WriteOp::Put(kMetadataPrefix + key, std::move(value)));
  return config_.storage->Batch(extra);
}

Result<Response> KvV2Backend::CommitVersion(const std::string& key, KeyMeta& meta, const Config& cfg,
                                            std::string value, std::vector<WriteOp> extra) {
  SB_RETURN_IF_ERROR(CheckEntrySize(value.size(), MaxEntrySize(config_.mount), "value"));
  int64_t now = NowNanos();
  uint64_t n = meta.current + 1;
  VersionMeta vm;
  vm.created = now;
  vm.deletion = DeletionTime(now, cfg, meta);
  meta.current = n;
  meta.updated = now;
  if (meta.created == 0) meta.created = now;
  meta.versions[n] = vm;
  extra.push_back(WriteOp::Put(meta.VersionKey(n), std::move(value)));

  // Keep the newest max_versions versions; older ones leave the map and
  // storage in the same batch as the new version.
  uint64_t max = std::max(meta.max_versions, cfg.max_versions);
  if (max == 0) max = kDefaultMaxVersions;
  if (meta.current - meta.oldest >= max) {
    uint64_t cut = meta.current - max;
    for (auto it = meta.versions.begin(); it != meta.versions.end() && it->first <= cut;) {
      extra.push_back(WriteOp::Delete(meta.VersionKey(it->first)));
      it = meta.versions.erase(it);
    }
    meta.oldest = cut + 1;
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, meta, std::move(extra)));
  Json d = meta.VersionApiJson(n, vm);
  return Response::WithData(std::move(d));
}

Result<bool> KvV2Backend::MetadataExists(Request&, FieldData& fd) {
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(PathOf(fd)));
  return meta.has_value();
}

// ---- config ----

Result<Response> KvV2Backend::ReadConfig(Request&, FieldData&) {
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  return Response::WithData(Json{{"max_versions", cfg.max_versions},
                                 {"cas_required", cfg.cas_required},
                                 {"delete_version_after", GoDurationString(cfg.delete_version_after)}});
}

Result<Response> KvV2Backend::WriteConfig(Request&, FieldData& fd) {
  // Config changes are rare; one lock stripe keyed on the config entry keeps
  // concurrent config writes from losing each other's fields.
  std::unique_lock l(locks_.For("\x01config"));
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  if (fd.Has("max_versions")) {
    SB_ASSIGN_OR_RETURN(int64_t v, NonNegativeInt(fd, "max_versions"));
    cfg.max_versions = static_cast<uint64_t>(v);
  }
  if (fd.Has("cas_required")) {
    SB_ASSIGN_OR_RETURN(cfg.cas_required, fd.GetBool("cas_required"));
  }
  if (fd.Has("delete_version_after")) {
    SB_ASSIGN_OR_RETURN(int64_t d, fd.GetDuration("delete_version_after"));
    // Negative disables delete_version_after for every key; 0 clears it.
    cfg.delete_version_after = d < 0 ? -1 : d;
  }
  SB_RETURN_IF_ERROR(config_.storage->Put(kConfigKey, EncodeObject(cfg.ToJson())));
  return Response::Empty();
}

// ---- catch-all ----

Result<Response> KvV2Backend::InvalidPath(Request& req, FieldData&) {
  Response resp;
  resp.http_status = 404;
  const std::string& p = req.path;
  // LIST on a known path that does not list (data/x): Vault's framework
  // answers 405, not the invalid-path warning.
  if (req.op == Operation::kList) {
    for (const char* known : {"data/", "subkeys/", "delete/", "undelete/", "destroy/"}) {
      if (p.rfind(known, 0) == 0 && p.size() > std::strlen(known)) return Unsupported();
    }
  }
  if (p == "metadata" || p == "data" || p == "delete" || p == "undelete" || p == "destroy") {
    resp.warnings.push_back("Non-listing operations on the root of a K/V v2 mount are not supported.");
    return resp;
  }
  const char* sub = "get";
  switch (req.op) {
    case Operation::kCreate:
    case Operation::kUpdate: sub = "put"; break;
    case Operation::kPatch: sub = "patch"; break;
    case Operation::kList: sub = "list"; break;
    case Operation::kDelete: sub = "delete"; break;
    default: break;
  }
  resp.warnings.push_back(
      std::string("Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API "
                  "endpoints to use. If using the Vault CLI, use 'vault kv ") +
      sub + "' for this operation.");
  return resp;
}

// ---- v1 → v2 upgrade ----

Status KvV2Backend::MigrateFromV1() {
  const std::string v1 = KvV1Backend::kV1Prefix;
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*config_.storage, v1));
  if (keys.empty()) return Status::Ok();
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  for (const auto& full : keys) {
    std::string key = full.substr(v1.size());
    std::unique_lock l(locks_.For(key));
    SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(full));
    if (!raw) continue;
    SB_ASSIGN_OR_RETURN(auto existing, LoadMeta(key));
    KeyMeta meta = existing ? std::move(*existing) : NewKeyMeta(NowNanos());
    // The v1 entry goes in the same batch as its new version.
    auto r = CommitVersion(key, meta, cfg, *raw, {WriteOp::Delete(full)});
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

}  // namespace sealbox::engines::kv
