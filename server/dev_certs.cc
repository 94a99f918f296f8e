#include "server/dev_certs.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "base/crypto.h"

namespace sealbox::server {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

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

Cert MakeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  uint8_t serial[16];
  crypto::RandomFill(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Sealbox dev"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* iss = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(iss));
  if (ca) {
    AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  } else {
    AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    AddExt(cert.get(), iss, NID_ext_key_usage, "serverAuth");
    AddExt(cert.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  int fd = key ? ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
  FILE* f = key ? fdopen(fd, "w") : std::fopen(path.c_str(), "w");
  if (!f) return false;
  bool ok = cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace

Result<DevCertPaths> GenerateDevCerts(const std::string& dir) {
  Pkey ca_key = NewKey(), srv_key = NewKey();
  if (!ca_key || !srv_key) return Internal("cannot generate dev keys");
  Cert ca = MakeCert(ca_key.get(), "Sealbox dev CA", nullptr, ca_key.get(), true);
  if (!ca) return Internal("cannot sign dev CA");
  Cert srv = MakeCert(srv_key.get(), "localhost", ca.get(), ca_key.get(), false);
  if (!srv) return Internal("cannot sign dev certificate");
  DevCertPaths p{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  if (!WritePem(p.ca_cert, ca.get(), nullptr) || !WritePem(p.server_cert, srv.get(), nullptr) ||
      !WritePem(p.server_key, nullptr, srv_key.get()))
    return IOError("cannot write dev certificates to " + dir);
  return p;
}

}  // namespace sealbox::server
