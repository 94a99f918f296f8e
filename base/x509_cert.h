// X509Cert: fresh ECDSA P-256 keys and v3 certificates, as PEM, for the dev
// server's throwaway CA (server/dev_certs.cc) and the HA cluster's identity
// (core/cluster_tls.cc). The private key's PEM lives in SecureBytes (wiped on
// release) and is never logged. Thread-safe.
#pragma once

#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox {

struct PemKeyPair {
  std::string cert_pem;
  SecureBytes key_pem;  // PKCS#8
};

struct CertSpec {
  std::string organization;
  std::string common_name;
  bool ca = false;            // CA:TRUE with keyCertSign, else CA:FALSE
  std::string key_usage;      // e.g. "critical,digitalSignature"; empty: the CA's or a TLS server's
  std::string ext_key_usage;  // e.g. "serverAuth,clientAuth"; empty: none
  std::string subject_alt_name;  // e.g. "DNS:localhost,IP:127.0.0.1"; empty: none
  long validity_seconds = 365L * 24 * 3600;
};

// A new key and a certificate for it per `spec`, signed by `issuer` (its
// certificate and key), or self-signed when `issuer` is null.
// Errors: Internal naming the step that failed (never key material).
Result<PemKeyPair> IssueCert(const CertSpec& spec, const PemKeyPair* issuer);

}  // namespace sealbox
