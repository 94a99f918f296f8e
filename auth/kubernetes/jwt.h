// Minimal JWT (JWS compact) parsing and signature verification for
// Kubernetes ServiceAccount tokens: RS/PS/ES 256/384/512 only.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::k8s {

struct Jwt {
  Json header;
  Json claims;
  std::string alg;
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};

// Errors are InvalidArgument with short messages that never echo the token.
Result<Jwt> ParseJwt(std::string_view token);

// OK if any of the PEM public keys (or certificates) verifies the signature.
Status VerifyJwtSignature(const Jwt& jwt, const std::vector<std::string>& pem_keys);

// Splits a PEM bundle into its blocks ("-----BEGIN ...-----" to "-----END ...-----").
std::vector<std::string> SplitPemBlocks(const std::string& bundle);

}  // namespace sealbox::auth::k8s
