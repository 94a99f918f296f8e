// ClusterTlsContext: the server side of the HA cluster's channel (request
// forwarding). TLS 1.3 only; the peer must present the cluster certificate,
// which is also the only one trusted: a node that never unsealed this
// vault's barrier cannot connect. The certificate comes from the core
// (core::Core::ClusterTls) once unsealed; until then every handshake fails.
//
// Thread-safety: Current() may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "base/status.h"
#include "base/x509_cert.h"

namespace boost::asio::ssl {
class context;
}

namespace sealbox::server {

using ClusterIdentitySource = std::function<std::shared_ptr<const PemKeyPair>()>;

class ClusterTlsContext {
 public:
  explicit ClusterTlsContext(ClusterIdentitySource source) : source_(std::move(source)) {}

  // The context for a new connection; null while there is no identity.
  std::shared_ptr<boost::asio::ssl::context> Current();

 private:
  ClusterIdentitySource source_;
  std::mutex mu_;
  std::shared_ptr<const PemKeyPair> built_for_;            // guarded by mu_
  std::shared_ptr<boost::asio::ssl::context> current_;   // guarded by mu_
};

// A TLS 1.3 server context presenting `identity` and requiring it of peers.
Result<std::shared_ptr<boost::asio::ssl::context>> BuildClusterServerContext(const PemKeyPair& identity);

}  // namespace sealbox::server
