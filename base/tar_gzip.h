// Tar (USTAR, regular files only) and gzip: the layers of online snapshots
// (storage/snapshot_archive.cc) and of `sealbox debug` bundles. Whole
// archives in memory (WriteTar, Gzip, the readers), or written piece by
// piece (TarHeader/TarPadding/TarEnd through a GzipWriter) so a large
// archive never sits in memory. Reading is bounded and refuses anything
// malformed with InvalidArgument saying what; nothing here knows what the
// files hold.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sealbox::archive {

// Files (name up to 99 bytes, mode 0600) in order, then the end marker.
std::string WriteTar(const std::vector<std::pair<std::string, std::string>>& files, int64_t mtime);
Result<std::vector<std::pair<std::string, std::string>>> ReadTar(std::string_view tar);
Result<std::string> Gzip(std::string_view data);
// kTooLarge once the output passes max_bytes (a gzip bomb stops there).
Result<std::string> Gunzip(std::string_view data, size_t max_bytes);

// A tar written piece by piece: a file is its header, its `size` bytes, then
// its padding; the archive ends with TarEnd().
std::string TarHeader(std::string_view name, uint64_t size, int64_t mtime);
std::string_view TarPadding(uint64_t size);
std::string_view TarEnd();

// Gzip as the data comes: the compressed bytes go to `sink` as they are made,
// in pieces of at most kPieceBytes, so the writer holds no more than zlib's
// state and one piece. A sink's error stops the writer (every later call
// returns it). Not thread-safe.
class GzipWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;
  static constexpr size_t kPieceBytes = 64 * 1024;
  // `level`: zlib's 1 (fast) to 9 (small); -1 for its default.
  explicit GzipWriter(Sink sink, int level = -1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  Status Write(std::string_view data);
  // Ends the stream (the gzip trailer); nothing may be written after.
  Status Finish();

 private:
  Status Deflate(std::string_view data, int flush);
  struct Stream;
  std::unique_ptr<Stream> z_;
  Sink sink_;
  std::string piece_;
  Status status_;
};

}  // namespace sealbox::archive
