// The policies a new token gets: Vault's token-store rules (handleCreateCommon
// in token_store.go), as pure functions of the request, the parent token and
// the role, so that each rule can be tested without a store.
//
// Thread-safe: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/token_store.h"
#include "base/status.h"

namespace sealbox::auth {

// Vault's policyutil.SanitizePolicies: normalised names (NormalizePolicyName),
// empty ones dropped, "default" added when asked, sorted and unique; a set
// containing "root" becomes just {"root"}.
std::vector<std::string> SanitizePolicies(const std::vector<std::string>& in, bool add_default);

// ryanuber/go-glob: '*' matches any run of characters, nothing else is special.
// (Role policy and entity-alias globs; ACL parameter globs are another rule, auth/acl.cc.)
bool GoGlobMatch(std::string_view pattern, std::string_view subject);
// True when one of `globs` matches `s`.
bool MatchesAnyGoGlob(const std::vector<std::string>& globs, std::string_view s);

// What decides a new token's policies.
struct TokenPolicyInputs {
  std::vector<std::string> requested;  // the request's "policies", as sent
  std::vector<std::string> parent;     // the creating token's policies
  const TokenRole* role = nullptr;     // the role created against, or null
  bool no_default_policy = false;      // the request's "no_default_policy"
  bool sudo = false;                   // the creator has root or sudo on the create path
  bool parent_is_root = false;         // the creating token holds "root"
  bool batch = false;                  // a batch token is being created
};

// The sanitised policy list of the new token, or InvalidArgument with Vault's
// message. In Vault's order of cases:
//   * a role that limits policies (allowed, disallowed or their globs): the
//     requested set (or the role's allowed set, or the parent's) must lie
//     within the role's allowed lists and outside its disallowed ones;
//     "default" is added unless the request, the role or its disallowed
//     lists say otherwise;
//   * otherwise nothing requested: the parent's set ("default" only if the
//     parent has it);
//   * otherwise, without sudo: a subset of the parent's set, plus "default"
//     when the parent has it;
//   * otherwise (sudo): any set, plus "default".
// "default" is dropped with no_default_policy; "response-wrapping" and
// "control-group" are never assigned; only a root parent creates a root
// token, and never a batch one.
Result<std::vector<std::string>> ResolveTokenPolicies(const TokenPolicyInputs& in);

}  // namespace sealbox::auth
