#include "audit/socket_sink.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "audit/device_options.h"

namespace sealbox::audit {

Result<int> SocketSink::Connect(const std::string& type, const std::string& address) const {
  int fd = -1;
  if (type == "unix") {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (address.size() >= sizeof sa.sun_path) {
      if (fd >= 0) ::close(fd);
      return InvalidArgument("socket address too long");
    }
    std::memcpy(sa.sun_path, address.data(), address.size());
    if (fd < 0 || (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)) {
      if (fd >= 0) ::close(fd);
      return IOError("cannot connect audit socket");
    }
    return fd;
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("socket address must be host:port");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = type == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
    return IOError("cannot resolve audit socket");
  fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (fd < 0 || (rc != 0 && errno != EINPROGRESS)) {
    if (fd >= 0) ::close(fd);
    return IOError("cannot connect audit socket");
  }
  return fd;
}

Result<Sink::Opened> SocketSink::Open() {
  auto timeout = ParseDurationSeconds(OptionString(options_, "write_timeout", "2s"));
  timeout_ms_ = timeout.ok() && *timeout > 0 ? static_cast<int>(*timeout * 1000) : 2000;
  SB_ASSIGN_OR_RETURN(int fd, Connect(OptionString(options_, "socket_type", "tcp"), OptionString(options_, "address")));
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms_) != 1 || (p.revents & (POLLERR | POLLHUP))) {
    ::close(fd);
    return IOError("cannot connect audit socket");
  }
  fd_ = fd;
  return Opened{ChainOnOpen::kRestart, ""};
}

void SocketSink::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// A peer that stops reading cannot stall the server: every write is bounded.
Status SocketSink::Write(const std::string& line) {
  size_t off = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (off < line.size()) {
    ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IOError("audit socket write failed");
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd_, POLLOUT, 0};
    if (left <= 0 || ::poll(&p, 1, left) != 1) return IOError("audit socket write timed out");
  }
  return Status::Ok();
}

}  // namespace sealbox::audit
