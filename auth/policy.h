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
#include <memory>
#include <optional>
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
  // The path contains "{{": an identity template, rendered per token by
  // RenderPolicyPath (see below) and never compiled as written.
  bool templated = false;
};

struct Policy {
  std::string name;
  std::string raw;  // the policy text as submitted
  std::vector<PathRules> paths;
  bool templated = false;  // some path is templated
};

// The identity a token carries, for templated policy paths. Sealbox has no
// identity store: a token has at most one alias, the one its login created
// (auth method mount accessor, alias name, alias metadata), and an entity ID
// only if one was ever set (never, today). Plain values.
struct IdentityAlias {
  std::string mount_accessor;
  std::string name;
  std::map<std::string, std::string> metadata;
};

struct IdentityContext {
  std::string_view entity_id;            // "" = no entity
  const IdentityAlias* alias = nullptr;  // not owned; null = no alias
};

// Renders one templated policy path (Vault's ACL templating, a subset):
//   {{identity.entity.id}}, {{identity.entity.name}},
//   {{identity.entity.aliases.<mount accessor>.name}},
//   {{identity.entity.aliases.<mount accessor>.metadata.<key>}}
// (whitespace inside the braces is ignored). nullopt when the path cannot be
// rendered for this identity: an unknown or unsupported selector (groups,
// entity metadata, alias id), no such alias or key, an unterminated "{{",
// or a value that is not a safe literal. The caller skips such a path, as
// Vault does; the rest of the policy still applies.
//
// Values are inserted literally, and only values that cannot change how the
// path matches are accepted: non-empty, at most 512 bytes, no ASCII control
// character, none of '*', '+', '/', '\', '{', '}', and not containing "..".
// Vault inserts any value as is (a value "*" in "secret/{{..}}" would grant
// "secret/*"); Sealbox refuses to render instead, so a value can only ever
// narrow the grant to one literal path segment.
std::optional<std::string> RenderPolicyPath(std::string_view path, const IdentityContext& identity);

// A copy of `policy` with every templated path rendered for `identity`
// (null: no identity) and the paths that cannot be rendered dropped.
// Returns `policy` itself when it has no templates.
std::shared_ptr<const Policy> RenderPolicy(const std::shared_ptr<const Policy>& policy,
                                           const IdentityContext* identity);

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
// The built-in policy of response-wrapping tokens (auth/policy_store.cc).
inline constexpr const char* kResponseWrappingPolicy = "response-wrapping";

// Sorted capability names for a bitmap ("create", "delete", "list", "patch",
// "read", "sudo", "update"); ["deny"] for a deny or empty bitmap.
std::vector<std::string> CapabilityNames(uint32_t caps);

}  // namespace sealbox::auth
