#include "storage/snapshot_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace sealbox::snapshot {
namespace {

constexpr const char* kSuffix = ".snap";

// Closes on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Status Failed(const std::string& what, const std::string& directory) {
  return IOError("cannot " + what + " in snapshot directory " + directory + ": " + std::strerror(errno));
}

// `<prefix>-<digits>.snap` → the digits; -1 for any other name.
int64_t StampOf(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() + 1 + std::strlen(kSuffix) || name.substr(0, prefix.size()) != prefix ||
      name[prefix.size()] != '-' || name.substr(name.size() - std::strlen(kSuffix)) != kSuffix)
    return -1;
  std::string_view digits = name.substr(prefix.size() + 1, name.size() - prefix.size() - 1 - std::strlen(kSuffix));
  if (digits.empty() || digits.size() > 19) return -1;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    if (v > (INT64_MAX - (c - '0')) / 10) return -1;  // not a stamp we wrote
    v = v * 10 + (c - '0');
  }
  return v;
}

Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Failed("create the directory", dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Failed("inspect the directory", dir);
  if (!S_ISDIR(st.st_mode)) return IOError("snapshot directory " + dir + " is not a directory");
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IOError(std::strerror(n < 0 ? errno : EIO));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// tmp file (0600, O_EXCL), fsync, rename over the final name, fsync the
// directory: the final name only ever holds a whole snapshot.
Status WriteAtomically(const std::string& dir, const std::string& name, std::string_view data) {
  const std::string final_path = dir + "/" + name;
  const std::string tmp_path = dir + "/." + name + ".tmp";
  ::unlink(tmp_path.c_str());  // left by a crash mid-write (one writer: the scheduler)
  Fd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.ok()) return Failed("create a file", dir);
  Status s = WriteAll(fd.get(), data);
  if (s.ok() && ::fsync(fd.get()) != 0) s = IOError(std::strerror(errno));
  if (s.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) s = IOError(std::strerror(errno));
  if (!s.ok()) {
    ::unlink(tmp_path.c_str());
    return IOError("cannot write a snapshot in snapshot directory " + dir + ": " + s.message());
  }
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.ok()) ::fsync(dfd.get());
  return Status::Ok();
}

}  // namespace

Status ValidateLocalTarget(const LocalTarget& t) {
  if (t.directory.empty() || t.directory.front() != '/')
    return InvalidArgument("path_prefix must be an absolute directory for storage_type \"local\"");
  if (t.directory.size() > 4096) return InvalidArgument("path_prefix is too long");
  if (t.file_prefix.empty() || t.file_prefix.size() > 200 || t.file_prefix.find('/') != std::string::npos ||
      t.file_prefix.front() == '.')
    return InvalidArgument("file_prefix must be a non-empty file name without '/' that does not start with '.'");
  if (t.retain < 1) return InvalidArgument("retain must be at least 1");
  return Status::Ok();
}

Result<std::vector<SnapshotFile>> ListSnapshotFiles(const std::string& directory, const std::string& file_prefix) {
  std::vector<SnapshotFile> files;
  DIR* d = ::opendir(directory.c_str());
  if (!d) {
    if (errno == ENOENT) return files;
    return Failed("list files", directory);
  }
  while (struct dirent* e = ::readdir(d)) {
    int64_t stamp = StampOf(e->d_name, file_prefix);
    if (stamp < 0) continue;
    std::string path = directory + "/" + e->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({std::move(path), stamp, static_cast<uint64_t>(st.st_size)});
  }
  ::closedir(d);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.stamp < b.stamp; });
  return files;
}

Result<std::string> WriteSnapshotFile(const LocalTarget& t, std::string_view archive, int64_t stamp_nanos) {
  SB_RETURN_IF_ERROR(ValidateLocalTarget(t));
  std::string dir = t.directory;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  SB_RETURN_IF_ERROR(EnsureDirectory(dir));
  SB_ASSIGN_OR_RETURN(auto existing, ListSnapshotFiles(dir, t.file_prefix));
  // The files that stay once this write is done: the newest retain-1.
  const size_t keep = static_cast<size_t>(t.retain) - 1;
  const size_t drop = existing.size() > keep ? existing.size() - keep : 0;
  if (t.max_space > 0) {
    uint64_t total = archive.size();
    for (size_t i = drop; i < existing.size(); ++i) total += existing[i].size;
    if (total > t.max_space)
      return InvalidArgument("snapshot not written: it would take the snapshots in " + dir + " to " +
                             std::to_string(total) + " bytes, over local_max_space (" +
                             std::to_string(t.max_space) + ")");
  }
  const std::string name = t.file_prefix + "-" + std::to_string(stamp_nanos) + kSuffix;
  SB_RETURN_IF_ERROR(WriteAtomically(dir, name, archive));
  // Only after the new file is durable: the oldest beyond `retain`.
  for (size_t i = 0; i < drop; ++i) {
    if (existing[i].path == dir + "/" + name) continue;
    ::unlink(existing[i].path.c_str());
  }
  return dir + "/" + name;
}

}  // namespace sealbox::snapshot
