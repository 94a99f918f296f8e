// JWT (JWS compact) parsing and signature verification, shared by the
// Kubernetes and JWT/OIDC auth methods: RS/PS/ES 256/384/512 and EdDSA
// (Ed25519) only — never "none" nor an HMAC algorithm, so a public key can
// not be used as an HMAC secret (key confusion). Public keys come from PEM
// (SPKI or certificate) or from a JWK (RFC 7517: RSA, EC, OKP).
// Pure functions; thread-safe (a PublicKey is immutable once made).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth {

struct Jwt {
  Json header;
  Json claims;
  std::string alg;
  std::string kid;            // the header's "kid", empty when absent
  std::string signing_input;  // "<header b64>.<payload b64>"
  std::string signature;      // raw bytes
};

// Errors are InvalidArgument with short messages that never echo the token.
Result<Jwt> ParseJwt(std::string_view token);

// A public key able to verify JWS signatures, with the JWK's "kid" and
// "alg" when it came from a JWK.
class PublicKey {
 public:
  static Result<PublicKey> FromPem(const std::string& pem);
  // A JWK object; keys whose "use" is not "sig" are refused.
  static Result<PublicKey> FromJwk(const Json& jwk);

  // Whether this key verifies `jwt`'s signature with the token's algorithm
  // (the key type, curve and the JWK's "alg", when set, must fit it).
  bool Verifies(const Jwt& jwt) const;
  const std::string& kid() const { return kid_; }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::string kid_, alg_;
};

// A JWKS document's usable keys; the rest (other "use", unknown types) are
// skipped. InvalidArgument when it is not a JWKS at all.
Result<std::vector<PublicKey>> ParseJwks(std::string_view body);

// OK if any of the PEM public keys (or certificates) verifies the signature.
Status VerifyJwtSignature(const Jwt& jwt, const std::vector<std::string>& pem_keys);

// Splits a PEM bundle into its blocks ("-----BEGIN ...-----" to "-----END ...-----").
std::vector<std::string> SplitPemBlocks(const std::string& bundle);

}  // namespace sealbox::auth
