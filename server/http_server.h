// HttpServer: the HTTPS listener. Boost.Beast/Asio C++20 coroutines on two I/O
// threads, one coroutine per connection; each parsed request is handed to a
// worker pool (the logical layer blocks on RocksDB, libpq, TokenReview) and
// awaited. Enforces the listener limits: body size (413), header size, TLS
// handshake and header timeouts (slowloris), idle keep-alive timeout, request
// duration, and connection caps: global, per client address, and room kept
// under the global cap for light clients.
//
// Beast and Asio stay out of this header (pimpl). Thread-safety: Stop() and
// Reload() may be called from any thread; Run() from one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "api/http.h"
#include "base/status.h"
#include "server/cluster_tls.h"
#include "server/config.h"

namespace sealbox::server {

class HttpServer {
 public:
  struct Options {
    ListenerConfig listener;
    int io_threads = 2;
    int worker_threads = 8;        // blocking requests that mostly compute
    int wait_worker_threads = 32;  // requests that mostly wait (synced writes, remote services)
    // HA: the cluster listener (request forwarding from standbys), with the
    // listener's limits, mutual TLS with the cluster certificate, and
    // requests marked via_cluster. Empty address: none.
    std::string cluster_address;
    ClusterIdentitySource cluster_identity;
  };

  // Loads the certificate and binds the address. Errors are clear messages.
  static Result<std::unique_ptr<HttpServer>> Create(const Options& options, api::HttpHandler* handler);
  ~HttpServer();

  // The bound port (useful with port 0).
  uint16_t port() const;
  uint16_t cluster_port() const;  // 0 without a cluster listener
  // Serves until Stop() or SIGINT/SIGTERM; SIGHUP reloads the certificate and
  // runs the reload hook. In-flight requests finish (bounded) before it returns.
  void Run();
  // Stops accepting; Run() returns once in-flight requests have been answered
  // (at most 10 s), closing the remaining connections.
  void Stop();
  // What SIGHUP does: re-reads the certificate and key for new connections
  // (the old ones stay if that fails, with an error log), then runs the hook.
  void Reload();
  // Called on every reload, on an I/O thread (audit devices reopen files).
  void SetReloadHook(std::function<void()> hook);

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sealbox::server
