// The Transit engine's cryptographic primitives over OpenSSL 3 EVP: the AEADs
// of its symmetric key types, HKDF-SHA256 key derivation, HMAC and digests by
// Vault's algorithm names, and Go's strict standard base64 (Vault's errors
// name the offending byte).
//
// Layouts follow Vault's keysutil so ciphertext moves between the two given
// the same key: a sealed value is nonce(12) || ciphertext || tag(16).
// All functions are thread-safe; key material goes in and out as SecureBytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox::engines::transit {

enum class KeyType {
  kAes128Gcm96,
  kAes256Gcm96,
  kChaCha20Poly1305,
  kHmac,
  kEd25519,
  kEcdsaP256,
  kEcdsaP384,
  kEcdsaP521,
  kRsa2048,
  kRsa3072,
  kRsa4096,
};

// "aes256-gcm96"... as Vault names the types; nullopt for an unknown name.
std::optional<KeyType> ParseKeyType(std::string_view name);
std::string_view KeyTypeName(KeyType type);
// The raw key length of an AEAD type (16 or 32); 0 for the others.
size_t AeadKeySize(KeyType type);
inline bool IsAead(KeyType type) { return AeadKeySize(type) != 0; }
// ed25519, ecdsa-*, rsa-*: keys that sign (asymmetric.h).
inline bool IsSigning(KeyType type) { return !IsAead(type) && type != KeyType::kHmac; }
inline bool IsRsa(KeyType type) {
  return type == KeyType::kRsa2048 || type == KeyType::kRsa3072 || type == KeyType::kRsa4096;
}
// AEAD and rsa-* keys encrypt (rsa: OAEP, rsa_encryption.h).
inline bool SupportsEncryption(KeyType type) { return IsAead(type) || IsRsa(type); }
// AEAD and ed25519 keys may be derived per context (HKDF-SHA256).
inline bool SupportsDerivation(KeyType type) { return IsAead(type) || type == KeyType::kEd25519; }

inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;

// nonce || ciphertext || tag under `key` (AeadKeySize(type) bytes).
// REQUIRES: IsAead(type), nonce.size() == kNonceSize.
Result<std::string> AeadSeal(KeyType type, const SecureBytes& key, std::string_view nonce,
                             std::string_view plaintext, std::string_view aad);
// The plaintext of a sealed value; InvalidArgument "invalid ciphertext length"
// when it cannot hold a nonce and tag, "cipher: message authentication
// failed" when the tag does not verify (Vault's words).
Result<SecureBytes> AeadOpen(KeyType type, const SecureBytes& key, std::string_view sealed,
                             std::string_view aad);

// HKDF-SHA256 (RFC 5869) with no salt: `n` bytes of OKM from `ikm` and `info`.
SecureBytes HkdfSha256(const SecureBytes& ikm, std::string_view info, size_t n);

// Vault's hash algorithm names: sha2-224/256/384/512, sha3-224/256/384/512.
enum class HashAlgo { kSha2_224, kSha2_256, kSha2_384, kSha2_512, kSha3_224, kSha3_256, kSha3_384, kSha3_512 };
std::optional<HashAlgo> ParseHashAlgo(std::string_view name);
const EVP_MD* HashMd(HashAlgo algo);

std::string Digest(HashAlgo algo, std::string_view msg);
std::string Hmac(HashAlgo algo, const SecureBytes& key, std::string_view msg);

// The convergent (v3) nonce: the first 12 bytes of HMAC-SHA256(key, plaintext),
// so equal plaintexts under one derived key give equal ciphertexts.
std::string ConvergentNonce(const SecureBytes& hmac_key, std::string_view plaintext);

// Go's base64.StdEncoding.DecodeString: padding required, no whitespace; the
// error is "illegal base64 data at input byte N".
Result<SecureBytes> DecodeStdBase64(std::string_view in);

}  // namespace sealbox::engines::transit
