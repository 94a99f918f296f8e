// Dev-mode TLS material: a throwaway ECDSA P-256 CA (self-signed, CA:TRUE)
// and a server certificate it signs (SANs DNS:localhost, IP:127.0.0.1,
// IP:::1; serverAuth), both valid for one year, written as PEM files.
// The CA key is discarded when the call returns, so nothing else can ever be
// signed by that CA. Private keys are never logged. Thread-safe.
#pragma once

#include <string>

#include "base/status.h"

namespace sealbox::server {

struct DevCertPaths {
  std::string ca_cert;      // <dir>/ca.pem
  std::string server_cert;  // <dir>/server.pem
  std::string server_key;   // <dir>/server-key.pem (mode 0600)
};

// Writes the three files into the existing directory `dir`. Errors: Internal
// (OpenSSL failure) or IOError naming the file that could not be written.
Result<DevCertPaths> GenerateDevCerts(const std::string& dir);

}  // namespace sealbox::server
