// KV v2 handlers on a key's versions: data/ and subkeys/ (read, write,
// patch, delete the latest) and the version operations delete/, undelete/
// and destroy/, which share one skeleton (EditVersions).
#include <charconv>
#include <mutex>
#include <shared_mutex>

#include "engines/kv/kv_v2.h"
#include "engines/kv/kv_v2_meta.h"

namespace sealbox::engines::kv {

using logical::FieldData;
using logical::Request;
using logical::Response;

namespace {

// "versions" as an int list: [1,2], ["1","2"] or "1,2"; `none` is the
// error when it names no version.
Result<std::vector<uint64_t>> ListedVersions(const FieldData& fd, const char* none) {
  SB_ASSIGN_OR_RETURN(auto list, fd.GetStringList("versions"));
  std::vector<uint64_t> out;
  for (const auto& s : list) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
      return InvalidArgument("error converting input for field \"versions\": expected a list of integers");
    if (v > 0) out.push_back(static_cast<uint64_t>(v));
  }
  if (out.empty()) return InvalidArgument(none);
  return out;
}

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

// Marks a live version deleted at `now`; false when it is already deleted
// or destroyed.
bool SoftDelete(VersionMeta& vm, int64_t now) {
  if (vm.destroyed || IsDeleted(vm, now)) return false;
  vm.deletion = now;
  return true;
}

}  // namespace

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
  const char* field = subkeys ? "subkeys" : "data";
  Json body = Json::object();
  body.get_ref<Json::object_t&>().emplace(field, nullptr);
  body.get_ref<Json::object_t&>().emplace("metadata", meta->VersionApiJson(n, vm));
  Response resp = Response::WithData(std::move(body));
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
  if (it == meta->versions.end() || !SoftDelete(it->second, NowNanos())) return Response::Empty();
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta));
  return Response::Empty();
}

// ---- delete / undelete / destroy ----

Result<Response> KvV2Backend::EditVersions(const std::string& key, const std::vector<uint64_t>& versions,
                                           const std::function<void(VersionChange&)>& edit) {
  std::unique_lock l(locks_.For(key));
  SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(key));
  if (!meta) return Response::Empty();
  const int64_t now = NowNanos();
  std::vector<WriteOp> ops;
  for (uint64_t n : versions) {
    auto it = meta->versions.find(n);
    if (it == meta->versions.end()) continue;
    VersionChange change{*meta, n, it->second, now, ops};
    edit(change);
  }
  SB_RETURN_IF_ERROR(SaveMeta(key, *meta, std::move(ops)));
  return Response::Empty();
}

Result<Response> KvV2Backend::DeleteVersions(Request&, FieldData& fd) {
  SB_ASSIGN_OR_RETURN(auto versions, ListedVersions(fd, "No version number provided"));
  return EditVersions(PathOf(fd), versions, [](VersionChange& c) { SoftDelete(c.version, c.now); });
}

Result<Response> KvV2Backend::UndeleteVersions(Request&, FieldData& fd) {
  SB_ASSIGN_OR_RETURN(auto versions, ListedVersions(fd, "No version number provided"));
  SB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  return EditVersions(PathOf(fd), versions, [&cfg](VersionChange& c) {
    // Re-armed from now when delete_version_after applies.
    if (!c.version.destroyed) c.version.deletion = DeletionTime(c.now, cfg, c.meta);
  });
}

Result<Response> KvV2Backend::DestroyVersions(Request&, FieldData& fd) {
  SB_ASSIGN_OR_RETURN(auto versions, ListedVersions(fd, "no version number provided"));
  return EditVersions(PathOf(fd), versions, [](VersionChange& c) {
    if (c.version.destroyed) return;
    c.version.destroyed = true;
    c.ops.push_back(WriteOp::Delete(c.meta.VersionKey(c.n)));
  });
}

}  // namespace sealbox::engines::kv
