// Snapshot archives: the file `GET sys/storage/raft/snapshot` answers and
// `POST sys/storage/raft/snapshot` takes back (docs/operations.md).
//
// A gzip'd tar, as Vault's, so `bao operator raft snapshot save` accepts it
// (the CLI checks that a non-empty SHA256SUMS.sealed is in the archive). The
// content is ours, not raft's. Format 2, in this order:
//   state.sealbox.000000, .000001, ...
//                      the state, cut into parts of kStatePartBytes (the last
//                      shorter); their concatenation is "state.sealbox":
//                      every physical entry, still barrier-encrypted:
//                      [u32 key length][key][u32 value length][value]...,
//                      lengths big endian, keys ascending. A record may span
//                      two parts.
//   meta.json          the manifest: format version, cluster id, storage type,
//                      creation time, entry count (no key material)
//   SHA256SUMS         "<hex sha-256>  <name>\n" for meta.json and the
//                      concatenated state.sealbox
//   SHA256SUMS.sealed  SHA256SUMS encrypted by the vault's barrier, so only
//                      a vault with the same keyring can verify it
// Why parts: a tar header gives a file's size before its bytes, and the
// state's size is known only once the whole store is read. Parts of a fixed
// size let the writer stream the archive in one pass over one consistent
// scan, holding one part in memory (no second pass, no temp file); meta.json
// (the entry count) and the sums follow the state for the same reason.
// Format 1 (meta.json, one state.sealbox, SHA256SUMS, SHA256SUMS.sealed) is
// still read. Pure functions of bytes: no storage, no keys (the caller seals
// and opens SHA256SUMS). Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "base/status.h"
#include "base/tar_gzip.h"

namespace sealbox::snapshot {

inline constexpr int kFormatVersion = 2;
// The state's parts (the memory a writer holds, besides zlib's state).
inline constexpr size_t kStatePartBytes = size_t{8} << 20;
// The largest state a restore reads, uncompressed: a restore takes the
// archive in memory (the HTTP layer buffers request bodies), so the bound is
// explicit; a scheduled snapshot, built in memory, holds at most this much
// archive. The online save streams and has no such bound.
inline constexpr size_t kMaxStateBytes = size_t{512} << 20;
inline constexpr const char* kSealedSumsFile = "SHA256SUMS.sealed";

struct Manifest {
  int version = kFormatVersion;
  std::string cluster_id;    // the vault's cluster id (public: seal-status shows it)
  std::string storage_type;  // "rocksdb", "inmem"
  int64_t created_unix = 0;
  uint64_t entries = 0;
};

// Writes an archive as the entries come (in key order): its gzip'd bytes go
// to `sink` in pieces of at most 64 KiB as they are made. Memory: one state
// part and zlib's state, whatever the store's size.
class ArchiveWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;
  // Snapshots are gzip'd at zlib's fastest level: the values are ciphertext,
  // which does not compress.
  ArchiveWriter(Sink sink, int64_t mtime, size_t part_bytes = kStatePartBytes);
  ~ArchiveWriter();
  Status Add(std::string_view key, std::string_view value);
  uint64_t entries() const { return entries_; }
  // `seal` turns SHA256SUMS into SHA256SUMS.sealed (non-empty). A sink's
  // error stops the writer: Add and Finish return it.
  Status Finish(Manifest manifest, const std::function<Result<std::string>(std::string_view)>& seal);

 private:
  Status Append(std::string_view bytes);
  Status WritePart();
  Status WriteFile(std::string_view name, std::string_view data);

  std::unique_ptr<archive::GzipWriter> gz_;
  int64_t mtime_;
  size_t part_bytes_;
  std::string part_;  // state bytes not written yet, < part_bytes_
  int parts_ = 0;
  crypto::Sha256Stream state_sum_;
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
