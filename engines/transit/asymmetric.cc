#include "engines/transit/asymmetric.h"

#include <cstdlib>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/openssl_ptr.h"
#include "base/crypto.h"

namespace sealbox::engines::transit {

namespace {

using Pkey = ossl::Pkey;

}  // namespace

Result<EVP_PKEY*> LoadKeyDer(const SecureBytes& der) {
  const unsigned char* p = der.data();
  EVP_PKEY* k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) {  // an imported public key alone
    ERR_clear_error();
    p = der.data();
    k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  }
  if (k == nullptr) return Corruption("transit: unreadable signing key");
  return k;
}

namespace {

Result<Pkey> Load(const SecureBytes& der) {
  SB_ASSIGN_OR_RETURN(EVP_PKEY * k, LoadKeyDer(der));
  return Pkey(k);
}

size_t CurveBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP384: return 48;
    case KeyType::kEcdsaP521: return 66;
    default: return 32;
  }
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// ASN.1 DER ECDSA-Sig-Value <-> r || s (JWS), both halves `half` bytes.
Result<std::string> DerToJws(std::string_view der, size_t half) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Internal("transit: signature encoding failed");
  std::string out(2 * half, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, static_cast<int>(half)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + half, static_cast<int>(half)) < 0)
    return Internal("transit: signature encoding failed");
  return out;
}

std::string JwsToDer(std::string_view jws) {
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  const auto* b = reinterpret_cast<const unsigned char*>(jws.data());
  size_t half = jws.size() / 2;
  BIGNUM* r = BN_bin2bn(b, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(b + half, static_cast<int>(jws.size() - half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::string();
  }
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (n > 0) i2d_ECDSA_SIG(sig.get(), &o);
  return out;
}

// The PSS salt length for OpenSSL from Go's convention; InvalidArgument when
// signing with a salt longer than the key leaves room for (Vault's words).
Result<int> PssSaltLength(EVP_PKEY* key, const SignOptions& o, bool sign) {
  if (o.salt_length == 0) return sign ? RSA_PSS_SALTLEN_MAX : RSA_PSS_SALTLEN_AUTO;
  if (o.salt_length == -1) return RSA_PSS_SALTLEN_DIGEST;
  int em_len = (EVP_PKEY_get_bits(key) - 1 + 7) / 8;
  if (sign && o.salt_length > em_len - EVP_MD_get_size(HashMd(o.hash)) - 2)
    return InvalidArgument("requested salt length " + std::to_string(o.salt_length) + " is invalid");
  return o.salt_length;
}

// A signing (or verifying) context over `digest`'s algorithm for ecdsa and rsa.
Result<ossl::PkeyCtx> DigestCtx(KeyType type, EVP_PKEY* key, const SignOptions& o,
                                                          bool sign) {
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx || (sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) != 1)
    return Internal("transit: signing set-up failed");
  if (IsRsa(type)) {
    SB_ASSIGN_OR_RETURN(int salt, PssSaltLength(key, o, sign));
    bool ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), o.pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx.get(), HashMd(o.hash)) == 1 &&
              (!o.pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), salt) == 1);
    if (!ok) return Internal("transit: signing set-up failed");
  }
  return ctx;
}

// What ecdsa and rsa sign: the digest of the input, or the input itself.
Result<std::string> ToBeSigned(KeyType type, std::string_view input, const SignOptions& o) {
  if (!o.prehashed) return Digest(o.hash, input);
  if (IsRsa(type) && input.size() != static_cast<size_t>(EVP_MD_get_size(HashMd(o.hash))))
    return InvalidArgument("the prehashed input's length does not match the hash algorithm");
  return std::string(input);
}

}  // namespace

SecureBytes GenerateSigningKey(KeyType type) {
  EVP_PKEY* k = nullptr;
  switch (type) {
    case KeyType::kEd25519: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case KeyType::kEcdsaP256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyType::kEcdsaP384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyType::kEcdsaP521: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case KeyType::kRsa2048: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case KeyType::kRsa3072: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}); break;
    case KeyType::kRsa4096: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
    default: break;
  }
  int len = k ? i2d_PrivateKey(k, nullptr) : -1;
  // Key generation fails only without the default provider: never go on without a key.
  if (len <= 0) abort();
  SecureBytes out(static_cast<size_t>(len));
  unsigned char* p = out.data();
  i2d_PrivateKey(k, &p);
  EVP_PKEY_free(k);
  return out;
}

Result<std::string> Sign(KeyType type, const SecureBytes& private_der, std::string_view input,
                         const SignOptions& opts) {
  SB_ASSIGN_OR_RETURN(Pkey key, Load(private_der));
  size_t len = 0;
  if (type == KeyType::kEd25519) {
    ossl::MdCtx md(EVP_MD_CTX_new());
    auto* in = reinterpret_cast<const unsigned char*>(input.data());
    if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &len, in, input.size()) != 1)
      return Internal("transit: signing failed");
    std::string sig(len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1)
      return Internal("transit: signing failed");
    return sig;
  }
  SB_ASSIGN_OR_RETURN(std::string tbs, ToBeSigned(type, input, opts));
  SB_ASSIGN_OR_RETURN(auto ctx, DigestCtx(type, key.get(), opts, true));
  auto* t = reinterpret_cast<const unsigned char*>(tbs.data());
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, t, tbs.size()) != 1) return Internal("transit: signing failed");
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, t, tbs.size()) != 1)
    return Internal("transit: signing failed");
  sig.resize(len);
  if (opts.jws && !IsRsa(type)) return DerToJws(sig, CurveBytes(type));
  return sig;
}

Result<bool> Verify(KeyType type, const SecureBytes& private_der, std::string_view input,
                    std::string_view signature, const SignOptions& opts) {
  SB_ASSIGN_OR_RETURN(Pkey key, Load(private_der));
  if (type == KeyType::kEd25519) {
    ossl::MdCtx md(EVP_MD_CTX_new());
    if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1)
      return Internal("transit: verification failed");
    return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  }
  std::string der = opts.jws && !IsRsa(type) ? JwsToDer(signature) : std::string(signature);
  SB_ASSIGN_OR_RETURN(std::string tbs, ToBeSigned(type, input, opts));
  SB_ASSIGN_OR_RETURN(auto ctx, DigestCtx(type, key.get(), opts, false));
  return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                         reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) == 1;
}

Result<SecureBytes> DeriveEd25519(const SecureBytes& private_der, std::string_view context) {
  if (context.empty())
    return InvalidArgument(
        "error deriving key: missing 'context' for key derivation; the key was created using a derived key, which "
        "means additional, per-request information must be included in order to perform operations with the key");
  SB_ASSIGN_OR_RETURN(Pkey key, Load(private_der));
  constexpr size_t kHalf = 32;
  SecureBytes go_key(2 * kHalf);  // Go's ed25519.PrivateKey: seed || public key
  size_t seed_len = kHalf, pub_len = kHalf;
  if (EVP_PKEY_get_raw_private_key(key.get(), go_key.data(), &seed_len) != 1 ||
      EVP_PKEY_get_raw_public_key(key.get(), go_key.data() + kHalf, &pub_len) != 1 || seed_len != kHalf ||
      pub_len != kHalf)
    return Corruption("transit: unreadable ed25519 key");
  SecureBytes seed = HkdfSha256(go_key, context, kHalf);
  Pkey derived(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  int len = derived ? i2d_PrivateKey(derived.get(), nullptr) : -1;
  if (len <= 0) return Internal("transit: key derivation failed");
  SecureBytes out(static_cast<size_t>(len));
  unsigned char* o = out.data();
  i2d_PrivateKey(derived.get(), &o);
  return out;
}

Result<std::string> PublicKeyText(KeyType type, const SecureBytes& private_der) {
  SB_ASSIGN_OR_RETURN(Pkey key, Load(private_der));
  if (type == KeyType::kEd25519) {
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &len) != 1) return Internal("transit: public key failed");
    return crypto::Base64Encode(std::string_view(reinterpret_cast<char*>(raw), len));
  }
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return Internal("transit: public key failed");
  return BioText(bio.get());
}

Result<std::string> PrivateKeyPem(const SecureBytes& private_der) {
  SB_ASSIGN_OR_RETURN(Pkey key, Load(private_der));
  ossl::Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Internal("transit: private key export failed");
  return BioText(bio.get());
}

std::string_view SigningKeyName(KeyType type) {
  switch (type) {
    case KeyType::kEd25519: return "ed25519";
    case KeyType::kEcdsaP256: return "P-256";
    case KeyType::kEcdsaP384: return "P-384";
    case KeyType::kEcdsaP521: return "P-521";
    case KeyType::kRsa2048: return "rsa-2048";
    case KeyType::kRsa3072: return "rsa-3072";
    case KeyType::kRsa4096: return "rsa-4096";
    default: return "";
  }
}

}  // namespace sealbox::engines::transit
