#include "server/dev_certs.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/crypto.h"

namespace sealbox::server {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

constexpr long kValiditySeconds = 365L * 24 * 3600;

Pkey NewKey() { return Pkey(EVP_EC_gen("P-256")); }

bool AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool AddName(X509_NAME* name, const char* field, const char* value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, reinterpret_cast<const unsigned char*>(value), -1,
                                    -1, 0) == 1;
}

// A v3 certificate for `key`, signed by `issuer_key` (self-signed when issuer
// is null). Null on any OpenSSL failure.
Cert MakeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return nullptr;
  uint8_t serial[16];
  crypto::RandomFill(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) return nullptr;
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) || X509_set_pubkey(cert.get(), key) != 1)
    return nullptr;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!AddName(name, "O", "Sealbox dev") || !AddName(name, "CN", cn)) return nullptr;
  X509* iss = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(iss)) != 1) return nullptr;
  bool ok = true;
  if (ca) {
    ok = AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         AddExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  } else {
    ok = AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE") &&
         AddExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         AddExt(cert.get(), iss, NID_ext_key_usage, "serverAuth") &&
         AddExt(cert.get(), iss, NID_subject_key_identifier, "hash") &&
         AddExt(cert.get(), iss, NID_authority_key_identifier, "keyid:always") &&
         AddExt(cert.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  }
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

// Writes a certificate (mode 0644) or a private key (mode 0600, set before
// any byte is written, also when the file already existed).
bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  mode_t mode = key ? 0600 : 0644;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return false;
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    return false;
  }
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return false;
  }
  bool ok = cert ? PEM_write_X509(f, cert) == 1
                 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace

Result<DevCertPaths> GenerateDevCerts(const std::string& dir) {
  Pkey ca_key = NewKey(), srv_key = NewKey();
  if (!ca_key || !srv_key) {
    ERR_clear_error();
    return Internal("cannot generate dev keys");
  }
  Cert ca = MakeCert(ca_key.get(), "Sealbox dev CA", nullptr, ca_key.get(), true);
  if (!ca) {
    ERR_clear_error();
    return Internal("cannot sign the dev CA certificate");
  }
  Cert srv = MakeCert(srv_key.get(), "localhost", ca.get(), ca_key.get(), false);
  if (!srv) {
    ERR_clear_error();
    return Internal("cannot sign the dev server certificate");
  }
  DevCertPaths p{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  auto write = [](const std::string& path, X509* cert, EVP_PKEY* key) -> Status {
    errno = 0;
    if (WritePem(path, cert, key)) return Status::Ok();
    int err = errno;
    ERR_clear_error();
    return IOError("cannot write " + path + (err ? std::string(": ") + std::strerror(err) : std::string()));
  };
  SB_RETURN_IF_ERROR(write(p.ca_cert, ca.get(), nullptr));
  SB_RETURN_IF_ERROR(write(p.server_cert, srv.get(), nullptr));
  SB_RETURN_IF_ERROR(write(p.server_key, nullptr, srv_key.get()));
  return p;
}

}  // namespace sealbox::server
