// A local directory of snapshot files, as scheduled snapshots write them
// (core/snapshot_scheduler.h, docs/operations.md): `<file_prefix>-<unix
// nanoseconds>.snap`, each written whole or not at all (a temporary file,
// fsync, rename, fsync of the directory), mode 0600 in a directory of mode
// 0700, the oldest removed beyond a count, the total bounded in bytes.
// Stateless: every call reads the directory afresh. Thread-compatible per
// directory (one writer, the scheduler's thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sealbox::snapshot {

struct LocalTarget {
  std::string directory;     // absolute
  std::string file_prefix;   // no '/', not empty
  int retain = 1;            // files kept after a write (>= 1)
  uint64_t max_space = 0;    // bytes all this prefix's files may use; 0: unlimited
};

struct SnapshotFile {
  std::string path;
  int64_t stamp = 0;  // unix nanoseconds, from the name
  uint64_t size = 0;
};

// The prefix's snapshot files in `directory`, oldest first. Other files
// (another prefix, temporaries) are not listed.
Result<std::vector<SnapshotFile>> ListSnapshotFiles(const std::string& directory, const std::string& file_prefix);

// Writes `archive` as a new file named for `stamp_nanos` (creating the
// directory, mode 0700, if missing), then removes the oldest files beyond
// `retain`. With max_space set, refuses (InvalidArgument,
// nothing written) when the files kept plus the new one would exceed it.
// Returns the new file's path. Errors name the directory, never the data.
Result<std::string> WriteSnapshotFile(const LocalTarget& target, std::string_view archive, int64_t stamp_nanos);

// Checks a target's shape (absolute directory, prefix without '/', retain
// >= 1) before it is stored.
Status ValidateLocalTarget(const LocalTarget& target);

}  // namespace sealbox::snapshot
