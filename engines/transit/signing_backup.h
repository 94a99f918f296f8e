// Signing keys in Vault's backup format (keysutil.KeyEntry as JSON):
//   ed25519   "key": base64 of Go's 64-byte private key (seed || public key)
//   ecdsa-*   "ec_x", "ec_y", "ec_d": the point and the scalar
//   rsa-*     "rsa_key": Go's rsa.PrivateKey {"N", "E", "D", "Primes": [p, q],
//             "Precomputed": {"Dp", "Dq", "Qinv", "CRTValues": []}}
// plus "public_key" as a key read shows it. Go writes a big.Int as a bare JSON
// number, far past what a double holds, so big integers never pass through
// a JSON number here: in the Json values they are strings tagged with
// kBigIntTag, EmitBigNumbers turns them into bare numbers in dumped text and
// TagBigNumbers turns the bare long numbers of an input into tagged strings
// before parsing. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "engines/transit/transit_crypto.h"

namespace sealbox::engines::transit {

inline constexpr char kBigIntTag = '\x01';

// The key fields of a version's backup entry ("key", "ec_x", "ec_y", "ec_d",
// "rsa_key", "rsa_public_key", "public_key"); `der` is the version's private
// key, or its SubjectPublicKeyInfo when it holds a public key alone (Vault
// then writes "rsa_public_key", a point without "ec_d", or ed25519's
// "public_key" without "key").
Result<Json> SigningEntryFields(KeyType type, const SecureBytes& der, bool public_only);
// The key an entry holds, as a version keeps it; InvalidArgument "invalid
// backup: ..." for a missing, malformed or inconsistent key.
struct SigningEntryKey {
  SecureBytes der;
  bool public_only = false;
};
Result<SigningEntryKey> SigningKeyFromEntry(KeyType type, const Json& entry);
// Whether an entry holds any key (the archive's version-0 placeholder does not).
bool EntryHasSigningKey(const Json& entry);

// Dumped JSON text with every tagged string ("\u0001<digits>") made a bare number.
std::string EmitBigNumbers(std::string_view json);
// JSON text with every bare integer of more than 15 digits made a tagged string.
std::string TagBigNumbers(std::string_view json);

}  // namespace sealbox::engines::transit
