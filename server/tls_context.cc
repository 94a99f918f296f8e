#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/log.h"
#include "metrics/registry.h"

namespace sealbox::server {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2: forward-secret AEAD suites only, ECDSA first (dev certificates are
// P-256), then RSA.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Never prompt for a pass phrase: an encrypted key fails to load instead.
int NoPassword(char*, int, int, void*) { return 0; }

// The oldest queued OpenSSL error as text (then clears the queue so it does
// not leak into an unrelated later call on this thread).
std::string OpenSslError() {
  unsigned long e = ERR_peek_error();
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    out = reason ? reason : "unknown OpenSSL error";
  }
  ERR_clear_error();
  return out;
}

// A clear message for a file we cannot even open (before OpenSSL's wording).
Status CheckReadable(const char* key, const std::string& path) {
  if (path.empty()) return InvalidArgument("listener: " + std::string(key) + " is required (HTTPS only)");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return InvalidArgument("listener: cannot read " + std::string(key) + " " + path + ": " + std::strerror(errno));
  std::fclose(f);
  return Status::Ok();
}

// Seconds from now to the notAfter of the context's leaf certificate.
std::optional<double> SecondsToExpiry(ssl::context& ctx) {
  const X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!cert) return std::nullopt;
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) return std::nullopt;
  return days * 86400.0 + seconds;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> NewServerContext() {
  try {
    return std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Internal(std::string("cannot create a TLS context: ") + e.what());
  }
}

Result<std::shared_ptr<ssl::context>> BuildServerTlsContext(const ListenerConfig& l) {
  SB_RETURN_IF_ERROR(CheckReadable("tls_cert_file", l.tls_cert_file));
  SB_RETURN_IF_ERROR(CheckReadable("tls_key_file", l.tls_key_file));
  SB_ASSIGN_OR_RETURN(std::shared_ptr<ssl::context> ctx, NewServerContext());
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  int min_version = l.tls_min_version == "tls13" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(native, min_version) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Internal("cannot configure TLS: " + OpenSslError());
  }
  SSL_CTX_set_default_passwd_cb(native, &NoPassword);

  boost::system::error_code ec;
  ctx->use_certificate_chain_file(l.tls_cert_file, ec);
  if (ec) {
    return InvalidArgument("listener: cannot load tls_cert_file " + l.tls_cert_file +
                           " (expected a PEM certificate chain): " + OpenSslError());
  }
  ctx->use_private_key_file(l.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return InvalidArgument("listener: cannot load tls_key_file " + l.tls_key_file +
                           " (expected an unencrypted PEM private key): " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return InvalidArgument("listener: tls_key_file " + l.tls_key_file + " does not match tls_cert_file " +
                           l.tls_cert_file);
  }
  return ctx;
}

TlsContext::TlsContext(ListenerConfig listener) : listener_(std::move(listener)) {
  metrics_collector_ = metrics::DefaultRegistry().AddCollector([this](metrics::SampleSink& sink) {
    auto ctx = Current();
    if (!ctx) return;
    if (auto s = SecondsToExpiry(*ctx))
      sink.Gauge("sealbox.tls.certificate_expiry_seconds",
                 "Seconds until the listener certificate's notAfter (negative once expired)", *s);
  });
}
TlsContext::~TlsContext() { metrics::DefaultRegistry().RemoveCollector(metrics_collector_); }

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const ListenerConfig& listener) {
  std::unique_ptr<TlsContext> t(new TlsContext(listener));
  SB_ASSIGN_OR_RETURN(t->current_, BuildServerTlsContext(listener));
  return t;
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

Status TlsContext::Reload() {
  auto fresh = BuildServerTlsContext(listener_);
  if (!fresh.ok()) return fresh.status();
  std::lock_guard lock(mu_);
  current_ = std::move(fresh).value();
  return Status::Ok();
}

}  // namespace sealbox::server
