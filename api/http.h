// Plain HTTP request/response structs: the seam between server/ (sockets, TLS,
// Beast) and api/ (Vault's envelopes and status codes). No socket types here,
// so everything above the server is unit-testable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/byte_source.h"
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
  // Came in on the HA cluster listener: forwarded by a standby (which set
  // remote_addr from X-Forwarded-For). Never forwarded again.
  bool via_cluster = false;

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
  // Set instead of `body` for a body made while it is sent (a snapshot):
  // the server writes it with chunked transfer encoding as it reads it,
  // and closes the connection without the last chunk if the source fails,
  // so the client sees a broken transfer, never a short body that looks whole.
  std::shared_ptr<ByteSource> stream;
};

// Where a request runs. Chosen from the route the request resolves to (its
// decoded path, its backend's RunMode), never from the raw target.
enum class RunOn {
  kIoThread,     // memory and the local store only: no thread hop
  kComputePool,  // may block briefly: few threads on few cores
  kWaitPool,     // waits (a synced write, PostgreSQL, a TokenReview): many threads
};

// One request, prepared by HttpHandler::Begin and ready to run where it says.
// Holds a reference to the HttpRequest, which must outlive it.
class HttpCall {
 public:
  virtual ~HttpCall() = default;
  virtual RunOn run_on() const = 0;
  // Runs the request; never throws. With a resumer (on the I/O thread) it
  // suspends on audit writes instead of blocking (AuditBroker).
  virtual Task<HttpResponse> RunAsync(Resumer* resumer) = 0;
  HttpResponse Run() { return RunSync(RunAsync(nullptr)); }
};

// Handles parsed requests. Thread-safe: the server calls it from its I/O
// threads and runs the calls on its pools concurrently.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Parses the target and binds the request to its route: cheap and never
  // blocking (no body is parsed here), so the server calls it on the I/O
  // thread to learn where the request runs.
  virtual std::unique_ptr<HttpCall> Begin(const HttpRequest& req) = 0;
  // Begin, then run without suspending (tests).
  HttpResponse Handle(const HttpRequest& req) { return Begin(req)->Run(); }
  // The largest body the server may read for a request with these headers
  // (`head` has no body yet). The server answers 413 past it, before reading
  // when Content-Length says so; the listener's own limit applies as well.
  virtual size_t BodyLimit(const HttpRequest& head) const { return SIZE_MAX; }
};

}  // namespace sealbox::api
