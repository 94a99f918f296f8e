#include "auth/jws.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "base/crypto.h"

namespace sealbox::auth {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey LoadPemKey(const std::string& pem) {
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

// JWS ECDSA signatures are r||s, each the curve's size; OpenSSL wants DER.
bool EcRawToDer(const std::string& raw, size_t half, std::string* der) {
  if (raw.size() != 2 * half) return false;
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

// The EC curve size in bytes an ES algorithm requires (P-256, P-384, P-521).
size_t EcHalfFor(const std::string& alg) {
  if (alg == "ES256") return 32;
  if (alg == "ES384") return 48;
  if (alg == "ES512") return 66;
  return 0;
}

bool Verify(EVP_PKEY* key, const Jwt& jwt) {
  const bool eddsa = jwt.alg == "EdDSA";
  const EVP_MD* md = eddsa ? nullptr : DigestFor(jwt.alg);
  if (!eddsa && !md) return false;
  const char family = jwt.alg[0];
  const int type = EVP_PKEY_get_base_id(key);
  if (eddsa && type != EVP_PKEY_ED25519) return false;
  if ((family == 'R' || family == 'P') && type != EVP_PKEY_RSA) return false;
  std::string sig = jwt.signature;
  if (family == 'E' && !eddsa) {
    const size_t half = EcHalfFor(jwt.alg);
    if (type != EVP_PKEY_EC || (EVP_PKEY_get_bits(key) + 7) / 8 != static_cast<int>(half)) return false;
    if (!EcRawToDer(jwt.signature, half, &sig)) return false;
  }
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

// A JWK member holding base64url bytes ("n", "e", "x", "y").
Result<std::string> JwkBytes(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return InvalidArgument(std::string("JWK has no \"") + name + "\"");
  auto b = crypto::Base64UrlDecode(it->get_ref<const std::string&>());
  if (!b.ok() || b->view().empty()) return InvalidArgument(std::string("JWK \"") + name + "\" is not base64url");
  return std::string(b->view());
}

Pkey FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* out = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
    EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return Pkey(out);
}

Result<Pkey> RsaFromJwk(const Json& jwk) {
  SB_ASSIGN_OR_RETURN(std::string n, JwkBytes(jwk, "n"));
  SB_ASSIGN_OR_RETURN(std::string e, JwkBytes(jwk, "e"));
  if (n.size() > 1024 || e.size() > 8) return InvalidArgument("JWK RSA key is too large");
  auto bn = [](const std::string& b) {
    return BN_bin2bn(reinterpret_cast<const unsigned char*>(b.data()), static_cast<int>(b.size()), nullptr);
  };
  BIGNUM* bn_n = bn(n);
  BIGNUM* bn_e = bn(e);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bld && bn_n && bn_e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
    key = FromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!key) return InvalidArgument("JWK RSA key is invalid");
  return key;
}

Result<Pkey> EcFromJwk(const Json& jwk) {
  const std::string crv = jwk.value("crv", "");
  const char* group = crv == "P-256"   ? "prime256v1"
                      : crv == "P-384" ? "secp384r1"
                      : crv == "P-521" ? "secp521r1"
                                       : nullptr;
  const size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
  if (!group) return InvalidArgument("JWK EC curve is not supported");
  SB_ASSIGN_OR_RETURN(std::string x, JwkBytes(jwk, "x"));
  SB_ASSIGN_OR_RETURN(std::string y, JwkBytes(jwk, "y"));
  if (x.size() != size || y.size() != size) return InvalidArgument("JWK EC point has the wrong size");
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1)
    key = FromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  if (!key) return InvalidArgument("JWK EC key is invalid");
  return key;
}

Result<Pkey> OkpFromJwk(const Json& jwk) {
  if (jwk.value("crv", "") != "Ed25519") return InvalidArgument("JWK OKP curve is not supported");
  SB_ASSIGN_OR_RETURN(std::string x, JwkBytes(jwk, "x"));
  if (x.size() != 32) return InvalidArgument("JWK Ed25519 key has the wrong size");
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()),
                                       x.size()));
  if (!key) return InvalidArgument("JWK Ed25519 key is invalid");
  return key;
}

}  // namespace

Result<PublicKey> PublicKey::FromPem(const std::string& pem) {
  Pkey k = LoadPemKey(pem);
  if (!k) return InvalidArgument("data does not contain any valid public keys");
  PublicKey out;
  out.key_ = std::shared_ptr<EVP_PKEY>(k.release(), EVP_PKEY_free);
  return out;
}

Result<PublicKey> PublicKey::FromJwk(const Json& jwk) {
  if (!jwk.is_object()) return InvalidArgument("JWK is not an object");
  const std::string use = jwk.value("use", "sig");
  if (use != "sig") return InvalidArgument("JWK is not a signing key");
  const std::string kty = jwk.value("kty", "");
  Result<Pkey> k = kty == "RSA" ? RsaFromJwk(jwk)
                   : kty == "EC" ? EcFromJwk(jwk)
                   : kty == "OKP" ? OkpFromJwk(jwk)
                                  : Result<Pkey>(InvalidArgument("JWK key type is not supported"));
  SB_RETURN_IF_ERROR(k.status());
  PublicKey out;
  out.key_ = std::shared_ptr<EVP_PKEY>(k->release(), EVP_PKEY_free);
  auto str = [&](const char* name) {
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  out.kid_ = str("kid");
  out.alg_ = str("alg");
  return out;
}

bool PublicKey::Verifies(const Jwt& jwt) const {
  if (!key_) return false;
  if (!alg_.empty() && alg_ != jwt.alg) return false;
  return Verify(key_.get(), jwt);
}

Result<std::vector<PublicKey>> ParseJwks(std::string_view body) {
  JsonLimits lim;
  lim.max_depth = 8;
  auto doc = ParseJsonBounded(body, lim);
  if (!doc.ok() || !doc->is_object() || !doc->contains("keys") || !(*doc)["keys"].is_array())
    return InvalidArgument("not a JSON Web Key Set");
  std::vector<PublicKey> keys;
  for (const auto& jwk : (*doc)["keys"]) {
    auto k = PublicKey::FromJwk(jwk);
    if (k.ok()) keys.push_back(std::move(k).value());
  }
  return keys;
}

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
  if (jwt.header.contains("kid") && jwt.header["kid"].is_string()) jwt.kid = jwt.header["kid"].get<std::string>();
  static const char* kAllowed[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                   "ES256", "ES384", "ES512", "EdDSA"};
  bool ok = false;
  for (const char* a : kAllowed) ok = ok || jwt.alg == a;
  // The algorithm is named back only when short and plain (it is caller input).
  const bool printable = jwt.alg.size() <= 16 && std::all_of(jwt.alg.begin(), jwt.alg.end(), [](unsigned char c) {
                           return std::isalnum(c) != 0;
                         });
  if (!ok)
    return InvalidArgument(printable ? "unexpected signature algorithm \"" + jwt.alg + "\""
                                     : "unsupported signing algorithm");
  if (jwt.signature.empty()) return InvalidArgument("token must be signed");
  return jwt;
}

Status VerifyJwtSignature(const Jwt& jwt, const std::vector<std::string>& pem_keys) {
  for (const auto& pem : pem_keys) {
    auto k = PublicKey::FromPem(pem);
    if (k.ok() && k->Verifies(jwt)) return Status::Ok();
  }
  return PermissionDenied();
}

}  // namespace sealbox::auth
