#include "audit/audit_file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sealbox::audit {
namespace {

constexpr size_t kMaxPrefixBytes = 256;
// A first line longer than this is not taken for an audit entry.
constexpr off_t kMaxFirstLineBytes = 64 << 20;
// `,"chain":"` + 64 hex + `"}`: how every Sealbox line ends.
constexpr size_t kChainFieldBytes = 10 + 64 + 2;

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

bool IsLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The chain value a complete Sealbox line ends with, or "" if `line` does
// not end like one.
std::string ChainOf(std::string_view line) {
  if (line.size() < kChainFieldBytes || line.back() != '}') return "";
  std::string_view tail = line.substr(line.size() - kChainFieldBytes);
  if (!tail.starts_with(",\"chain\":\"") || tail[kChainFieldBytes - 2] != '"') return "";
  std::string_view hex = tail.substr(10, 64);
  return IsLowerHex(hex) ? std::string(hex) : "";
}

bool ReadAt(int fd, off_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, offset + static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// The file's first line (without its newline), or nullopt-like false when
// it has none within kMaxFirstLineBytes.
bool FirstLine(int fd, off_t size, std::string* line) {
  line->clear();
  std::string chunk;
  for (off_t at = 0; at < size && at < kMaxFirstLineBytes; at += static_cast<off_t>(chunk.size())) {
    size_t n = static_cast<size_t>(std::min<off_t>(size - at, 64 << 10));
    if (!ReadAt(fd, at, n, &chunk)) return false;
    size_t nl = chunk.find('\n');
    if (nl != std::string::npos) {
      line->append(chunk, 0, nl);
      return true;
    }
    line->append(chunk);
  }
  return false;
}

// The last non-empty line, reading from the end: audit files grow to
// gigabytes, and each open continues the chain from their last line.
std::string LastLine(int fd, off_t size) {
  std::string tail;
  for (off_t window = 64 << 10;; window *= 4) {
    const off_t start = std::max<off_t>(0, size - window);
    if (!ReadAt(fd, start, static_cast<size_t>(size - start), &tail)) return "";
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    const size_t nl = tail.rfind('\n');
    if (nl != std::string::npos) return tail.substr(nl + 1);
    if (start == 0) return tail;
  }
}

// True when the non-empty regular file `fd` is a Sealbox audit log written
// with `prefix` (see the header); sets *last_chain from its last line.
bool IsSealboxAuditLog(int fd, off_t size, const std::string& prefix, std::string* last_chain) {
  std::string first;
  if (!FirstLine(fd, size, &first)) return false;
  std::string_view body(first);
  if (!body.starts_with(prefix)) return false;
  body.remove_prefix(prefix.size());
  if (!body.starts_with("{\"chain_start\":\"") && !body.starts_with("{\"time\":\"")) return false;
  if (ChainOf(body).empty()) return false;
  std::string last = LastLine(fd, size);
  *last_chain = std::string_view(last).starts_with(prefix) ? ChainOf(std::string_view(last).substr(prefix.size())) : "";
  return true;
}

// The directory `dirfd` refers to, symbolic links resolved.
std::string RealDir(int dirfd, const std::string& fallback) {
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(dirfd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  char* real = ::realpath(fallback.c_str(), nullptr);  // no /proc: racy, but still resolved
  if (!real) return "";
  std::string out(real);
  ::free(real);
  return out;
}

Status CheckConfined(int dirfd, const std::string& dir, const std::string& path,
                     const std::vector<std::string>& allowed_dirs) {
  if (allowed_dirs.empty()) return Status::Ok();
  const std::string real = RealDir(dirfd, dir);
  for (const std::string& allowed : allowed_dirs) {
    char* r = ::realpath(allowed.c_str(), nullptr);
    if (!r) continue;
    std::string root(r);
    ::free(r);
    if (root == "/" || real == root || (real.size() > root.size() && real.starts_with(root) && real[root.size()] == '/'))
      return Status::Ok();
  }
  return InvalidArgument("file_path \"" + path + "\" is outside the server's audit_file_dirs");
}

Status NotAuditFile(const std::string& path, const char* why) {
  return InvalidArgument("file_path \"" + path + "\" " + why + "; refusing to write audit entries to it");
}

}  // namespace

Status CheckAuditPrefix(const std::string& prefix, const FileDeviceLimits& limits) {
  if (prefix.empty()) return Status::Ok();
  if (!limits.allow_prefix) return InvalidArgument("audit log prefixing is not allowed");
  if (prefix.size() > kMaxPrefixBytes) return InvalidArgument("prefix is longer than 256 bytes");
  for (unsigned char c : prefix)
    if (c < 0x20 || c == 0x7f) return InvalidArgument("prefix must not contain a line break or control character");
  return Status::Ok();
}

Result<mode_t> ParseAuditFileMode(const std::string& text) {
  if (text.empty()) return mode_t{0600};
  if (text.size() > 5) return InvalidArgument("invalid file mode");
  mode_t m = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return InvalidArgument("invalid file mode");
    m = m * 8 + static_cast<mode_t>(c - '0');
  }
  if (m > 07777) return InvalidArgument("invalid file mode");
  if (m & (S_ISUID | S_ISGID | S_ISVTX | S_IXUSR | S_IXGRP | S_IXOTH))
    return InvalidArgument("file mode must not grant execute, setuid, setgid or sticky bits (use 0600 or 0640)");
  return m;
}

Result<OpenedAuditFile> OpenAuditFile(const std::string& path, mode_t mode, const std::string& prefix,
                                      const FileDeviceLimits& limits) {
  if (path.empty() || path.front() != '/') return InvalidArgument("file_path must be absolute");
  const size_t slash = path.rfind('/');
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return InvalidArgument("file_path must name a file");
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0) return IOError("cannot open audit file");
  SB_RETURN_IF_ERROR(CheckConfined(dirfd.get(), dir, path, limits.allowed_dirs));

  // O_NONBLOCK so a FIFO nobody reads fails at once instead of hanging us;
  // O_NOFOLLOW so a link never redirects the write; O_EXCL tells a file we
  // create from one that was there.
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
  bool created = false;
  UniqueFd fd;
  for (int attempt = 0; attempt < 2 && fd.get() < 0; ++attempt) {
    struct stat before;
    if (::fstatat(dirfd.get(), name.c_str(), &before, AT_SYMLINK_NOFOLLOW) == 0) {
      // Type first: opening a device file can act on it (a watchdog, a tape).
      if (S_ISLNK(before.st_mode)) return NotAuditFile(path, "is a symbolic link");
      if (!S_ISREG(before.st_mode) && !S_ISFIFO(before.st_mode)) return NotAuditFile(path, "is not a regular file");
      fd.reset(::openat(dirfd.get(), name.c_str(), flags));
    } else {
      fd.reset(::openat(dirfd.get(), name.c_str(), flags | O_CREAT | O_EXCL, mode == 0 ? 0600 : mode));
      created = fd.get() >= 0;
      if (!created && errno == EEXIST) continue;  // created meanwhile: look again
    }
    if (fd.get() < 0) {
      if (errno == ELOOP) return NotAuditFile(path, "is a symbolic link");
      return IOError("cannot open audit file");
    }
  }
  if (fd.get() < 0) return IOError("cannot open audit file");
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IOError("cannot open audit file");
  OpenedAuditFile out;
  if (S_ISFIFO(st.st_mode)) {  // a pipe to a log shipper: its mode is its owner's
    out.fd = fd.release();
    return out;
  }
  if (!S_ISREG(st.st_mode)) return NotAuditFile(path, "is not a regular file");
  if (created) {
    if (mode != 0) ::fchmod(fd.get(), mode);  // exactly the mode asked for, whatever the umask
    out.fd = fd.release();
    return out;
  }
  if (st.st_size > 0) {
    UniqueFd reader(::openat(dirfd.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat rst;
    if (reader.get() < 0 || ::fstat(reader.get(), &rst) != 0 || rst.st_ino != st.st_ino || rst.st_dev != st.st_dev)
      return NotAuditFile(path, "cannot be read back to check that it is an audit log");
    if (!IsSealboxAuditLog(reader.get(), st.st_size, prefix, &out.last_chain))
      return NotAuditFile(path, "exists and is not a Sealbox audit log");
    out.appending = true;
  }
  // Never widen an existing file's mode: only the bits both allow remain.
  const mode_t current = st.st_mode & 07777;
  if (mode != 0 && (current & mode) != current) ::fchmod(fd.get(), current & mode);
  out.fd = fd.release();
  return out;
}

}  // namespace sealbox::audit
