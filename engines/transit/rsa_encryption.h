// RSA encryption of the Transit engine's rsa-* keys as Vault's keysutil does
// it (rsa.EncryptOAEP): OAEP with SHA-256 for both the label hash and MGF1,
// no label. The ciphertext is the raw RSA block (the key's size in bytes);
// the caller adds "vault:vN:" and base64. Also unwraps BYOK imports, which
// use the same scheme. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox::engines::transit {

// InvalidArgument "failed to RSA encrypt the plaintext: crypto/rsa: message
// too long for RSA key size" (Vault's words) past the OAEP bound.
Result<std::string> RsaOaepEncrypt(const SecureBytes& private_der, std::string_view plaintext);
// InvalidArgument "failed to RSA decrypt the ciphertext: crypto/rsa:
// decryption error" for anything that does not decrypt (no detail, as Go).
// `md` (OAEP and MGF1 hash) is SHA-256 unless given (imports choose theirs).
Result<SecureBytes> RsaOaepDecrypt(const SecureBytes& private_der, std::string_view ciphertext,
                                   const EVP_MD* md = nullptr);

}  // namespace sealbox::engines::transit
