// Thin wrappers over OpenSSL libcrypto: randomness, AES-256-GCM, HMAC, SHA-256,
// encodings, constant-time comparison and identifiers.
//
// All functions are thread-safe. Secrets go in and out as SecureBytes; encoded
// forms (hex/base64 of a key share) are returned as std::string only where the
// caller must hand them to a client, and callers wipe them when done.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox::crypto {

// Cryptographically secure random bytes (RAND_bytes). Aborts if the CSPRNG fails.
SecureBytes RandomBytes(size_t n);
void RandomFill(uint8_t* out, size_t n);
// Uniform random string over [0-9A-Za-z] of length n (rejection sampling).
std::string RandomBase62(size_t n);
// Random RFC 4122 version 4 UUID, lowercase.
std::string Uuid();

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// AES-256-GCM. Output of Seal: nonce(12) || ciphertext || tag(16).
// REQUIRES: key.size() == 32.
Result<std::string> AeadSeal(const SecureBytes& key, std::string_view plaintext, std::string_view aad);
// Returns the plaintext, or kCorruption if the tag does not verify.
Result<SecureBytes> AeadOpen(const SecureBytes& key, std::string_view sealed, std::string_view aad);

// HMAC-SHA256 raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view msg);

// HMAC-SHA256 under one key used many times (a salt, a chain key): the key is
// absorbed once. Signing is thread-safe; the states are wiped on destruction.
class HmacSha256Key {
 public:
  static constexpr size_t kSize = 32;
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;
  std::string Sign(std::string_view msg) const;
  // The MAC of the concatenation of `parts`, without building it.
  void SignParts(std::initializer_list<std::string_view> parts, uint8_t (&out)[kSize]) const;

 private:
  struct States;
  std::unique_ptr<States> s_;
};
std::string Sha256(std::string_view msg);

// SHA-256 of a message given in pieces (a streamed snapshot's state).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view piece);
  // The raw 32 bytes; the stream starts over.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Constant-time equality of two byte strings (length is not treated as secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HexEncode(std::string_view bytes);
void AppendHex(std::string& out, const uint8_t* bytes, size_t n);
// Returns nullopt-like error for odd length or non-hex characters.
Result<SecureBytes> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
// Standard base64 with padding; also accepts missing padding.
Result<SecureBytes> Base64Decode(std::string_view b64);
std::string Base64UrlEncode(std::string_view bytes);  // no padding
Result<SecureBytes> Base64UrlDecode(std::string_view b64);

}  // namespace sealbox::crypto
