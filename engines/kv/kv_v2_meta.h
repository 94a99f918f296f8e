// KV v2's stored types (mount config, key metadata, version metadata), their
// stored and API shapes, and the helpers the handler files share. Internal
// to engines/kv: the kv_v2*.cc files include it, nothing else does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "engines/kv/kv_v2.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {

inline constexpr uint64_t kDefaultMaxVersions = 10;
inline constexpr const char* kConfigKey = "config";
inline constexpr const char* kMetadataPrefix = "metadata/";
inline constexpr const char* kVersionsPrefix = "versions/";

struct KvV2Backend::Config {
  uint64_t max_versions = 0;         // 0: unset (effective 10)
  bool cas_required = false;
  int64_t delete_version_after = 0;  // seconds; 0 unset, -1 disabled

  Json ToJson() const;
  static Result<Config> FromJson(const Json& j);
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

  Json ToJson() const;
  static Result<KeyMeta> FromJson(const Json& j);
  // The version map as the metadata endpoint shows it.
  Json VersionsApiJson() const;
  // One version's metadata as data reads and writes show it.
  Json VersionApiJson(uint64_t n, const VersionMeta& vm) const;
};

using KeyMeta = KvV2Backend::KeyMeta;
using Config = KvV2Backend::Config;

// One listed version of a key, as a version operation (delete, undelete,
// destroy) changes it.
struct KvV2Backend::VersionChange {
  const KeyMeta& meta;
  uint64_t n;
  VersionMeta& version;
  int64_t now;
  std::vector<WriteOp>& ops;  // storage ops written with the metadata
};

// The stored form of `meta`: exactly EncodeObject(meta.ToJson()), written
// without building the Json (kv_v2_meta_codec.cc).
std::string EncodeKeyMeta(const KeyMeta& meta);
// Reads what EncodeKeyMeta writes; nullopt for any other shape (JSON text,
// other types, unknown fields), which the caller decodes the general way.
std::optional<KeyMeta> DecodeKeyMeta(std::string_view raw);

// A new key's metadata, with a random key id.
KeyMeta NewKeyMeta(int64_t now);

// created + the smaller non-zero of the mount's and the key's
// delete_version_after; 0 when neither applies or the mount disabled it.
int64_t DeletionTime(int64_t from_nanos, const Config& cfg, const KeyMeta& meta);

inline bool IsDeleted(const VersionMeta& vm, int64_t now) { return vm.deletion != 0 && vm.deletion <= now; }

// RFC 3339 with nanoseconds, "" for 0.
std::string Timestamp(int64_t nanos);

// The route's "path" capture ("" when absent).
std::string PathOf(const logical::FieldData& fd);

inline bool EndsWithSlash(const std::string& s) { return !s.empty() && s.back() == '/'; }

// A non-negative integer field; InvalidArgument otherwise.
Result<int64_t> NonNegativeInt(const logical::FieldData& fd, const std::string& name);

// Vault's RespondWithStatusCode(nil, 404): a 404 with an empty body.
logical::Response NotFoundWithStatusOnly();

}  // namespace sealbox::engines::kv
