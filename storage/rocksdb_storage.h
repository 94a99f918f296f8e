// RocksDB physical storage: the embedded default backend.
//
// Every write goes through the WAL with sync=true, so a write that returned OK
// survives kill -9 and power loss. Concurrent writes share one synced write
// (storage/group_commit.h), each caller's batch whole within it. A full disk is reported as kStorageFull and
// the database stays readable. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"

namespace sealbox {

// Opens (creating if missing) the database directory at `path`.
Result<std::unique_ptr<Storage>> OpenRocksDbStorage(const std::string& path);

}  // namespace sealbox
