// Factories for the key/value engines, registered with core's
// BackendRegistry by main() (engines never include core/):
//
//   registry.Register("kv", engines::kv::Factory());
//   registry.Register("cubbyhole", engines::kv::CubbyholeFactory());
//
// Thread-safety: the factories are stateless and may be called concurrently.
#pragma once

#include <string>

#include "base/status.h"
#include "logical/backend.h"

namespace sealbox {
class Storage;
}

namespace sealbox::engines::kv {

// Type "kv": options.version "2" gives KV v2, "1", "" or no version KV v1.
// (The mounts API rewrites the kv-v1/kv-v2 aliases to type kv + version.) A
// KV v2 backend created over a view that still holds KV v1 entries (a v1
// mount tuned to version 2) migrates them before it serves requests.
logical::BackendFactory Factory();

// Type "cubbyhole": per-token private KV v1 storage.
logical::BackendFactory CubbyholeFactory();

// Deletes every cubbyhole entry of the token whose TokenInfo::storage_id is
// `storage_id`, in the cubbyhole mount's storage view (call on token revoke).
Status DeleteCubbyhole(Storage* view, const std::string& storage_id);

}  // namespace sealbox::engines::kv
