// Bring-your-own-key imports into the Transit engine, as Vault's
// keys/<name>/import and import_version take them: the ciphertext is
//   RSA-OAEP(wrapping key, hash_function for OAEP and MGF1, no label)(ephemeral AES key)
//   || AES-KWP (RFC 5649, OpenSSL's EVP_aes_256_wrap_pad)(ephemeral key)(target key)
// where the wrapping key is the mount's RSA-4096 key (transit/wrapping_key)
// and the target key is raw bytes for aes*, chacha20-poly1305 and hmac keys,
// a PKCS#8 DER private key for ed25519, ecdsa-* and rsa-*. Errors carry
// OpenBao's words. Key material is only held in SecureBytes. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "engines/transit/transit_crypto.h"

namespace sealbox::engines::transit {

// The OAEP hash of `hash_function` (SHA1, SHA224, SHA256, SHA384, SHA512);
// InvalidArgument "unknown hash function: X".
Result<const EVP_MD*> ImportHash(std::string_view name);

// The target key a base64 import ciphertext carries, unwrapped with the
// wrapping key's private DER.
Result<SecureBytes> UnwrapImport(const SecureBytes& wrapping_der, std::string_view ciphertext_b64, const EVP_MD* md);

// The key material a version of `type` holds for an unwrapped target key
// (for asymmetric types, the DER this engine stores); InvalidArgument naming
// the size, curve or type that does not fit.
Result<SecureBytes> ImportedKeyMaterial(KeyType type, SecureBytes target);

// The SubjectPublicKeyInfo DER of an imported public key (PEM) of `type`;
// InvalidArgument "error importing key: error parsing public key: ..." or
// naming the size, curve or type that does not fit.
Result<SecureBytes> ImportedPublicKey(KeyType type, std::string_view pem);

}  // namespace sealbox::engines::transit
