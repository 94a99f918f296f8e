// ACL policies: the parsed form of one Vault policy document (HCL or JSON).
//
// A Policy is a list of PathRules as written by the operator; nothing is merged
// or indexed here (that is Acl's job, see auth/acl.h). Parsing validates every
// key and capability so a stored policy is always compilable.
//
// Root privileges never come from a Policy: a policy that happens to be named
// "root" is an ordinary policy. Only the caller's explicit is_root flag on
// Acl::Compile grants root (advisory HCSEC-2025-13: case-variant "Root").
//
// Thread-safety: plain immutable-after-parse values; ParsePolicy and
// NormalizePolicyName are pure functions safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth {

// Capability bits. `subscribe` and `recover` are accepted by the parser but
// map to no bit: Sealbox has no event or snapshot-recovery endpoints.
enum Capability : uint32_t {
  kCapDeny = 1u << 0,
  kCapCreate = 1u << 1,
  kCapRead = 1u << 2,
  kCapUpdate = 1u << 3,
  kCapDelete = 1u << 4,
  kCapList = 1u << 5,
  kCapSudo = 1u << 6,
  kCapPatch = 1u << 7,
};

// One `path "..." { ... }` block.
struct PathRules {
  // As written, with one leading '/' removed; a trailing '*' is kept.
  std::string path;
  // Capability bits; exactly kCapDeny when the block lists "deny".
  uint32_t caps = 0;
  // Parameter name (lowercased) -> allowed/denied values; an empty list means
  // "any value". Cleared for deny blocks.
  std::map<std::string, std::vector<Json>> allowed_parameters;
  std::map<std::string, std::vector<Json>> denied_parameters;
  // Lowercased parameter names that must be present.
  std::vector<std::string> required_parameters;
  // Seconds; 0 = unset.
  int64_t min_wrapping_ttl = 0;
  int64_t max_wrapping_ttl = 0;
};

struct Policy {
  std::string name;
  std::string raw;  // the policy text as submitted
  std::vector<PathRules> paths;
};

// Parses a policy in HCL or JSON. JSON is used when the text starts with '{'
// (after whitespace) and parses as JSON; anything else goes to the HCL parser.
// Errors are InvalidArgument with messages such as
//   path "x": invalid capability "y"
//   invalid key "foo"
//   line 3, column 7: unexpected character '}'   (HCL syntax errors)
// The caller adds the "failed to parse policy: " prefix.
Result<Policy> ParsePolicy(std::string_view name, std::string_view text);

// Trims ASCII whitespace and lowercases, so "Root" and " root" both become
// "root". The caller must then treat "root" as reserved.
std::string NormalizePolicyName(std::string_view name);

// The built-in `default` policy (contract §4.6), without the identity-templated
// paths and without sys/control-group.
extern const char* const kDefaultPolicyText;

// Sorted capability names for a bitmap ("create", "delete", "list", "patch",
// "read", "sudo", "update"); ["deny"] for a deny or empty bitmap.
std::vector<std::string> CapabilityNames(uint32_t caps);

}  // namespace sealbox::auth
