// Signing keys of the Transit engine (ed25519, ecdsa-p256/p384, rsa-2048/
// 3072/4096) over OpenSSL 3 EVP: generation, signatures as Vault makes them,
// and the public key forms Vault shows.
//
// A version's private key is held as DER (PKCS#8 or the type's traditional
// form, what i2d_PrivateKey writes) in SecureBytes and parsed per use.
// Signatures:
//   ed25519  the input itself is signed (no hash; `prehashed` is ignored);
//   ecdsa    the hash of the input (or the input when prehashed), ASN.1 DER
//            or, marshaled "jws", r || s at the curve's size;
//   rsa      the hash, PSS (by default the salt as long as possible when
//            signing, any when verifying, as Go's PSSSaltLengthAuto; else
//            the hash's length or a given length) or PKCS#1 v1.5.
// All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "engines/transit/transit_crypto.h"

namespace sealbox::engines::transit {

// The key a version holds: its private DER, or (an imported public key alone)
// its SubjectPublicKeyInfo DER. The caller frees it (EVP_PKEY_free).
Result<EVP_PKEY*> LoadKeyDer(const SecureBytes& der);

// A fresh private key of a signing type, DER-encoded.
SecureBytes GenerateSigningKey(KeyType type);

struct SignOptions {
  HashAlgo hash = HashAlgo::kSha2_256;
  bool prehashed = false;  // the input is already the digest (ecdsa, rsa)
  bool pss = true;         // rsa: PSS, else PKCS#1 v1.5
  bool jws = false;        // ecdsa: r || s rather than ASN.1
  int salt_length = 0;     // rsa PSS, Go's convention: 0 auto, -1 the hash's length, else exactly this
};

// The raw signature of `input`; InvalidArgument for options the type refuses
// (a prehashed input of the wrong length, a PSS salt longer than the key allows).
Result<std::string> Sign(KeyType type, const SecureBytes& private_der, std::string_view input,
                         const SignOptions& opts);
// Whether `signature` is valid for `input`; a malformed signature is just invalid.
Result<bool> Verify(KeyType type, const SecureBytes& private_der, std::string_view input,
                    std::string_view signature, const SignOptions& opts);

// The private key (DER) a derived ed25519 key uses for `context`: Vault's
// seed is HKDF-SHA256 of Go's 64-byte private key (seed || public key) with
// the context as info, 32 bytes. InvalidArgument (Vault's words, prefixed
// "error deriving key: ") without a context.
Result<SecureBytes> DeriveEd25519(const SecureBytes& private_der, std::string_view context);

// Vault's `public_key` of a version: ed25519 the raw key in base64, the
// others the PEM of their SubjectPublicKeyInfo.
Result<std::string> PublicKeyText(KeyType type, const SecureBytes& private_der);
// The private key as PEM (PKCS#8), for export/signing-key.
Result<std::string> PrivateKeyPem(const SecureBytes& private_der);
// Vault's `name` of a signing key version: "ed25519", "P-256", "rsa-2048"...
std::string_view SigningKeyName(KeyType type);

}  // namespace sealbox::engines::transit
