// HttpClient: outbound HTTPS requests (Kubernetes TokenReview, the CLI talking
// to a server), behind an interface so auth/ and cli/ never include Beast.
// The implementation (server/beast_http_client.cc) keeps a keep-alive
// connection pool per (host, port, TLS settings).
// Thread-safety: Do() may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/x509_cert.h"

namespace sealbox {

struct TlsClientConfig {
  std::string ca_pem;        // PEM bundle to trust; empty: ca_file / ca_path / system store
  std::string ca_file;
  std::string ca_path;       // directory of PEM files
  bool insecure_skip_verify = false;
  std::string server_name;   // SNI / verification name override; default: the URL's host
  // Presented when the server asks for a client certificate (mutual TLS:
  // the HA cluster's channel). Null: none.
  std::shared_ptr<const PemKeyPair> client_identity;
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // https://host:port/path?query (http:// only for tests on loopback)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  TlsClientConfig tls;
  int timeout_ms = 5000;  // whole request: connect + TLS + write + read
  size_t max_response_body = 4u << 20;  // larger: kOutcomeUnknown
  // Whether the request may be sent twice: a pooled connection that fails
  // after the request went out is retried once on a fresh one only then.
  // Default: GET and HEAD. A request with effects (a forwarded write) must
  // never be replayed: the peer may already have acted on it.
  std::optional<bool> replayable;
};

struct HttpClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return v;
    return "";
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Errors (messages safe to log: no body or header values):
  // kUnavailable when the request was never sent (no connection, TLS
  // failure, a failed write); kOutcomeUnknown when it was sent and no whole
  // response came back (a failed read, a timeout): the peer may have acted
  // on it; kInvalidArgument for a bad URL or TLS setting.
  virtual Result<HttpClientResponse> Do(const HttpClientRequest& req) = 0;

  // Sends the request without blocking the caller; `done` runs once with
  // the result, on a thread of the client's (the caller hands it on). The
  // default runs Do() at once, for clients that cannot do better.
  using Done = std::function<void(Result<HttpClientResponse>)>;
  virtual void Start(const HttpClientRequest& req, Done done) { done(Do(req)); }
};

}  // namespace sealbox
