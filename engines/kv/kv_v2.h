// KvV2Backend: the versioned key/value store (`type: kv`, options.version
// "2"), wire-compatible with Vault's KV v2 (config, data, metadata, delete,
// undelete, destroy, subkeys) plus two Sealbox extensions: recursive
// paginated LIST on metadata/ and POST move (see engines/kv/README.md).
//
// Storage layout in the mount's view:
//   config                    mount-wide settings
//   metadata/<key>            key metadata: version map, settings, custom
//                             metadata and a random key id
//   versions/<key id>/<n>     the data of version n
// (each an object encoded with EncodeObject, see kv_common.h).
// Version entries are addressed by the key id, not the key, so a move is one
// atomic rewrite of the metadata entry, and key names never appear twice in
// storage. Every change writes the metadata and the version entries it
// touches in one atomic Storage::Batch, so a crash never leaves a version
// without metadata or the reverse.
//
// Thread-safety: HandleRequest may be called concurrently. Read-modify-write
// of one key runs under that key's stripe of KeyLocks (exclusive), reads take
// it shared.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "logical/routed_backend.h"
#include "engines/kv/kv_common.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {

class KvV2Backend final : public logical::RoutedBackend {
 public:
  // `config.storage` must outlive the backend; `config.clock` and
  // `config.mount` may be null (system clock, 1 MiB entry limit).
  explicit KvV2Backend(const logical::BackendConfig& config);
  ~KvV2Backend() override;

  // Turns every KV v1 entry left in the view (a v1 mount tuned to version 2)
  // into version 1 of a versioned key, one atomic batch per key, so an
  // interrupted upgrade resumes where it stopped. Idempotent.
  Status MigrateFromV1();

  struct KeyMeta;  // defined in kv_v2_meta.h
  struct Config;
  struct VersionChange;

 private:
  using Handler = Result<logical::Response> (KvV2Backend::*)(logical::Request&, logical::FieldData&);
  logical::Handler Bind(Handler h);
  // config, data/ and metadata/: the routes of whole keys.
  std::vector<logical::PathSpec> KeyRoutes();

  // Handlers, one per route and operation.
  Result<logical::Response> ReadConfig(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> WriteConfig(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> ReadData(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> WriteData(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> PatchData(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> DeleteLatest(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> DeleteVersions(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> UndeleteVersions(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> DestroyVersions(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> ReadMetadata(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> WriteMetadata(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> PatchMetadata(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> DeleteMetadata(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> ListMetadata(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> ReadSubkeys(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> Move(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> InvalidPath(logical::Request& req, logical::FieldData& fd);
  Result<bool> MetadataExists(logical::Request& req, logical::FieldData& fd);

  // Storage helpers.
  Result<Config> LoadConfig();
  Result<std::optional<KeyMeta>> LoadMeta(const std::string& key);
  // Appends version `current+1` holding `value` (EncodeObject of the data) to `meta`, prunes past
  // max_versions and writes everything (plus `extra` ops) in one batch.
  // Returns the write response (version metadata).
  Result<logical::Response> CommitVersion(const std::string& key, KeyMeta& meta, const Config& cfg,
                                          std::string value, std::vector<WriteOp> extra = {});
  // Writes the metadata entry (size-checked) plus `extra` ops atomically.
  Status SaveMeta(const std::string& key, const KeyMeta& meta, std::vector<WriteOp> extra = {});
  // The read/subkeys shape for one version, or an empty (404) response.
  Result<logical::Response> ReadVersion(logical::FieldData& fd, bool subkeys);
  // The skeleton of delete, undelete and destroy: under the key's lock,
  // `edit` runs on each of `versions` the key has, then the metadata and the
  // ops edit added are written in one batch. No key: an empty response.
  Result<logical::Response> EditVersions(const std::string& key, const std::vector<uint64_t>& versions,
                                         const std::function<void(VersionChange&)>& edit);
  // `keys` (relative to `dir`) without those whose current version is deleted.
  Result<std::vector<std::string>> WithoutDeleted(const std::string& dir, std::vector<std::string> keys);
  int64_t NowNanos() const;

  logical::BackendConfig config_;
  KeyLocks locks_;
};

}  // namespace sealbox::engines::kv
