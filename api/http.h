// Plain HTTP request/response structs: the seam between server/ (sockets, TLS,
// Beast) and api/ (Vault's envelopes and status codes). No socket types here,
// so everything above the server is unit-testable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/task.h"

namespace sealbox::api {

struct HttpRequest {
  std::string method;  // as sent: "GET", "PUT", "LIST", ...
  std::string target;  // raw request target, e.g. "/v1/sys/health?standbyok=true"
  // Header names lowercased by the server; values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;
  uint16_t remote_port = 0;

  // Value of the first header named `lower_name`, or "" when absent.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return v;
    return {};
  }
  bool HasHeader(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return true;
    return false;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Handles one parsed request. Implementations are thread-safe: the server
// calls Handle concurrently from its worker pool. Handle never throws.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& req) = 0;
  // The same, suspending instead of blocking where it can: on the audit
  // writes of a NonBlocking request (AuditBroker). Runs on the I/O thread;
  // `resumer` resumes it there.
  virtual Task<HttpResponse> HandleAsync(const HttpRequest& req, Resumer* resumer) { co_return Handle(req); }
  // True when Handle(req) is known not to block (a read served from memory or
  // the local store): the server then runs it on the I/O thread instead of
  // paying two thread hops through the worker pool.
  virtual bool NonBlocking(const HttpRequest& req) const { return false; }
  // True when Handle(req) will mostly wait rather than compute: a synced
  // write (group commit wants many at once), or a backend that calls a remote
  // service (PostgreSQL, TokenReview). The server runs these on a larger pool
  // sized for waiting, so they neither queue behind nor crowd out CPU-bound
  // requests.
  virtual bool MostlyWaits(const HttpRequest& req) const { return false; }
  // The largest body the server may read for a request with these headers
  // (`head` has no body yet). The server answers 413 past it, before reading
  // when Content-Length says so; the listener's own limit applies as well.
  virtual size_t BodyLimit(const HttpRequest& head) const { return SIZE_MAX; }
};

}  // namespace sealbox::api
