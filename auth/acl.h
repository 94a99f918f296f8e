// Acl: the authorisation decision for one token, compiled once from the
// token's set of policies (contract §5.3 / §5.4).
//
// Compile merges rules by identical pattern string (separately for exact,
// prefix `foo*` and segment-wildcard `foo/+/bar` patterns) and indexes them:
//   * exact patterns in a hash map,
//   * prefix patterns in a character trie (longest prefix in O(path length)),
//   * `+` patterns in a segment trie (literal and `+` children per node),
// so a check costs O(path length + matching candidates), independent of the
// number of rules.
//
// Root is never inferred from policy names: only the is_root flag passed to
// Compile makes a root ACL (advisory HCSEC-2025-13).
//
// Thread-safety: immutable after Compile; share the shared_ptr<const Acl>
// freely across threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/policy.h"
#include "base/json_util.h"
#include "logical/request.h"

namespace sealbox::auth {

struct AclResult {
  bool allowed = false;
  bool is_root = false;
  // Bits of the selected rule (kCapDeny alone for a deny rule; 0 when no rule
  // matched). Set even when the request is denied, for audit and debugging.
  uint32_t capabilities = 0;
  // Names of the policies that granted the operation's capability on the
  // selected rule (sorted, unique); {"root"} for root. Empty when denied.
  std::vector<std::string> granting_policies;
};

class Acl {
 public:
  // Builds the ACL. Null entries in `policies` are skipped. With is_root the
  // policies are ignored and everything is allowed. Templated paths
  // (PathRules::templated) are skipped: render them first (RenderPolicy).
  static std::shared_ptr<const Acl> Compile(const std::vector<std::shared_ptr<const Policy>>& policies,
                                            bool is_root);

  // Decides one request. `path` is the full API path without "/v1/" (leading
  // slashes are ignored); `data` is the top-level request data (an object, or
  // null when there is none); `is_sudo_path` marks root-protected paths, which
  // also need the `sudo` capability.
  //
  // Operation -> capability: read/list/create/update/patch/delete map to the
  // same-named capability, renew and revoke to update. Help is allowed when
  // the selected rule grants any capability. Parameter rules (§5.4) apply to
  // read, create, update and patch only. A selected rule with wrapping-TTL
  // bounds needs the response wrapped (`wrap_ttl`, seconds) within them.
  AclResult AllowOperation(std::string_view path, logical::Operation op, const Json& data,
                           bool is_sudo_path, int64_t wrap_ttl = 0) const;

  // Sorted capability names of the rule selected for `path` with list-style
  // selection (as Vault's sys/capabilities does): {"root"} for root, {"deny"}
  // when nothing matches or the rule is deny or grants nothing.
  std::vector<std::string> Capabilities(std::string_view path) const;

  // For the sys/internal/ui/mounts preflight: true if some rule could grant a
  // non-deny capability on a path under `prefix` (a mount path such as
  // "secret/"; a missing trailing '/' is added). Considers the rule selected
  // for the prefix itself, exact and prefix rules whose pattern starts with
  // `prefix`, and `+` patterns that can match a path under it.
  bool HasAnyNonDenyUnder(std::string_view prefix) const;

  bool is_root() const { return is_root_; }

  Acl(const Acl&) = delete;
  Acl& operator=(const Acl&) = delete;

 private:
  enum class Kind { kExact, kPrefix, kSegment };

  // One merged entry (all policies' blocks with the same pattern string).
  struct Rule {
    Kind kind = Kind::kExact;
    // Exact: the path. Prefix: the path without its '*'. Segment: the pattern
    // without a trailing '*' (used for ranking).
    std::string pattern;
    bool is_prefix = false;  // ends in '*' (prefix rules and `+...*` patterns)
    size_t first_wildcard = 0;  // ranking key 1: index of the first '+' or '*'
    int plus_segments = 0;      // ranking key 3
    uint32_t caps = 0;
    std::map<std::string, std::vector<Json>> allowed_parameters;
    std::map<std::string, std::vector<Json>> denied_parameters;
    std::vector<std::string> required_parameters;
    int64_t min_wrapping_ttl = 0;
    int64_t max_wrapping_ttl = 0;
    // (policy name, capability bits it contributed), for granting_policies.
    std::vector<std::pair<std::string, uint32_t>> grants;
  };

  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Character trie over prefix patterns. children is sorted by byte.
  struct CharNode {
    std::vector<std::pair<unsigned char, uint32_t>> children;
    int32_t rule = -1;
  };

  // Segment trie over `+` patterns.
  struct SegNode {
    std::unordered_map<std::string, uint32_t, TransparentHash, std::equal_to<>> literal;
    int32_t plus = -1;        // child for a "+" segment
    int32_t exact_rule = -1;  // a pattern without trailing '*' ends here
    // Patterns whose last segment is `first` followed by '*': they match when
    // the path's segment at this depth starts with `first`.
    std::vector<std::pair<std::string, uint32_t>> prefix_rules;
  };

  Acl() = default;

  void AddRule(Rule rule);
  void BuildIndexes();

  // §5.3 step 2: the selected rule, or nullptr.
  const Rule* Select(std::string_view path, bool list_op) const;
  // Best-ranked prefix / `+` candidate for `path`, or nullptr.
  const Rule* SelectNonExact(std::string_view path) const;
  void CollectSegmentMatches(uint32_t node, const std::vector<std::string_view>& parts, size_t depth,
                             const Rule** best) const;
  bool SegmentSubtreeGrants(uint32_t node) const;
  bool SegmentCouldMatchUnder(uint32_t node, const std::vector<std::string_view>& parts, size_t depth) const;
  // True when a ranks strictly higher than b (§5.3 step 2c: "last one wins").
  static bool RanksHigher(const Rule& a, const Rule& b);
  static bool CheckParameters(const Rule& rule, const Json& data);

  bool is_root_ = false;
  std::vector<Rule> rules_;
  std::unordered_map<std::string, uint32_t, TransparentHash, std::equal_to<>> exact_;
  std::vector<CharNode> prefix_trie_;
  std::vector<SegNode> seg_trie_;
  // Sorted (pattern, rule) lists of exact and prefix rules, for the
  // HasAnyNonDenyUnder range scan.
  std::vector<std::pair<std::string, uint32_t>> sorted_exact_;
  std::vector<std::pair<std::string, uint32_t>> sorted_prefix_;
};

}  // namespace sealbox::auth
