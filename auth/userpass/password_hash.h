// Password hashing for the userpass method: Argon2id (RFC 9106), memory-hard,
// from Debian's libargon2 (the reference implementation), in its PHC string
// form ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so the parameters
// travel with each hash and can be raised later without a migration.
//
// At most kConcurrentHashes hashes run at once: each takes 19 MiB, and a
// burst of logins must not be able to take the process's memory.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sealbox::auth::userpass {

inline constexpr size_t kMaxPasswordBytes = 4096;
inline constexpr int kConcurrentHashes = 4;

// A new hash of `password` with a random 16-byte salt.
Result<std::string> HashPassword(std::string_view password);

// Whether `password` matches `encoded` (constant-time comparison of the
// derived hashes). A malformed `encoded` never matches.
bool VerifyPassword(const std::string& encoded, std::string_view password);

// Spends the time and memory of one verification without any stored hash:
// a login for a user that does not exist costs what a wrong password costs.
void VerifyAgainstNothing(std::string_view password);

}  // namespace sealbox::auth::userpass
