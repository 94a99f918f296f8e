// The SCRAM-SHA-256 verifier PostgreSQL stores in pg_authid.rolpassword
// (RFC 5802/7677, PostgreSQL's "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"),
// computed in Sealbox so the plaintext password never reaches the database
// server (not even its statement log): password_authentication = "scram-sha-256".
#pragma once

#include <string>
#include <string_view>

namespace sealbox::engines::database::postgres {

// `salt` is raw bytes (16 random bytes in use; fixed in tests).
std::string ScramSha256Verifier(std::string_view password, std::string_view salt, int iterations = 4096);

}  // namespace sealbox::engines::database::postgres
