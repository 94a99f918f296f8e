// The JWT parser used by Kubernetes auth, and signature verification with a
// fixed key: errors, never crashes, on any token.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/jws.h"

namespace {
// A throwaway P-256 public key: verification must fail cleanly, never crash.
const char kKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n"
    "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string token(reinterpret_cast<const char*>(data), size);
  auto jwt = sealbox::auth::ParseJwt(token);
  if (!jwt.ok()) return 0;
  if (!jwt->header.is_object() || !jwt->claims.is_object()) __builtin_trap();
  std::vector<std::string> keys = sealbox::auth::SplitPemBlocks(kKey);
  (void)sealbox::auth::VerifyJwtSignature(*jwt, keys);
  return 0;
}
