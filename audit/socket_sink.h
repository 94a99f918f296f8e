// The sink of a "socket" audit device: one line per entry over TCP, UDP or a
// Unix stream socket, each connect and write bounded by write_timeout
// (default 2 s), so that a peer that stops reading cannot stall the server.
#pragma once

#include <string>

#include "audit/sink.h"
#include "base/json_util.h"

namespace sealbox::audit {

class SocketSink final : public Sink {
 public:
  // `options`: address, socket_type (tcp, udp, unix) and write_timeout.
  explicit SocketSink(Json options) : options_(std::move(options)) {}
  ~SocketSink() override { Close(); }

  Result<Opened> Open() override;
  void Close() override;
  Status Write(const std::string& line) override;

 private:
  // A connecting (non-blocking) socket to the configured address, or -1.
  Result<int> Connect(const std::string& type, const std::string& address) const;

  const Json options_;
  int fd_ = -1;
  int timeout_ms_ = 2000;
};

}  // namespace sealbox::audit
