// Tar (USTAR, regular files only) and gzip, in memory: the layers of online
// snapshots (storage/snapshot_archive.cc) and of `sealbox debug` bundles.
// Reading is bounded and refuses anything malformed with InvalidArgument
// saying what; nothing here knows what the files hold.
#pragma once

#include <cstdint>
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

}  // namespace sealbox::archive
