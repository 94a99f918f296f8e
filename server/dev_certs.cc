#include "server/dev_certs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/x509_cert.h"

namespace sealbox::server {
namespace {

// Writes a certificate (mode 0644) or a private key (mode 0600, set before
// any byte is written, also when the file already existed).
Status WritePem(const std::string& path, std::string_view pem, bool secret) {
  mode_t mode = secret ? 0600 : 0644;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  bool ok = fd >= 0 && ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  int err = ok ? 0 : errno;
  if (fd >= 0 && ::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok) return Status::Ok();
  return IOError("cannot write " + path + (err ? std::string(": ") + std::strerror(err) : std::string()));
}

}  // namespace

Result<DevCertPaths> GenerateDevCerts(const std::string& dir) {
  CertSpec ca_spec{.organization = "Sealbox dev", .common_name = "Sealbox dev CA", .ca = true};
  SB_ASSIGN_OR_RETURN(PemKeyPair ca, IssueCert(ca_spec, nullptr));
  CertSpec srv_spec{.organization = "Sealbox dev",
                    .common_name = "localhost",
                    .ext_key_usage = "serverAuth",
                    .subject_alt_name = "DNS:localhost,IP:127.0.0.1,IP:::1"};
  SB_ASSIGN_OR_RETURN(PemKeyPair srv, IssueCert(srv_spec, &ca));
  DevCertPaths p{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  SB_RETURN_IF_ERROR(WritePem(p.ca_cert, ca.cert_pem, false));
  SB_RETURN_IF_ERROR(WritePem(p.server_cert, srv.cert_pem, false));
  SB_RETURN_IF_ERROR(WritePem(p.server_key, srv.key_pem.view(), true));
  return p;
}

}  // namespace sealbox::server
