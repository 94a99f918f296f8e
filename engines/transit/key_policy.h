// KeyPolicy: one named Transit key, all its versions and its settings (Vault's
// keysutil.Policy), with the symmetric operations done under it.
//
// Storage: "policy/<name>" in the mount's view (so under the barrier), in a
// binary layout (EncodePolicy) so key bytes never pass through JSON text:
//   "SBTK" 0x01 | u32 len | settings JSON (no key material)
//   | per version, ascending: u32 version | u32 len | key | u32 len | hmac key
//
// Security invariant: key material only lives in SecureBytes (wiped on
// destruction); the encoded form is wiped by its callers after use.
// Not thread-safe: a value type, shared immutably (KeyStore).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "engines/transit/transit_crypto.h"

namespace sealbox::engines::transit {

struct KeyVersion {
  SecureBytes key;       // the AEAD key, an hmac-type key's MAC key, or a signing key's private DER
  SecureBytes hmac_key;  // 32 bytes: hmac/verify (and convergent nonces) of AEAD keys
  int64_t created = 0;   // unix seconds
  bool public_only = false;  // an imported public key (SubjectPublicKeyInfo DER): verifies and encrypts only
};

struct KeyPolicy {
  std::string name;
  KeyType type = KeyType::kAes256Gcm96;
  bool derived = false;
  bool convergent = false;  // convergent (v3) encryption; requires derived
  bool exportable = false;
  bool allow_plaintext_backup = false;
  bool deletion_allowed = false;
  size_t key_size = 0;  // hmac keys: bytes per version (32..512)
  int latest_version = 0;
  int min_decryption_version = 1;
  int min_encryption_version = 0;
  int min_available_version = 0;
  int64_t auto_rotate_period = 0;  // seconds; 0: never rotated in the background
  bool imported = false;            // made by keys/<name>/import; cleared by a rotation (Vault's Imported)
  bool allow_imported_rotation = false;  // an imported key may still be rotated here
  std::map<int, KeyVersion> versions;

  // Adds version latest_version + 1 with fresh random key material.
  void Rotate(int64_t now_unix);
  // True when auto_rotate_period has passed since the latest version was made.
  bool RotationDue(int64_t now_unix) const;
  // Vault's keys/<name> read body; a derived ed25519 key shows the public
  // keys derived for `context` (none without one).
  Json ReadView(std::string_view context = {}) const;
  const KeyVersion* Version(int v) const;
};

SecureBytes EncodePolicy(const KeyPolicy& p);
// Corruption when the bytes are not a policy this code wrote.
Result<KeyPolicy> DecodePolicy(std::string_view bytes);

// A "vault:vN:payload" value split; nullopt fields name what was wrong.
struct VersionedValue {
  enum class Error { kNone, kNoPrefix, kFieldCount, kBadVersion } error = Error::kNone;
  int version = 0;
  std::string_view payload;
};
VersionedValue SplitVersioned(std::string_view value);
// The same, failing with Vault's words: "<no_prefix_label>: no prefix",
// "<label>: wrong number of fields", "<label>: version number could not be
// decoded" (labels such as "invalid ciphertext", "invalid signature").
Result<VersionedValue> ParseVersioned(std::string_view value, std::string_view label,
                                      std::string_view no_prefix_label);
std::string VersionPrefix(int version);  // "vault:vN:"

// The version an encryption (or HMAC, signature, datakey) uses: `requested`,
// or the latest when 0; InvalidArgument with Vault's words otherwise.
Result<int> EncryptionVersion(const KeyPolicy& p, int64_t requested);

// "vault:vN:base64(nonce|ct|tag)" of `plaintext` under version `version`,
// derived from `context` when the key is; convergent keys take their nonce
// from the plaintext.
Result<std::string> EncryptValue(const KeyPolicy& p, int version, std::string_view context,
                                 std::string_view plaintext, std::string_view aad);
struct Decrypted {
  SecureBytes plaintext;
  int version = 0;
};
Result<Decrypted> DecryptValue(const KeyPolicy& p, std::string_view context, std::string_view ciphertext,
                               std::string_view aad);

// The MAC key of a version (an hmac-type key's own key).
const SecureBytes& MacKey(const KeyPolicy& p, const KeyVersion& v);

}  // namespace sealbox::engines::transit
