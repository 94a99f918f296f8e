// Dev-mode TLS material: a throwaway ECDSA P-256 CA and a server certificate
// it signs (SANs localhost, 127.0.0.1, ::1), written as PEM files.
#pragma once

#include <string>

#include "base/status.h"

namespace sealbox::server {

struct DevCertPaths {
  std::string ca_cert;      // <dir>/ca.pem
  std::string server_cert;  // <dir>/server.pem
  std::string server_key;   // <dir>/server-key.pem (mode 0600)
};

Result<DevCertPaths> GenerateDevCerts(const std::string& dir);

}  // namespace sealbox::server
