// The HA cluster's TLS identity: one self-signed certificate and key, made
// by the first node to become active and kept under the barrier, so every
// unsealed node holds the same pair. The cluster listener presents it and
// requires it of its peers; a standby forwards requests with it. Anyone
// without the unsealed barrier cannot join the cluster's channel.
#include <openssl/crypto.h>

#include <string>
#include <string_view>

#include "core/core_impl.h"

namespace sealbox::core {
namespace {

constexpr const char* kClusterTlsPath = "core/cluster-tls";  // under the barrier
constexpr std::string_view kCertBegin = "-----BEGIN CERTIFICATE-----";
constexpr long kClusterCertValidity = 10L * 365 * 24 * 3600;  // made once per cluster

// Stored as the key's PEM followed by the certificate's: one entry, written once.
std::shared_ptr<const PemKeyPair> Parse(std::string& stored) {
  const size_t at = stored.find(kCertBegin);
  std::shared_ptr<PemKeyPair> p;
  if (at != std::string::npos && at > 0) {
    p = std::make_shared<PemKeyPair>();
    p->key_pem = SecureBytes(std::string_view(stored).substr(0, at));
    p->cert_pem = stored.substr(at);
  }
  OPENSSL_cleanse(stored.data(), stored.size());
  return p;
}

}  // namespace

Status CoreImpl::EnsureClusterTls() {
  SB_ASSIGN_OR_RETURN(auto stored, barrier_->Get(kClusterTlsPath));
  std::shared_ptr<const PemKeyPair> tls;
  if (stored) tls = Parse(*stored);
  if (!tls) {
    CertSpec spec{.organization = "Sealbox cluster",
                  .common_name = kClusterTlsServerName,
                  .key_usage = "critical,digitalSignature",
                  .ext_key_usage = "serverAuth,clientAuth",
                  .subject_alt_name = std::string("DNS:") + kClusterTlsServerName,
                  .validity_seconds = kClusterCertValidity};
    SB_ASSIGN_OR_RETURN(PemKeyPair made, IssueCert(spec, nullptr));
    std::string entry(made.key_pem.view());
    entry += made.cert_pem;
    Status put = barrier_->Put(kClusterTlsPath, entry);
    OPENSSL_cleanse(entry.data(), entry.size());
    SB_RETURN_IF_ERROR(put);
    tls = std::make_shared<const PemKeyPair>(std::move(made));
  }
  std::lock_guard l(cluster_tls_mu_);
  cluster_tls_ = std::move(tls);
  return Status::Ok();
}

std::shared_ptr<const PemKeyPair> CoreImpl::ClusterTls() {
  if (!options_.ha_lock || sealed_.load()) return nullptr;
  {
    std::lock_guard l(cluster_tls_mu_);
    if (cluster_tls_) return cluster_tls_;
  }
  // A standby reads what the active node stored.
  auto stored = barrier_->Get(kClusterTlsPath);
  if (!stored.ok() || !*stored) return nullptr;
  auto tls = Parse(**stored);
  std::lock_guard l(cluster_tls_mu_);
  if (!cluster_tls_) cluster_tls_ = std::move(tls);
  return cluster_tls_;
}

void CoreImpl::ForgetClusterTls() {
  std::lock_guard l(cluster_tls_mu_);
  cluster_tls_.reset();
}

}  // namespace sealbox::core
