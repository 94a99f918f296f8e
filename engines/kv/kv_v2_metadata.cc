// KV v2 handlers on a key's metadata: metadata/ (read, write, patch, delete,
// list, with custom_metadata's validation) and move (a Sealbox extension).
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "base/clock.h"
#include "engines/kv/kv_v2.h"
#include "engines/kv/kv_v2_meta.h"

namespace sealbox::engines::kv {

using logical::FieldData;
using logical::Request;
using logical::Response;

namespace {

constexpr size_t kMaxCustomMetadataKeys = 64;
constexpr size_t kMaxCustomMetadataKeyLength = 128;
constexpr size_t kMaxCustomMetadataValueLength = 512;
constexpr const char* kCustomMetadataPrefix = "custom_metadata validation failed";
constexpr const char* kCasMandatedWarning =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.";

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

// PATCH of custom_metadata: null clears it; otherwise a merge patch of the
// stored map (null values remove keys), validated whole.
Result<Json> PatchCustomMetadata(const Json& stored, const Json& patch) {
  if (patch.is_null()) return Json(nullptr);
  if (!patch.is_object()) return InvalidArgument(std::string(kCustomMetadataPrefix) + ": expected a map of strings");
  Json merged = stored.is_object() ? stored : Json::object();
  for (auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      merged.erase(k);
    } else {
      SB_ASSIGN_OR_RETURN(merged[k], JsonToString(v));
    }
  }
  SB_RETURN_IF_ERROR(ValidateCustomMetadata(merged));
  return merged;
}

}  // namespace

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

Result<Response> KvV2Backend::WriteMetadata(Request&, FieldData& fd) {
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
  if (c_ok && cfg.cas_required && !cas) resp.warnings.push_back(kCasMandatedWarning);

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
    if (cfg.cas_required && !cas) resp.warnings.push_back(kCasMandatedWarning);
    meta->cas_required = cas;
  }
  if (fd.Has("delete_version_after")) {
    SB_ASSIGN_OR_RETURN(int64_t dva, fd.GetDuration("delete_version_after"));
    if (dva < 0) return InvalidArgument("delete_version_after cannot be negative");
    meta->delete_version_after = dva;
  }
  if (fd.Has("custom_metadata")) {
    SB_ASSIGN_OR_RETURN(meta->custom_metadata, PatchCustomMetadata(meta->custom_metadata, fd.Get("custom_metadata")));
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

// Keys under `dir` whose current version carries no deletion_time (folders
// kept), for LIST's exclude_deleted.
Result<std::vector<std::string>> KvV2Backend::WithoutDeleted(const std::string& dir, std::vector<std::string> keys) {
  std::vector<std::string> kept;
  for (auto& rel : keys) {
    if (!rel.empty() && rel.back() != '/') {
      SB_ASSIGN_OR_RETURN(auto meta, LoadMeta(dir + rel));
      if (!meta) continue;
      auto it = meta->versions.find(meta->current);
      if (it != meta->versions.end() && it->second.deletion != 0) continue;
    }
    kept.push_back(std::move(rel));
  }
  return kept;
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
  std::string prefix = kMetadataPrefix + dir;
  if (recursive) {
    SB_ASSIGN_OR_RETURN(auto page, ListRecursivePage(*config_.storage, prefix, opts));
    if (exclude_deleted) {
      SB_ASSIGN_OR_RETURN(page.keys, WithoutDeleted(dir, std::move(page.keys)));
    }
    return RecursiveListResponse(page);
  }
  SB_ASSIGN_OR_RETURN(auto keys, config_.storage->List(prefix));
  if (exclude_deleted) {
    SB_ASSIGN_OR_RETURN(keys, WithoutDeleted(dir, std::move(keys)));
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

}  // namespace sealbox::engines::kv
