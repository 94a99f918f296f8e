#include "engines/kv/kv_v2.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/saturating.h"
#include "engines/kv/kv_v1.h"

namespace sealbox::engines::kv {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

constexpr uint64_t kDefaultMaxVersions = 10;
constexpr size_t kMaxCustomMetadataKeys = 64;
constexpr size_t kMaxCustomMetadataKeyLength = 128;
constexpr size_t kMaxCustomMetadataValueLength = 512;
constexpr const char* kCustomMetadataPrefix = "custom_metadata validation failed";
constexpr const char* kConfigKey = "config";
constexpr const char* kMetadataPrefix = "metadata/";
constexpr const char* kVersionsPrefix = "versions/";

std::string Timestamp(int64_t nanos) { return nanos ? FormatRfc3339Nano(nanos) : std::string(); }

std::string PathOf(const FieldData& fd) {
  const Json& p = fd.Get("path");
  return p.is_string() ? p.get<std::string>() : std::string();
}

bool EndsWithSlash(const std::string& s) { return !s.empty() && s.back() == '/'; }

// Go multierror's text, which Vault returns verbatim for validation errors.
std::string MultiError(const std::vector<std::string>& errs) {
  std::string out = std::to_string(errs.size()) + (errs.size() == 1 ? " error occurred:\n" : " errors occurred:\n");
  for (const auto& e : errs) out += "\t* " + e + "\n";
  return out + "\n";
}

bool Printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// custom_metadata as a string map (weakly typed values). With filter_nulls
// (PATCH), null values are skipped: they mean "remove this key".
Result<Json> ParseCustomMetadata(const Json& raw, bool filter_nulls) {
  Json out = Json::object();
  if (raw.is_null()) return out;
  if (!raw.is_object()) return InvalidArgument(std::string(kCustomMetadataPrefix) + ": expected a map of strings");
  for (auto& [k, v] : raw.items()) {
    if (v.is_null() && filter_nulls) continue;
    if (v.is_object() || v.is_array())
      return InvalidArgument(std::string(kCustomMetadataPrefix) + ": value for key \"" + k + "\" must be a string");
    auto s = JsonToString(v);
    if (!s.ok()) return InvalidArgument(std::string(kCustomMetadataPrefix) + ": " + s.status().message());
    out[k] = *s;
  }
  return out;
}

// Vault's limits: at most 64 keys, 0 < len(key) <= 128, 0 < len(value) <= 512,
// printable only. All problems are reported at once.
Status ValidateCustomMetadata(const Json& cm) {
  if (!cm.is_object()) return Status::Ok();
  std::string p = kCustomMetadataPrefix;
  if (cm.size() > kMaxCustomMetadataKeys)
    return InvalidArgument(MultiError({p + ": payload must contain at most " + std::to_string(kMaxCustomMetadataKeys) +
                                       " keys, provided " + std::to_string(cm.size())}));
  std::vector<std::string> errs;
  for (auto& [k, v] : cm.items()) {
    const std::string value = v.is_string() ? v.get<std::string>() : std::string();
    if (k.empty() || k.size() > kMaxCustomMetadataKeyLength)
      errs.push_back(p + ": length of key \"" + k + "\" is " + std::to_string(k.size()) +
                     " but must be 0 < len(key) <= " + std::to_string(kMaxCustomMetadataKeyLength));
    if (value.empty() || value.size() > kMaxCustomMetadataValueLength)
      errs.push_back(p + ": length of value for key \"" + k + "\" is " + std::to_string(value.size()) +
                     " but must be 0 < len(value) <= " + std::to_string(kMaxCustomMetadataValueLength));
    if (!Printable(k)) errs.push_back(p + ": key \"" + k + "\" contains unprintable characters");
    if (!Printable(value)) errs.push_back(p + ": value for key \"" + k + "\" contains unprintable characters");
  }
  if (errs.empty()) return Status::Ok();
  return InvalidArgument(MultiError(errs));
}

// "versions" as an int list: [1,2], ["1","2"] or "1,2".
Result<std::vector<uint64_t>> ParseVersions(const FieldData& fd) {
  SB_ASSIGN_OR_RETURN(auto list, fd.GetStringList("versions"));
  std::vector<uint64_t> out;
  for (const auto& s : list) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
      return InvalidArgument("error converting input for field \"versions\": expected a list of integers");
    if (v > 0) out.push_back(static_cast<uint64_t>(v));
  }
  return out;
}

// A JSON merge patch (RFC 7386) of `target` by `patch`.
void MergePatch(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = Json::object();
  for (auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      target.erase(k);
    } else {
      MergePatch(target[k], v);
    }
  }
}

// The structure of `obj` with every leaf replaced by null; objects nested
// deeper than `depth` (when > 0) become null too.
Json Subkeys(const Json& obj, int64_t depth, int64_t level) {
  Json out = Json::object();
  for (auto& [k, v] : obj.items()) {
    if (v.is_object() && (depth == 0 || level < depth)) {
      out[k] = Subkeys(v, depth, level + 1);
    } else {
      out[k] = nullptr;
    }
  }
  return out;
}

Response NotFoundWithStatusOnly() {
  // Vault's RespondWithStatusCode(nil, 404): a 404 with an empty body.
  Response r;
  r.http_status = 404;
  return r;
}

}  // namespace

// ---- Stored types ----

struct KvV2Backend::Config {
  uint64_t max_versions = 0;         // 0: unset (effective 10)
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds; 0 unset, -1 disabled

  Json ToJson() const {
    return Json{{"max_versions", max_versions}, {"cas_required", cas_required},
                {"delete_version_after", delete_version_after}};
  }
  static Result<Config> FromJson(const Json& j) {
    Config c;
    try {
      c.max_versions = j.value("max_versions", uint64_t{0});
      c.cas_required = j.value("cas_required", false);
      c.delete_version_after = j.value("delete_version_after", int64_t{0});
    } catch (const std::exception&) {
      return Corruption("kv config malformed");
    }
    return c;
  }
};

struct VersionMeta {
  int64_t created = 0;   // nanos
  int64_t deletion = 0;  // nanos, 0 = none
  bool destroyed = false;
};

struct KvV2Backend::KeyMeta {
  std::string key_id;  // names the versions/<key_id>/ folder
  int64_t created = 0;
  int64_t updated = 0;
  uint64_t current = 0;
  uint64_t oldest = 0;
  uint64_t max_versions = 0;
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds
  Json custom_metadata = nullptr;    // string map, or null if never set
  std::map<uint64_t, VersionMeta> versions;

  std::string VersionKey(uint64_t n) const { return kVersionsPrefix + key_id + "/" + std::to_string(n); }

  Json ToJson() const {
    Json v = Json::object();
    for (const auto& [n, vm] : versions)
      v[std::to_string(n)] = Json{{"created_time", vm.created}, {"deletion_time", vm.deletion},
                                  {"destroyed", vm.destroyed}};
    return Json{{"key_id", key_id},
                {"created_time", created},
                {"updated_time", updated},
                {"current_version", current},
                {"oldest_version", oldest},
                {"max_versions", max_versions},
                {"cas_required", cas_required},
                {"delete_version_after", delete_version_after},
                {"custom_metadata", custom_metadata},
                {"versions", v}};
  }

  static Result<KeyMeta> FromJson(const Json& j) {
    KeyMeta m;
    try {
      m.key_id = j.at("key_id").get<std::string>();
      m.created = j.value("created_time", int64_t{0});
      m.updated = j.value("updated_time", int64_t{0});
      m.current = j.value("current_version", uint64_t{0});
      m.oldest = j.value("oldest_version", uint64_t{0});
      m.max_versions = j.value("max_versions", uint64_t{0});
      m.cas_required = j.value("cas_required", false);
      m.delete_version_after = j.value("delete_version_after", int64_t{0});
      m.custom_metadata = j.value("custom_metadata", Json(nullptr));
      for (auto& [k, v] : j.at("versions").items()) {
        VersionMeta vm;
        vm.created = v.value("created_time", int64_t{0});
        vm.deletion = v.value("deletion_time", int64_t{0});
        vm.destroyed = v.value("destroyed", false);
        m.versions[std::stoull(k)] = vm;
      }
    } catch (const std::exception&) {
      return Corruption("kv metadata malformed");
    }
    if (m.key_id.empty()) return Corruption("kv metadata malformed");
    return m;
  }

  // The version map as the metadata endpoint shows it.
  Json VersionsApiJson() const {
    Json v = Json::object();
    for (const auto& [n, vm] : versions)
      v[std::to_string(n)] = Json{{"created_time", Timestamp(vm.created)},
                                  {"deletion_time", Timestamp(vm.deletion)},
                                  {"destroyed", vm.destroyed}};
    return v;
  }

  Json VersionApiJson(uint64_t n, const VersionMeta& vm) const {
    return Json{{"version", n},
                {"created_time", Timestamp(vm.created)},
                {"deletion_time", Timestamp(vm.deletion)},
                {"destroyed", vm.destroyed},
                {"custom_metadata", custom_metadata}};
  }
};

namespace {

using KeyMeta = KvV2Backend::KeyMeta;
using Config = KvV2Backend::Config;

// created + the smaller non-zero of the mount's and the key's
// delete_version_after; 0 when neither applies or the mount disabled it.
int64_t DeletionTime(int64_t from_nanos, const Config& cfg, const KeyMeta& meta) {
  if (cfg.delete_version_after < 0) return 0;
  int64_t mount = cfg.delete_version_after, key = meta.delete_version_after > 0 ? meta.delete_version_after : 0;
  if (mount == 0 && key == 0) return 0;
  int64_t min = key;
  if ((mount != 0 && mount < min) || min == 0) min = mount;
  return AddSeconds(from_nanos, min);
}

bool IsDeleted(const VersionMeta& vm, int64_t now) { return vm.deletion != 0 && vm.deletion <= now; }

// Vault's check-and-set rules (contract §2.5).
Status CheckCas(const FieldData& fd, const Config& cfg, const KeyMeta& meta) {
  SB_ASSIGN_OR_RETURN(Json options, fd.GetMap("options"));
  if (options.is_object() && options.contains("cas")) {
    auto cas = JsonToInt(options["cas"]);
    if (!cas.ok()) return InvalidArgument("error parsing check-and-set parameter");
    if (*cas < 0 || static_cast<uint64_t>(*cas) != meta.current)
      return InvalidArgument("check-and-set parameter did not match the current version");
  } else if (cfg.cas_required || meta.cas_required) {
    return InvalidArgument("check-and-set parameter required for this call");
  }
  return Status::Ok();
}

KeyMeta NewKeyMeta(int64_t now) {
  KeyMeta m;
  m.key_id = crypto::HexEncode(crypto::RandomBytes(12).view());
  m.created = now;
  m.updated = now;
  return m;
}

Result<int64_t> NonNegativeInt(const FieldData& fd, const std::string& name) {
  SB_ASSIGN_OR_RETURN(int64_t v, fd.GetInt(name));
  if (v < 0) return InvalidArgument("\"" + name + "\" must be a non-negative integer");
  return v;
}

}  // namespace

// ---- Construction and routes ----

KvV2Backend::~KvV2Backend() = default;

logical::Handler KvV2Backend::Bind(Handler h) {
  return [this, h](Request& r, FieldData& f) -> Result<Response> { return (this->*h)(r, f); };
}

KvV2Backend::KvV2Backend(const logical::BackendConfig& config) : config_(config) {
  using logical::PathSpec;
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
  routes.push_back({.pattern = "delete/{path:+}",
                    .fields = {path_field, {"versions", FieldType::kStringList}},
                    .ops = {{Operation::kUpdate, Bind(&KvV2Backend::DeleteVersions)}}});
  routes.push_back({.pattern = "undelete/{path:+}",
                    .fields = {path_field, {"versions", FieldType::kStringList}},
                    .ops = {{Operation::kUpdate, Bind(&KvV2Backend::UndeleteVersions)}}});
  routes.push_back({.pattern = "destroy/{path:+}",
                    .fields = {path_field, {"versions", FieldType::kStringList}},
                    .ops = {{Operation::kUpdate, Bind(&KvV2Backend::DestroyVersions)}}});
  routes.push_back({.pattern = "subkeys/{path:+}",
                    .fields = {path_field, {"version", FieldType::kInt}, {"depth", FieldType::kInt}},
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
  // Moving a secret bypasses the per-path ACLs of both keys, so it needs sudo.
  SetSpecialPaths({.root = {"move"}});
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
  SB_ASSIGN_OR_RETURN(Json j, DecodeObject(*raw, "kv metadata"));
  SB_ASSIGN_OR_RETURN(KeyMeta m, KeyMeta::FromJson(j));
  return std::optional<KeyMeta>(std::move(m));
}

Status KvV2Backend::SaveMeta(const std::string& key, const KeyMeta& meta, std::vector<WriteOp> extra) {
  std::string value = EncodeObject(meta.ToJson());
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

// ---- data ----

Result<Response> KvV2Backend::ReadVersion(FieldData& fd, bool subkeys) {
  std::string key = PathOf(fd);
  int64_t depth = 0;
  if (subkeys) {
    SB_ASSIGN_OR_RETURN(depth, fd.GetInt("depth"));
    if (depth < 0) return InvalidArgument("depth must be a non-negative integer");
  }
  SB_ASSIGN_OR_RETURN(int64_t version, fd.GetInt("version"));
  std::shared_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  uint64_t n = version > 0 ? static_cast<uint64_t>(version) : meta->current;
  auto it = meta->versions.find(n);
  if (it == meta->versions.end()) return Response::Empty();
  const VersionMeta& vm = it->second;
  Json md = meta->VersionApiJson(n, vm);
  const char* field = subkeys ? "subkeys" : "data";
  Response resp = Response::WithData(Json{{field, nullptr}, {"metadata", md}});
  // Deleted and destroyed versions: 404 with the metadata, so clients can
  // tell them from a missing key.
  if (IsDeleted(vm, NowNanos()) || vm.destroyed) {
    resp.http_status = 404;
    return resp;
  }
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(meta->VersionKey(n)));
  if (!raw) return Internal("could not find version data");
  SB_ASSIGN_OR_RETURN(Json data, DecodeObject(*raw, "kv version data"));
  (*resp.data)[field] = subkeys ? Subkeys(data, depth, 1) : std::move(data);
  return resp;
}

Result<Response> KvV2Backend::ReadData(Request& req, FieldData& fd) {
  if (EndsWithSlash(PathOf(fd))) return InvalidPath(req, fd);
  return ReadVersion(fd, false);
}

Result<Response> KvV2Backend::ReadSubkeys(Request&, FieldData& fd) { return ReadVersion(fd, true); }

Result<Response> KvV2Backend::WriteData(Request& req, FieldData& fd) {
  std::string key = PathOf(fd);
  if (EndsWithSlash(key)) return InvalidPath(req, fd);
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  if (fd.Get("data").is_null()) return InvalidArgument("no data provided");
  SB_ASSIGN_OR_RETURN(Json data, fd.GetMap("data"));
  std::string value = EncodeObject(data);
  // Fail early, before taking the lock (CommitVersion checks again).
  SB_RETURN_IF_ERROR(CheckEntrySize(value.size(), MaxEntrySize(config_.mount), "value"));

  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto existing, LoadMeta(key));
  KeyMeta meta = existing ? std::move(*existing) : NewKeyMeta(NowNanos());
  SB_RETURN_IF_ERROR(CheckCas(fd, cfg, meta));
  return CommitVersion(key, meta, cfg, std::move(value));
}

Result<Response> KvV2Backend::PatchData(Request& req, FieldData& fd) {
  std::string key = PathOf(fd);
  if (EndsWithSlash(key)) return InvalidPath(req, fd);
  if (fd.Get("data").is_null()) return InvalidArgument("no data provided");
  SB_ASSIGN_OR_RETURN(Json patch, fd.GetMap("data"));

  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return NotFoundWithStatusOnly();
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  SB_RETURN_IF_ERROR(CheckCas(fd, cfg, *meta));
  auto it = meta->versions.find(meta->current);
  if (it == meta->versions.end()) return NotFoundWithStatusOnly();
  if (IsDeleted(it->second, NowNanos()) || it->second.destroyed) {
    // The 404 body carries the version metadata flat in `data`.
    Response resp = Response::WithData(meta->VersionApiJson(meta->current, it->second));
    resp.http_status = 404;
    return resp;
  }
  SB_ASSIGN_OR_RETURN(auto raw, config_.storage->Get(meta->VersionKey(meta->current)));
  if (!raw) return Internal("could not find version data");
  SB_ASSIGN_OR_RETURN(Json data, DecodeObject(*raw, "kv version data"));
  MergePatch(data, patch);
  return CommitVersion(key, *meta, cfg, EncodeObject(data));
}

Result<Response> KvV2Backend::DeleteLatest(Request& req, FieldData& fd) {
  std::string key = PathOf(fd);
  if (EndsWithSlash(key)) return InvalidPath(req, fd);
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  auto it = meta->versions.find(meta->current);
  int64_t now = NowNanos();
  if (it == meta->versions.end() || it->second.destroyed || IsDeleted(it->second, now)) return Response::Empty();
  it->second.deletion = now;
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta));
  return Response::Empty();
}

// ---- delete / undelete / destroy ----

Result<Response> KvV2Backend::DeleteVersions(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  SB_ASSIGN_OR_RETURN(auto versions, ParseVersions(fd));
  if (versions.empty()) return InvalidArgument("No version number provided");
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  int64_t now = NowNanos();
  for (uint64_t v : versions) {
    auto it = meta->versions.find(v);
    if (it == meta->versions.end() || it->second.destroyed || IsDeleted(it->second, now)) continue;
    it->second.deletion = now;
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta));
  return Response::Empty();
}

Result<Response> KvV2Backend::UndeleteVersions(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  SB_ASSIGN_OR_RETURN(auto versions, ParseVersions(fd));
  if (versions.empty()) return InvalidArgument("No version number provided");
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  int64_t now = NowNanos();
  for (uint64_t v : versions) {
    auto it = meta->versions.find(v);
    if (it == meta->versions.end() || it->second.destroyed) continue;
    // Re-armed from now when delete_version_after applies.
    it->second.deletion = DeletionTime(now, cfg, *meta);
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta));
  return Response::Empty();
}

Result<Response> KvV2Backend::DestroyVersions(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  SB_ASSIGN_OR_RETURN(auto versions, ParseVersions(fd));
  if (versions.empty()) return InvalidArgument("no version number provided");
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  std::vector<WriteOp> ops;
  for (uint64_t v : versions) {
    auto it = meta->versions.find(v);
    if (it == meta->versions.end() || it->second.destroyed) continue;
    it->second.destroyed = true;
    ops.push_back(WriteOp::Delete(meta->VersionKey(v)));
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta, std::move(ops)));
  return Response::Empty();
}

// ---- metadata ----

Result<Response> KvV2Backend::ReadMetadata(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  std::shared_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  return Response::WithData(Json{{"cas_required", meta->cas_required},
                                 {"created_time", Timestamp(meta->created)},
                                 {"current_version", meta->current},
                                 {"custom_metadata", meta->custom_metadata},
                                 {"delete_version_after", GoDurationString(meta->delete_version_after)},
                                 {"max_versions", meta->max_versions},
                                 {"oldest_version", meta->oldest},
                                 {"updated_time", Timestamp(meta->updated)},
                                 {"versions", meta->VersionsApiJson()}});
}

Result<Response> KvV2Backend::WriteMetadata(Request& req, FieldData& fd) {
  std::string key = PathOf(fd);
  if (key.empty()) return InvalidArgument("missing path");
  if (EndsWithSlash(key)) return InvalidArgument("invalid path: a key cannot end in '/'");
  bool m_ok = fd.Has("max_versions"), c_ok = fd.Has("cas_required"), d_ok = fd.Has("delete_version_after"),
       cm_ok = fd.Has("custom_metadata");
  if (!m_ok && !c_ok && !d_ok && !cm_ok) return Response::Empty();

  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  Json cm;
  if (cm_ok) {
    SB_ASSIGN_OR_RETURN(cm, ParseCustomMetadata(fd.Get("custom_metadata"), false));
    SB_RETURN_IF_ERROR(ValidateCustomMetadata(cm));
  }
  int64_t max_versions = 0, dva = 0;
  bool cas = false;
  if (m_ok) {
    SB_ASSIGN_OR_RETURN(max_versions, NonNegativeInt(fd, "max_versions"));
  }
  if (c_ok) {
    SB_ASSIGN_OR_RETURN(cas, fd.GetBool("cas_required"));
  }
  if (d_ok) {
    SB_ASSIGN_OR_RETURN(dva, fd.GetDuration("delete_version_after"));
    if (dva < 0) return InvalidArgument("delete_version_after cannot be negative");
  }
  Response resp;
  if (c_ok && cfg.cas_required && !cas)
    resp.warnings.push_back(
        "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.");

  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto existing, LoadMeta(key));
  KeyMeta meta = existing ? std::move(*existing) : NewKeyMeta(NowNanos());
  if (m_ok) meta.max_versions = static_cast<uint64_t>(max_versions);
  if (c_ok) meta.cas_required = cas;
  if (d_ok) meta.delete_version_after = dva;
  if (cm_ok) meta.custom_metadata = cm;
  SB_RETURN_IF_ERROR(SaveMeta(key, meta));
  return resp;
}

Result<Response> KvV2Backend::PatchMetadata(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  if (key.empty()) return InvalidArgument("missing path");
  if (fd.Has("custom_metadata")) {
    SB_ASSIGN_OR_RETURN(Json cm, ParseCustomMetadata(fd.Get("custom_metadata"), true));
    SB_RETURN_IF_ERROR(ValidateCustomMetadata(cm));
  }
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return NotFoundWithStatusOnly();

  Response resp;
  // Merge-patch semantics per field: absent keeps, null resets, a value sets.
  if (fd.Has("max_versions")) {
    int64_t v = 0;
    if (!fd.Get("max_versions").is_null()) {
      SB_ASSIGN_OR_RETURN(v, NonNegativeInt(fd, "max_versions"));
    }
    meta->max_versions = static_cast<uint64_t>(v);
  }
  if (fd.Has("cas_required")) {
    SB_ASSIGN_OR_RETURN(bool cas, fd.GetBool("cas_required"));
    if (cfg.cas_required && !cas)
      resp.warnings.push_back(
          "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.");
    meta->cas_required = cas;
  }
  if (fd.Has("delete_version_after")) {
    SB_ASSIGN_OR_RETURN(int64_t dva, fd.GetDuration("delete_version_after"));
    if (dva < 0) return InvalidArgument("delete_version_after cannot be negative");
    meta->delete_version_after = dva;
  }
  if (fd.Has("custom_metadata")) {
    const Json& patch = fd.Get("custom_metadata");
    if (patch.is_null()) {
      meta->custom_metadata = nullptr;
    } else {
      if (!patch.is_object()) return InvalidArgument(std::string(kCustomMetadataPrefix) + ": expected a map of strings");
      Json merged = meta->custom_metadata.is_object() ? meta->custom_metadata : Json::object();
      for (auto& [k, v] : patch.items()) {
        if (v.is_null()) {
          merged.erase(k);
        } else {
          SB_ASSIGN_OR_RETURN(merged[k], JsonToString(v));
        }
      }
      SB_RETURN_IF_ERROR(ValidateCustomMetadata(merged));
      meta->custom_metadata = std::move(merged);
    }
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta));
  return resp;
}

Result<Response> KvV2Backend::DeleteMetadata(Request&, FieldData& fd) {
  std::string key = PathOf(fd);
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  std::vector<WriteOp> ops;
  for (const auto& [n, vm] : meta->versions) ops.push_back(WriteOp::Delete(meta->VersionKey(n)));
  ops.push_back(WriteOp::Delete(kMetadataPrefix + key));
  SB_RETURN_IF_ERROR(config_.storage->Batch(ops));
  return Response::Empty();
}

Result<Response> KvV2Backend::ListMetadata(Request& req, FieldData& fd) {
  std::string dir = PathOf(fd);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  bool recursive = false;
  RecursiveListOptions opts;
  SB_RETURN_IF_ERROR(ParseRecursiveListOptions(req.data, &recursive, &opts));
  bool exclude_deleted = false;
  if (req.data.is_object() && req.data.contains("exclude_deleted")) {
    auto b = JsonToBool(req.data["exclude_deleted"]);
    if (!b.ok()) return InvalidArgument("error converting input for field \"exclude_deleted\": expected a boolean");
    exclude_deleted = *b;
  }
  // Hides keys whose current version carries any deletion_time.
  auto hidden = [&](const std::string& rel) -> Result<bool> {
    if (!exclude_deleted || rel.empty() || rel.back() == '/') return false;
    SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(dir + rel));
    if (!meta) return true;
    auto it = meta->versions.find(meta->current);
    return it != meta->versions.end() && it->second.deletion != 0;
  };
  std::string prefix = kMetadataPrefix + dir;
  if (recursive) {
    SB_ASSIGN_OR_RETURN(auto page, ListRecursivePage(*config_.storage, prefix, opts));
    if (exclude_deleted) {
      std::vector<std::string> kept;
      for (auto& k : page.keys) {
        SB_ASSIGN_OR_RETURN(bool h, hidden(k));
        if (!h) kept.push_back(std::move(k));
      }
      page.keys = std::move(kept);
    }
    return RecursiveListResponse(page);
  }
  SB_ASSIGN_OR_RETURN(auto keys, config_.storage->List(prefix));
  if (exclude_deleted) {
    std::vector<std::string> kept;
    for (auto& k : keys) {
      SB_ASSIGN_OR_RETURN(bool h, hidden(k));
      if (!h) kept.push_back(std::move(k));
    }
    keys = std::move(kept);
  }
  return Response::WithData(Json{{"keys", std::move(keys)}});
}

// ---- move (Sealbox extension) ----

Result<Response> KvV2Backend::Move(Request&, FieldData& fd) {
  SB_ASSIGN_OR_RETURN(std::string from, fd.GetString("from"));
  SB_ASSIGN_OR_RETURN(std::string to, fd.GetString("to"));
  SB_RETURN_IF_ERROR(ValidateKeyPath(from, "from"));
  SB_RETURN_IF_ERROR(ValidateKeyPath(to, "to"));
  if (from == to) return InvalidArgument("\"from\" and \"to\" must name different keys");

  // Both keys' stripes, in index order so two opposite moves cannot deadlock.
  size_t a = locks_.Index(from), b = locks_.Index(to);
  std::unique_lock la(locks_.At(std::min(a, b)));
  std::unique_lock<std::shared_mutex> lb;
  if (a != b) lb = std::unique_lock(locks_.At(std::max(a, b)));

  SB_ASSIGN_OR_RETURN(auto src, LoadMeta(from));
  if (!src) return NotFound("no secret at \"" + from + "\"");
  SB_ASSIGN_OR_RETURN(auto dst, LoadMeta(to));
  if (dst) return InvalidArgument("a secret already exists at \"" + to + "\"; move never overwrites");
  // The versions stay where they are: they hang off the key id, which moves
  // with the metadata.
  SB_RETURN_IF_ERROR(SaveMeta(to, *src, {WriteOp::Delete(kMetadataPrefix + from)}));
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
