#include "auth/kubernetes/jwt.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "base/crypto.h"

namespace sealbox::auth::k8s {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey LoadPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  if (pem.find("CERTIFICATE") != std::string::npos) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) return nullptr;
    Pkey k(X509_get_pubkey(cert));
    X509_free(cert);
    return k;
  }
  return Pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

const EVP_MD* DigestFor(const std::string& alg) {
  std::string bits = alg.size() == 5 ? alg.substr(2) : "";
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

// JWS ECDSA signatures are r||s; OpenSSL wants DER.
bool EcRawToDer(const std::string& raw, std::string* der) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 132) return false;
  size_t half = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half), static_cast<int>(half), nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der->assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return true;
}

bool Verify(EVP_PKEY* key, const Jwt& jwt) {
  const EVP_MD* md = DigestFor(jwt.alg);
  if (!md) return false;
  char family = jwt.alg[0];
  int type = EVP_PKEY_get_base_id(key);
  if ((family == 'R' || family == 'P') && type != EVP_PKEY_RSA) return false;
  if (family == 'E' && type != EVP_PKEY_EC) return false;
  std::string sig = jwt.signature;
  if (family == 'E' && !EcRawToDer(jwt.signature, &sig)) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (family == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                          jwt.signing_input.size()) == 1;
}

}  // namespace

std::vector<std::string> SplitPemBlocks(const std::string& bundle) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t b = bundle.find("-----BEGIN ", pos);
    if (b == std::string::npos) break;
    size_t e = bundle.find("-----END ", b);
    if (e == std::string::npos) break;
    size_t end = bundle.find("-----", e + 9);
    if (end == std::string::npos) break;
    out.push_back(bundle.substr(b, end + 5 - b) + "\n");
    pos = end + 5;
  }
  return out;
}

Result<Jwt> ParseJwt(std::string_view token) {
  if (token.size() > 16384) return InvalidArgument("token is too large");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return InvalidArgument("malformed token: expected three parts");
  auto h = crypto::Base64UrlDecode(token.substr(0, d1));
  auto p = crypto::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto s = crypto::Base64UrlDecode(token.substr(d2 + 1));
  if (!h.ok() || !p.ok() || !s.ok()) return InvalidArgument("malformed token: invalid base64url");
  JsonLimits lim;
  lim.max_depth = 16;
  lim.max_strings = 512;
  auto hj = ParseJsonBounded(h->view(), lim);
  auto pj = ParseJsonBounded(p->view(), lim);
  if (!hj.ok() || !pj.ok() || !hj->is_object() || !pj->is_object())
    return InvalidArgument("malformed token: invalid JSON");
  Jwt jwt;
  jwt.header = std::move(hj).value();
  jwt.claims = std::move(pj).value();
  jwt.signing_input = std::string(token.substr(0, d2));
  jwt.signature = std::string(s->view());
  if (!jwt.header.contains("alg") || !jwt.header["alg"].is_string()) return InvalidArgument("token has no alg");
  jwt.alg = jwt.header["alg"].get<std::string>();
  static const char* kAllowed[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"};
  bool ok = false;
  for (const char* a : kAllowed) ok = ok || jwt.alg == a;
  if (!ok) return InvalidArgument("unsupported signing algorithm");
  return jwt;
}

Status VerifyJwtSignature(const Jwt& jwt, const std::vector<std::string>& pem_keys) {
  for (const auto& pem : pem_keys) {
    Pkey k = LoadPublicKey(pem);
    if (k && Verify(k.get(), jwt)) return Status::Ok();
  }
  return PermissionDenied();
}

}  // namespace sealbox::auth::k8s
