// The checks of a JWT/OIDC login that need no keys, storage or network, as
// Vault's jwt auth method (hashicorp/cap's jwt.Validate and the plugin's
// claims.go) makes them: the registered claims (iss, sub, aud, exp/nbf/iat
// with the role's leeways), the role's bound claims (exact or glob), claim
// mappings into alias metadata and the groups claim.
// Pure functions; thread-safe. Error messages never echo the token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::jwt {

// A claim by name, or by JSON pointer when it starts with '/'
// ("/kubernetes.io/namespace"); "aud" as a list; numbers as integers
// (Vault's getClaim truncates float claims). Null when absent.
Json GetClaim(const Json& claims, const std::string& name);

// ryanuber/go-glob: '*' matches any run of characters, anywhere, any
// number of times; no other metacharacters.
bool GlobMatch(const std::string& pattern, const std::string& value);

// Every bound claim is present and one of its values matches one of the
// token's (exactly, or as a glob when `glob`); Vault's messages otherwise.
Status ValidateBoundClaims(const Json& bound_claims, bool glob, const Json& claims);

// {metadata key: claim value} for each mapped claim the token has; a
// mapped claim that is not a string is an error.
Result<Json> ExtractMetadata(const Json& claims, const Json& claim_mappings);

// The groups claim as a list of names (a string is one group; empty names
// are dropped); Vault's messages when missing or not strings.
Result<std::vector<std::string>> GroupNames(const Json& claims, const std::string& groups_claim);

// What a login expects of the registered claims. Leeways in seconds as the
// role stores them: 0 means the default (150 for exp/nbf, 60 for clock
// skew), negative means none.
struct Expected {
  std::string issuer;
  std::string subject;
  std::vector<std::string> audiences;
  int64_t expiration_leeway = 0;
  int64_t not_before_leeway = 0;
  int64_t clock_skew_leeway = 0;
};

// iss, sub, aud and the time claims at `now` (unix seconds), with cap's
// messages ("invalid audience (aud) claim: ...", "invalid expiration time
// (exp) claim: token is expired", ...). As cap: a token needs one of
// exp/nbf/iat; a missing exp is the latest of iat/nbf plus the expiration
// leeway, a missing nbf is iat (or exp minus the not-before leeway).
Status ValidateRegisteredClaims(const Json& claims, const Expected& want, int64_t now);

}  // namespace sealbox::auth::jwt
