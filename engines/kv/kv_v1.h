// KvV1Backend: the unversioned key/value store (Vault's "passthrough" kv,
// `type: kv` with options.version "1"), and in cubbyhole mode the per-token
// private store mounted at cubbyhole/.
//
// Each key holds one JSON object (stored with EncodeObject), replaced whole
// on write.
// Storage layout in the mount's view:
//   kv:        v1/<key>                (the prefix keeps a later v2 upgrade clean)
//   cubbyhole: <token storage id>/<key> (a token can only form keys under its own id)
//
// Thread-safety: HandleRequest may be called concurrently; every operation is
// a single Storage call, so no extra locking is needed.
#pragma once

#include <string>

#include "logical/routed_backend.h"

namespace sealbox::engines::kv {

class KvV1Backend final : public logical::RoutedBackend {
 public:
  enum class Mode { kKv, kCubbyhole };

  // `config.storage` must outlive the backend; `config.mount` may be null
  // (then the system default TTL and the default 1 MiB entry limit apply).
  KvV1Backend(const logical::BackendConfig& config, Mode mode);

  // The storage prefix under which KV v1 keeps its keys ("v1/").
  static constexpr const char* kV1Prefix = "v1/";

 private:
  // The storage key prefix for this request: "v1/" or "<storage id>/".
  Result<std::string> BasePrefix(const logical::Request& req) const;

  Result<logical::Response> Read(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> Write(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> List(logical::Request& req, logical::FieldData& fd);
  Result<logical::Response> Delete(logical::Request& req, logical::FieldData& fd);
  Result<bool> Exists(logical::Request& req, logical::FieldData& fd);

  logical::BackendConfig config_;
  Mode mode_;
};

}  // namespace sealbox::engines::kv
