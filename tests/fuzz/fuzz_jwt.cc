// The JWT parser used by the Kubernetes and JWT auth methods, signature
// verification with a fixed key, and the JWKS parser (the same bytes read as
// a key set; any keys it yields verify the token too): errors, never
// crashes, on any input.
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
  auto jwks = sealbox::auth::ParseJwks(token);
  auto jwt = sealbox::auth::ParseJwt(token);
  if (!jwt.ok()) return 0;
  if (jwks.ok())
    for (const auto& k : *jwks) (void)k.Verifies(*jwt);
  if (!jwt->header.is_object() || !jwt->claims.is_object()) __builtin_trap();
  std::vector<std::string> keys = sealbox::auth::SplitPemBlocks(kKey);
  (void)sealbox::auth::VerifyJwtSignature(*jwt, keys);
  return 0;
}
