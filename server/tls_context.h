// TlsContext: the server side TLS configuration of a listener, and its
// SIGHUP reload.
//
// Policy (not configurable below it): TLS 1.2 minimum, or TLS 1.3 when
// tls_min_version = "tls13"; SSLv3, TLS 1.0 and 1.1 are refused. TLS 1.2
// suites are limited to ECDHE with an AEAD (AES-GCM, ChaCha20-Poly1305), the
// server's order wins, and renegotiation is off. TLS 1.3 uses OpenSSL's
// defaults, which are all AEAD. Encrypted private keys are refused instead of
// prompting on the terminal.
//
// Thread-safety: Current() and Reload() may be called from any thread. A
// reload builds a fresh context used by connections accepted afterwards;
// connections already open keep the context they started with (Current()
// hands out shared ownership, so an old context lives as long as its last
// connection).
//
// sys/metrics reports sealbox.tls.certificate_expiry_seconds: the seconds
// from now to the notAfter of the certificate new connections get.
//
// Security invariant: key material is only read by OpenSSL from the key file;
// it is never copied into our strings or logged.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "server/config.h"

namespace boost::asio::ssl {
class context;
}

namespace sealbox::server {

class TlsContext {
 public:
  // Loads tls_cert_file (a PEM chain: leaf first) and tls_key_file.
  // Errors: InvalidArgument naming the file that could not be used, or saying
  // that the key does not match the certificate.
  static Result<std::unique_ptr<TlsContext>> Create(const ListenerConfig& listener);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  // The context for a new connection. Never null.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Re-reads the certificate and key files. On error the previous context
  // stays in use and the error is returned.
  Status Reload();

 private:
  explicit TlsContext(ListenerConfig listener);

  const ListenerConfig listener_;
  int metrics_collector_ = 0;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mu_
};

// A fresh server-side context with no certificate yet (the listener's and the
// cluster listener's start here). Errors: Internal.
Result<std::shared_ptr<boost::asio::ssl::context>> NewServerContext();

// Builds one server context for `listener` (what Create and Reload use).
Result<std::shared_ptr<boost::asio::ssl::context>> BuildServerTlsContext(const ListenerConfig& listener);

}  // namespace sealbox::server
