// Snapshot archives: the file `GET sys/storage/raft/snapshot` answers and
// `POST sys/storage/raft/snapshot` takes back (docs/operations.md).
//
// A gzip'd tar, as Vault's, so `bao operator raft snapshot save` accepts it
// (the CLI checks that a non-empty SHA256SUMS.sealed is in the archive). The
// content is ours, not raft's:
//   meta.json          the manifest: format version, cluster id, storage type,
//                      creation time, entry count (no key material)
//   state.sealbox      every physical entry, still barrier-encrypted:
//                      [u32 key length][key][u32 value length][value]...,
//                      lengths big endian, keys ascending
//   SHA256SUMS         "<hex sha-256>  <name>\n" for the two files above
//   SHA256SUMS.sealed  SHA256SUMS encrypted by the vault's barrier, so only
//                      a vault with the same keyring can verify it
// Pure functions of bytes: no storage, no keys (the caller seals and opens
// SHA256SUMS). Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sealbox::snapshot {

inline constexpr int kFormatVersion = 1;
// The largest state a snapshot holds, uncompressed: snapshots are built and
// read in memory (the HTTP layer buffers bodies), so the bound is explicit.
inline constexpr size_t kMaxStateBytes = size_t{512} << 20;
inline constexpr const char* kSealedSumsFile = "SHA256SUMS.sealed";

struct Manifest {
  int version = kFormatVersion;
  std::string cluster_id;    // the vault's cluster id (public: seal-status shows it)
  std::string storage_type;  // "rocksdb", "inmem"
  int64_t created_unix = 0;
  uint64_t entries = 0;
};

// Collects entries (in key order), then writes the archive.
class ArchiveBuilder {
 public:
  // kTooLarge once the state passes `max_state_bytes`.
  explicit ArchiveBuilder(size_t max_state_bytes = kMaxStateBytes) : max_state_bytes_(max_state_bytes) {}
  Status Add(std::string_view key, std::string_view value);
  uint64_t entries() const { return entries_; }
  // `seal` turns SHA256SUMS into SHA256SUMS.sealed (non-empty).
  Result<std::string> Finish(Manifest manifest, const std::function<Result<std::string>(std::string_view)>& seal);

 private:
  size_t max_state_bytes_;
  std::string state_;
  uint64_t entries_ = 0;
};

struct Contents {
  Manifest manifest;
  std::vector<std::pair<std::string, std::string>> entries;
  std::string sums;         // SHA256SUMS, already checked against the files
  std::string sealed_sums;  // SHA256SUMS.sealed, for the caller to open
};

// Unpacks and checks an archive: the gzip stream, the tar headers, every
// file's SHA-256 against SHA256SUMS, the manifest and the state records.
// Anything truncated, altered or not ours: InvalidArgument saying what.
Result<Contents> ReadArchive(std::string_view archive, size_t max_state_bytes = kMaxStateBytes);

}  // namespace sealbox::snapshot
