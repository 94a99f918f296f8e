#include "audit/file_sink.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>

namespace sealbox::audit {
namespace {

// FIFOs and network filesystems (NFS, SMB, FUSE, Ceph, 9p...) can block a
// write for as long as their peer or server is away; local files cannot
// (beyond writeback throttling), and keep the cheaper in-thread write.
bool FileMayStall(int fd) {
  struct stat st;
  if (::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) return true;
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<uint32_t>(fs.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE
    case 0x00C36400:  // Ceph
    case 0x01021997:  // 9p
    case 0x5346414F:  // AFS
      return true;
    default:
      return false;
  }
}

}  // namespace

Status WriteFully(int fd, std::string_view data, bool sync) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC ? StorageFull() : IOError("audit write failed");
    }
    off += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd) != 0) return IOError("audit fsync failed");
  return Status::Ok();
}

Result<Sink::Opened> FileSink::Open() {
  if (path_ == "discard") {
    fd_ = -1;
    suspends_ = true;
    return Opened{};
  }
  if (path_ == "stdout") {
    fd_ = STDOUT_FILENO;
    return Opened{};
  }
  SB_ASSIGN_OR_RETURN(mode_t mode, ParseAuditFileMode(mode_));
  SB_ASSIGN_OR_RETURN(OpenedAuditFile file, OpenAuditFile(path_, mode, prefix_, limits_));
  may_stall_ = FileMayStall(file.fd);
  fd_ = file.fd;
  suspends_ = !may_stall_ && !fsync_;
  // Continue the chain of a file we append to.
  if (file.appending) return Opened{ChainOnOpen::kResume, file.last_chain};
  return Opened{ChainOnOpen::kRestart, ""};
}

void FileSink::Close() {
  if (fd_ > STDOUT_FILENO) ::close(fd_);
  fd_ = -1;
  suspends_ = false;
}

Status FileSink::Write(const std::string& line) {
  if (fd_ < 0) return Status::Ok();  // discard
  return WriteFully(fd_, line, false);
}

}  // namespace sealbox::audit
