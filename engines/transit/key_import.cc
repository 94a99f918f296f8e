#include "engines/transit/key_import.h"

#include <memory>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/openssl_ptr.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/rsa_encryption.h"

namespace sealbox::engines::transit {

namespace {

using Pkey = ossl::Pkey;

constexpr size_t kWrappedEphemeralSize = 512;  // one RSA-4096 block
constexpr size_t kKwpMinSize = 16;
constexpr size_t kMinHmacKeySize = 32;
constexpr size_t kMaxHmacKeySize = 512;

// RFC 5649 unwrap of `wrapped` under a 16- or 32-byte key.
Result<SecureBytes> KwpUnwrap(const SecureBytes& kek, std::string_view wrapped) {
  if (wrapped.size() < kKwpMinSize) return InvalidArgument("kwp: wrapped key size too small");
  const EVP_CIPHER* cipher = kek.size() == 32 ? EVP_aes_256_wrap_pad() : kek.size() == 16 ? EVP_aes_128_wrap_pad() : nullptr;
  if (cipher == nullptr) return InvalidArgument("kwp: invalid key size");
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal("transit: key unwrap failed");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  SecureBytes out(wrapped.size());
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, reinterpret_cast<const unsigned char*>(wrapped.data()),
                        static_cast<int>(wrapped.size())) != 1 ||
      len <= 0) {
    ERR_clear_error();
    return InvalidArgument("kwp: unwrap failed integrity check");
  }
  return SecureBytes(out.data(), static_cast<size_t>(len));
}

// A PKCS#8 DER private key (only PKCS#8, as Vault's x509.ParsePKCS8PrivateKey).
Result<Pkey> ParsePkcs8(const SecureBytes& der) {
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  Pkey key(info ? EVP_PKCS82PKEY(info) : nullptr);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (!key || p != der.data() + der.size()) {
    ERR_clear_error();
    return InvalidArgument("error importing key: error parsing asymmetric key: not a PKCS#8 private key");
  }
  return key;
}

std::string CurveOf(EVP_PKEY* key) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) return "";
  std::string n(name, len);
  if (n == "prime256v1") return "P-256";
  if (n == "secp384r1") return "P-384";
  if (n == "secp521r1") return "P-521";
  return n;
}

// The asymmetric key's fit with the type, in Vault's words.
Status CheckAsymmetric(KeyType type, EVP_PKEY* key) {
  std::string expected(KeyTypeName(type));
  int id = EVP_PKEY_get_base_id(key);
  if (type == KeyType::kEd25519) {
    if (id != EVP_PKEY_ED25519) return InvalidArgument("error importing key: invalid key type: expected ed25519");
    return Status::Ok();
  }
  if (IsRsa(type)) {
    if (id != EVP_PKEY_RSA) return InvalidArgument("error importing key: invalid key type: expected " + expected);
    size_t want = type == KeyType::kRsa2048 ? 256 : type == KeyType::kRsa3072 ? 384 : 512;
    size_t got = static_cast<size_t>(EVP_PKEY_get_size(key));
    if (got != want)
      return InvalidArgument("error importing key: invalid key size: expected " + std::to_string(want) +
                             " bytes, got " + std::to_string(got) + " bytes");
    return Status::Ok();
  }
  if (id != EVP_PKEY_EC) return InvalidArgument("error importing key: invalid key type: expected " + expected);
  std::string want(SigningKeyName(type));  // "P-256"...
  std::string got = CurveOf(key);
  if (got != want) return InvalidArgument("error importing key: invalid curve: expected " + want + ", got " + got);
  return Status::Ok();
}

}  // namespace

Result<const EVP_MD*> ImportHash(std::string_view name) {
  if (name == "SHA1") return EVP_sha1();
  if (name == "SHA224") return EVP_sha224();
  if (name == "SHA256") return EVP_sha256();
  if (name == "SHA384") return EVP_sha384();
  if (name == "SHA512") return EVP_sha512();
  return InvalidArgument("unknown hash function: " + std::string(name));
}

Result<SecureBytes> UnwrapImport(const SecureBytes& wrapping_der, std::string_view ciphertext_b64, const EVP_MD* md) {
  SB_ASSIGN_OR_RETURN(SecureBytes ct, DecodeStdBase64(ciphertext_b64));
  if (ct.size() < kWrappedEphemeralSize) return InvalidArgument("provided ciphertext is too short");
  auto ephemeral = RsaOaepDecrypt(wrapping_der, ct.view().substr(0, kWrappedEphemeralSize), md);
  if (!ephemeral.ok()) return InvalidArgument("crypto/rsa: decryption error");
  return KwpUnwrap(*ephemeral, ct.view().substr(kWrappedEphemeralSize));
}

Result<SecureBytes> ImportedKeyMaterial(KeyType type, SecureBytes target) {
  if (!IsSigning(type)) {
    size_t n = target.size();
    bool fits = type == KeyType::kHmac ? n >= kMinHmacKeySize && n <= kMaxHmacKeySize : n == AeadKeySize(type);
    if (!fits)
      return InvalidArgument("error importing key: invalid key size " + std::to_string(n) + " bytes for key type " +
                             std::string(KeyTypeName(type)));
    return target;
  }
  SB_ASSIGN_OR_RETURN(Pkey key, ParsePkcs8(target));
  SB_RETURN_IF_ERROR(CheckAsymmetric(type, key.get()));
  int len = i2d_PrivateKey(key.get(), nullptr);
  if (len <= 0) return Internal("transit: key encoding failed");
  SecureBytes out(static_cast<size_t>(len));
  unsigned char* o = out.data();
  i2d_PrivateKey(key.get(), &o);
  return out;
}

Result<SecureBytes> ImportedPublicKey(KeyType type, std::string_view pem) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return InvalidArgument("error importing key: error parsing public key: not in PEM format");
  }
  SB_RETURN_IF_ERROR(CheckAsymmetric(type, key.get()));
  int len = i2d_PUBKEY(key.get(), nullptr);
  if (len <= 0) return Internal("transit: key encoding failed");
  SecureBytes out(static_cast<size_t>(len));
  unsigned char* o = out.data();
  i2d_PUBKEY(key.get(), &o);
  return out;
}

}  // namespace sealbox::engines::transit
