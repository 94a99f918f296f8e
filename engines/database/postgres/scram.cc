#include "engines/database/postgres/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/crypto.h"

namespace sealbox::engines::database::postgres {

std::string ScramSha256Verifier(std::string_view password, std::string_view salt, int iterations) {
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    EVP_sha256(), sizeof salted, salted);
  std::string_view key(reinterpret_cast<const char*>(salted), sizeof salted);
  std::string client_key = crypto::HmacSha256(key, "Client Key");
  std::string stored_key = crypto::Sha256(client_key);
  std::string server_key = crypto::HmacSha256(key, "Server Key");
  OPENSSL_cleanse(salted, sizeof salted);
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + crypto::Base64Encode(salt) + "$" +
         crypto::Base64Encode(stored_key) + ":" + crypto::Base64Encode(server_key);
}

}  // namespace sealbox::engines::database::postgres
