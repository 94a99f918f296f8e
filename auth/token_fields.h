// The token_* fields every auth method's roles carry (Vault's
// sdk/helper/tokenutil): their route declarations, how a write reads them
// (only the fields supplied change, so one function serves create and
// update), how they are stored and shown, and how a login turns them into
// its Auth. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "logical/request.h"
#include "logical/routed_backend.h"

namespace sealbox::auth {

struct TokenParams {
  std::vector<std::string> policies;     // token_policies
  std::vector<std::string> bound_cidrs;  // token_bound_cidrs
  int64_t ttl = 0;                       // seconds
  int64_t max_ttl = 0;
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t num_uses = 0;
  bool no_default_policy = false;
  std::string type = "default";  // default, service or batch
};

// The deprecated names a method still accepts, each standing for its
// token_* field when that is not supplied: "policies", "period", "ttl",
// "max_ttl", "num_uses", "bound_cidrs", "explicit_max_ttl".
using DeprecatedTokenFields = std::vector<std::string>;

// The FieldSpecs of the token_* fields plus the `deprecated` ones.
std::vector<logical::FieldSpec> TokenFieldSpecs(const DeprecatedTokenFields& deprecated = {});

// Applies the token fields `fd` supplies to `p` and validates the result
// with Vault's messages. "default-service"/"default-batch" are read as
// "service"/"batch" with Vault's warning, appended to `warnings`.
Status ParseTokenFields(const logical::FieldData& fd, const DeprecatedTokenFields& deprecated, TokenParams* p,
                        std::vector<std::string>* warnings);

// The stored form (the token_* keys, durations in seconds) and back.
Json TokenParamsToJson(const TokenParams& p);
TokenParams TokenParamsFromJson(const Json& j);
// Adds the token_* keys to a role read's `data`.
void PopulateTokenData(const TokenParams& p, Json* data);
// Fills a login's Auth: policies, lifetimes, use count, CIDRs.
void PopulateTokenAuth(const TokenParams& p, logical::Auth* a);
// The answer to a login token's renewal, as Vault's methods give it: the
// role's token_ttl, token_max_ttl and token_period, which the renewal obeys.
logical::Response RenewalResponse(const TokenParams& p);

}  // namespace sealbox::auth
