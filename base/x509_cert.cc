#include "base/x509_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/openssl_ptr.h"
#include "base/crypto.h"

namespace sealbox {
namespace {

using ossl::Bio;
using ossl::Cert;
using ossl::Pkey;

Status Fail(const std::string& what) {
  ERR_clear_error();
  return Internal("certificate: " + what);
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool AddName(X509_NAME* name, const char* field, const std::string& value) {
  return value.empty() || X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                                     0) == 1;
}

bool AddExtensions(X509* cert, X509* iss, const CertSpec& spec) {
  const std::string usage = !spec.key_usage.empty() ? spec.key_usage
                            : spec.ca              ? "critical,keyCertSign,cRLSign"
                                                   : "critical,digitalSignature,keyEncipherment";
  bool ok = AddExt(cert, iss, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            AddExt(cert, iss, NID_key_usage, usage) && AddExt(cert, iss, NID_subject_key_identifier, "hash");
  if (ok && cert != iss) ok = AddExt(cert, iss, NID_authority_key_identifier, "keyid:always");
  if (ok && !spec.ext_key_usage.empty()) ok = AddExt(cert, iss, NID_ext_key_usage, spec.ext_key_usage);
  if (ok && !spec.subject_alt_name.empty()) ok = AddExt(cert, iss, NID_subject_alt_name, spec.subject_alt_name);
  return ok;
}

bool SetSerialAndValidity(X509* cert, long validity_seconds) {
  uint8_t serial[16];
  crypto::RandomFill(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  ossl::Bn bn(BN_bin2bn(serial, sizeof serial, nullptr));
  return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -60) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), validity_seconds);
}

Result<std::pair<Cert, Pkey>> ParsePair(const PemKeyPair& p) {
  Bio cb(BIO_new_mem_buf(p.cert_pem.data(), static_cast<int>(p.cert_pem.size())));
  Bio kb(BIO_new_mem_buf(p.key_pem.data(), static_cast<int>(p.key_pem.size())));
  if (!cb || !kb) return Fail("out of memory");
  Cert c(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  Pkey k(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!c || !k) return Fail("cannot read the issuer");
  return std::make_pair(std::move(c), std::move(k));
}

Result<PemKeyPair> ToPem(X509* cert, EVP_PKEY* key) {
  Bio cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_secmem()));
  if (!cb || !kb || PEM_write_bio_X509(cb.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(kb.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Fail("cannot encode PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(cb.get(), &data);
  PemKeyPair out;
  out.cert_pem.assign(data, static_cast<size_t>(n));
  n = BIO_get_mem_data(kb.get(), &data);
  out.key_pem = SecureBytes(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n));
  return out;
}

}  // namespace

Result<PemKeyPair> IssueCert(const CertSpec& spec, const PemKeyPair* issuer) {
  Pkey key(EVP_EC_gen("P-256"));
  Cert cert(X509_new());
  if (!key || !cert || X509_set_version(cert.get(), 2) != 1) return Fail("cannot generate a key");
  if (!SetSerialAndValidity(cert.get(), spec.validity_seconds) || X509_set_pubkey(cert.get(), key.get()) != 1)
    return Fail("cannot fill in the certificate");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!AddName(name, "O", spec.organization) || !AddName(name, "CN", spec.common_name))
    return Fail("invalid subject name");
  std::pair<Cert, Pkey> parsed;
  if (issuer) {
    SB_ASSIGN_OR_RETURN(parsed, ParsePair(*issuer));
  }
  X509* iss = issuer ? parsed.first.get() : cert.get();
  EVP_PKEY* signer = issuer ? parsed.second.get() : key.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(iss)) != 1 || !AddExtensions(cert.get(), iss, spec))
    return Fail("invalid extensions");
  if (X509_sign(cert.get(), signer, EVP_sha256()) == 0) return Fail("cannot sign");
  return ToPem(cert.get(), key.get());
}

}  // namespace sealbox
