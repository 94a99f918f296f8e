#include "engines/transit/transit_crypto.h"

#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "base/openssl_ptr.h"

namespace sealbox::engines::transit {

namespace {

using CipherCtx = ossl::CipherCtx;

const EVP_CIPHER* CipherOf(KeyType type) {
  switch (type) {
    case KeyType::kAes128Gcm96: return EVP_aes_128_gcm();
    case KeyType::kAes256Gcm96: return EVP_aes_256_gcm();
    case KeyType::kChaCha20Poly1305: return EVP_chacha20_poly1305();
    default: return nullptr;
  }
}

}  // namespace

const EVP_MD* HashMd(HashAlgo algo) {
  switch (algo) {
    case HashAlgo::kSha2_224: return EVP_sha224();
    case HashAlgo::kSha2_256: return EVP_sha256();
    case HashAlgo::kSha2_384: return EVP_sha384();
    case HashAlgo::kSha2_512: return EVP_sha512();
    case HashAlgo::kSha3_224: return EVP_sha3_224();
    case HashAlgo::kSha3_256: return EVP_sha3_256();
    case HashAlgo::kSha3_384: return EVP_sha3_384();
    case HashAlgo::kSha3_512: return EVP_sha3_512();
  }
  return EVP_sha256();
}

namespace {

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A cipher context keyed for `type` with `nonce`, encrypting or decrypting.
Result<CipherCtx> NewAeadCtx(KeyType type, const SecureBytes& key, std::string_view nonce, bool encrypt) {
  const EVP_CIPHER* cipher = CipherOf(type);
  if (cipher == nullptr || key.size() != AeadKeySize(type) || nonce.size() != kNonceSize)
    return Internal("transit: bad AEAD parameters");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), Bytes(nonce), encrypt ? 1 : 0) != 1)
    return Internal("transit: cipher set-up failed");
  return ctx;
}

Status AddAad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  int len = 0;
  if (!aad.empty() && EVP_CipherUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1)
    return Internal("transit: cipher failed");
  return Status::Ok();
}

}  // namespace

std::optional<KeyType> ParseKeyType(std::string_view name) {
  if (name == "aes256-gcm96") return KeyType::kAes256Gcm96;
  if (name == "aes128-gcm96") return KeyType::kAes128Gcm96;
  if (name == "chacha20-poly1305") return KeyType::kChaCha20Poly1305;
  if (name == "hmac") return KeyType::kHmac;
  if (name == "ed25519") return KeyType::kEd25519;
  if (name == "ecdsa-p256") return KeyType::kEcdsaP256;
  if (name == "ecdsa-p384") return KeyType::kEcdsaP384;
  if (name == "ecdsa-p521") return KeyType::kEcdsaP521;
  if (name == "rsa-2048") return KeyType::kRsa2048;
  if (name == "rsa-3072") return KeyType::kRsa3072;
  if (name == "rsa-4096") return KeyType::kRsa4096;
  return std::nullopt;
}

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kAes128Gcm96: return "aes128-gcm96";
    case KeyType::kAes256Gcm96: return "aes256-gcm96";
    case KeyType::kChaCha20Poly1305: return "chacha20-poly1305";
    case KeyType::kHmac: return "hmac";
    case KeyType::kEd25519: return "ed25519";
    case KeyType::kEcdsaP256: return "ecdsa-p256";
    case KeyType::kEcdsaP384: return "ecdsa-p384";
    case KeyType::kEcdsaP521: return "ecdsa-p521";
    case KeyType::kRsa2048: return "rsa-2048";
    case KeyType::kRsa3072: return "rsa-3072";
    case KeyType::kRsa4096: return "rsa-4096";
  }
  return "unknown";
}

size_t AeadKeySize(KeyType type) {
  switch (type) {
    case KeyType::kAes128Gcm96: return 16;
    case KeyType::kAes256Gcm96:
    case KeyType::kChaCha20Poly1305: return 32;
    default: return 0;
  }
}

Result<std::string> AeadSeal(KeyType type, const SecureBytes& key, std::string_view nonce,
                             std::string_view plaintext, std::string_view aad) {
  SB_ASSIGN_OR_RETURN(CipherCtx ctx, NewAeadCtx(type, key, nonce, true));
  SB_RETURN_IF_ERROR(AddAad(ctx.get(), aad));
  std::string out(nonce);
  out.resize(kNonceSize + plaintext.size() + kTagSize);
  auto* ct = reinterpret_cast<uint8_t*>(out.data()) + kNonceSize;
  int len = 0, fin = 0;
  if (EVP_CipherUpdate(ctx.get(), ct, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), ct + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, ct + plaintext.size()) != 1)
    return Internal("transit: encryption failed");
  return out;
}

Result<SecureBytes> AeadOpen(KeyType type, const SecureBytes& key, std::string_view sealed,
                             std::string_view aad) {
  if (sealed.size() < kNonceSize) return InvalidArgument("invalid ciphertext length");
  // Go's AEAD.Open refuses a body shorter than the tag the same way as a bad tag.
  if (sealed.size() < kNonceSize + kTagSize) return InvalidArgument("cipher: message authentication failed");
  std::string_view nonce = sealed.substr(0, kNonceSize);
  std::string_view body = sealed.substr(kNonceSize, sealed.size() - kNonceSize - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  SB_ASSIGN_OR_RETURN(CipherCtx ctx, NewAeadCtx(type, key, nonce, false));
  SB_RETURN_IF_ERROR(AddAad(ctx.get(), aad));
  SecureBytes out(body.size());
  int len = 0, fin = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, Bytes(body), static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, tag.data()) != 1)
    return Internal("transit: decryption failed");
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + len, &fin) != 1) {
    out.Wipe();
    return InvalidArgument("cipher: message authentication failed");
  }
  return out;
}

SecureBytes HkdfSha256(const SecureBytes& ikm, std::string_view info, size_t n) {
  SecureBytes out(n);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), n, params) == 1;
  EVP_KDF_CTX_free(ctx);
  // Derivation only fails if the provider is missing: never hand out zeros.
  if (!ok) abort();
  return out;
}

std::optional<HashAlgo> ParseHashAlgo(std::string_view name) {
  if (name == "sha2-224") return HashAlgo::kSha2_224;
  if (name == "sha2-256") return HashAlgo::kSha2_256;
  if (name == "sha2-384") return HashAlgo::kSha2_384;
  if (name == "sha2-512") return HashAlgo::kSha2_512;
  if (name == "sha3-224") return HashAlgo::kSha3_224;
  if (name == "sha3-256") return HashAlgo::kSha3_256;
  if (name == "sha3-384") return HashAlgo::kSha3_384;
  if (name == "sha3-512") return HashAlgo::kSha3_512;
  return std::nullopt;
}

std::string Digest(HashAlgo algo, std::string_view msg) {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(msg.data(), msg.size(), md, &len, HashMd(algo), nullptr) != 1) abort();
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Hmac(HashAlgo algo, const SecureBytes& key, std::string_view msg) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(HashMd(algo), key.data(), static_cast<int>(key.size()), Bytes(msg), msg.size(), mac, &len) == nullptr)
    abort();
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string ConvergentNonce(const SecureBytes& hmac_key, std::string_view plaintext) {
  return Hmac(HashAlgo::kSha2_256, hmac_key, plaintext).substr(0, kNonceSize);
}

namespace {
int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
Status IllegalAt(size_t i) { return InvalidArgument("illegal base64 data at input byte " + std::to_string(i)); }
}  // namespace

Result<SecureBytes> DecodeStdBase64(std::string_view in) {
  SecureBytes buf(in.size() / 4 * 3 + 3);
  size_t o = 0, i = 0;
  while (i < in.size()) {
    uint32_t acc = 0;
    size_t got = 0;  // sextets in this quantum
    size_t start = i;
    while (got < 4) {
      if (i == in.size()) return IllegalAt(start);  // incomplete quantum, no padding
      char c = in[i];
      if (c == '=') {
        // Padding completes a quantum of 2 or 3 sextets and ends the input.
        if (got < 2) return IllegalAt(i);
        if (got == 2 && (i + 1 >= in.size() || in[i + 1] != '=')) return IllegalAt(i + 1 >= in.size() ? i : i + 1);
        size_t end = i + (got == 2 ? 2 : 1);
        if (end != in.size()) return IllegalAt(end);
        i = end;
        break;
      }
      int v = B64Value(c);
      if (v < 0) return IllegalAt(i);
      acc = acc << 6 | static_cast<uint32_t>(v);
      ++got;
      ++i;
    }
    acc <<= 6 * (4 - got);
    for (size_t k = 0; k + 1 < got; ++k) buf[o++] = static_cast<uint8_t>(acc >> (16 - 8 * k));
    acc = 0;
  }
  return SecureBytes(buf.data(), o);
}

}  // namespace sealbox::engines::transit
