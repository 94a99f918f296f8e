#include "server/cluster_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/context.hpp>

#include "base/log.h"
#include "server/tls_context.h"

namespace sealbox::server {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> BuildClusterServerContext(const PemKeyPair& identity) {
  SB_ASSIGN_OR_RETURN(std::shared_ptr<ssl::context> ctx, NewServerContext());
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  boost::system::error_code ec;
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) return Internal("cannot require TLS 1.3");
  ctx->use_certificate_chain(boost::asio::buffer(identity.cert_pem), ec);
  if (!ec) ctx->use_private_key(boost::asio::buffer(identity.key_pem.view()), ssl::context::pem, ec);
  // The cluster certificate is self-signed and the only trust anchor.
  if (!ec) ctx->add_certificate_authority(boost::asio::buffer(identity.cert_pem), ec);
  if (ec) {
    ERR_clear_error();
    return Internal("cannot configure the cluster listener's TLS");
  }
  X509_STORE_set_flags(SSL_CTX_get_cert_store(native), X509_V_FLAG_PARTIAL_CHAIN);
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

std::shared_ptr<ssl::context> ClusterTlsContext::Current() {
  std::shared_ptr<const PemKeyPair> identity = source_ ? source_() : nullptr;
  std::lock_guard l(mu_);
  if (!identity) return nullptr;
  if (identity != built_for_) {
    auto ctx = BuildClusterServerContext(*identity);
    if (!ctx.ok()) {
      log::Error("server: " + ctx.status().message());
      return nullptr;
    }
    current_ = std::move(ctx).value();
    built_for_ = identity;
  }
  return current_;
}

}  // namespace sealbox::server
