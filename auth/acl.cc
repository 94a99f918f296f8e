#include "auth/acl.h"

#include <algorithm>
#include <cctype>

namespace sealbox::auth {

namespace {

constexpr uint32_t kAllCaps =
    kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList | kCapSudo | kCapPatch;

// Go's strings.Split: "a/b/" -> {"a","b",""}, "" -> {""}.
std::vector<std::string_view> SplitPath(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasPlusSegment(std::string_view path) {
  for (std::string_view seg : SplitPath(path)) {
    if (seg == "+") return true;
  }
  return false;
}

// A rule that grants something other than deny.
bool GrantsAnything(uint32_t caps) { return !(caps & kCapDeny) && (caps & kAllCaps) != 0; }

// Vault's strutil.GlobbedStringsMatch: '*' is a glob only at the start and/or
// end, and only when the pattern has at least two characters (a lone "*" is a
// literal, as in Vault; an empty value list is how a policy says "any value").
bool GlobMatch(std::string_view item, std::string_view val) {
  if (item.size() < 2) return val == item;
  bool star_front = item.front() == '*';
  bool star_back = item.back() == '*';
  if (star_front && star_back) return val.find(item.substr(1, item.size() - 2)) != std::string_view::npos;
  if (star_front) return val.ends_with(item.substr(1));
  if (star_back) return val.starts_with(item.substr(0, item.size() - 1));
  return val == item;
}

// Vault's valueInParameterList: an empty list matches every value; strings
// glob-match; anything else must be equal (numbers compare by value).
bool ValueInList(const Json& v, const std::vector<Json>& list) {
  if (list.empty()) return true;
  for (const Json& el : list) {
    if (el.is_null() || v.is_null()) {
      if (el.is_null() && v.is_null()) return true;
    } else if (el.is_string() && v.is_string()) {
      if (GlobMatch(el.get_ref<const std::string&>(), v.get_ref<const std::string&>())) return true;
    } else if (el == v) {
      return true;
    }
  }
  return false;
}

void MergeParams(const std::map<std::string, std::vector<Json>>& src,
                 std::map<std::string, std::vector<Json>>* dst) {
  for (const auto& [k, vals] : src) {
    auto it = dst->find(k);
    if (it == dst->end()) {
      dst->emplace(k, vals);
    } else if (it->second.empty() || vals.empty()) {
      it->second.clear();  // an empty list means any value, and wins
    } else {
      it->second.insert(it->second.end(), vals.begin(), vals.end());
    }
  }
}

int64_t MinNonZero(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

uint32_t OpCapability(logical::Operation op) {
  switch (op) {
    case logical::Operation::kRead: return kCapRead;
    case logical::Operation::kList: return kCapList;
    case logical::Operation::kCreate: return kCapCreate;
    case logical::Operation::kUpdate: return kCapUpdate;
    case logical::Operation::kPatch: return kCapPatch;
    case logical::Operation::kDelete: return kCapDelete;
    case logical::Operation::kRenew:
    case logical::Operation::kRevoke: return kCapUpdate;
    case logical::Operation::kHelp: return 0;
  }
  return 0;
}

std::string_view StripLeadingSlashes(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  return p;
}

}  // namespace

std::shared_ptr<const Acl> Acl::Compile(const std::vector<std::shared_ptr<const Policy>>& policies,
                                        bool is_root) {
  std::shared_ptr<Acl> acl(new Acl());
  acl->is_root_ = is_root;
  if (is_root) return acl;

  // Merge key: kind + pattern string. Patterns are never merged across kinds
  // or across different strings (§5.3 step 1).
  std::map<std::pair<int, std::string>, uint32_t> index;
  for (const auto& policy : policies) {
    if (!policy) continue;
    for (const PathRules& pr : policy->paths) {
      const std::string& path = pr.path;
      // ParsePolicy rejects "+*"; guard against hand-built policies anyway.
      if (path.find("+*") != std::string::npos) continue;
      // A template is never a pattern: it is rendered per token first
      // (RenderPolicy); one left unrendered grants nothing.
      if (pr.templated) continue;

      Rule in;
      std::string key;
      if (HasPlusSegment(path)) {
        in.kind = Kind::kSegment;
        key = path;  // the '*' stays part of the identity: a/+/b and a/+/b* differ
        in.is_prefix = !path.empty() && path.back() == '*';
        in.pattern = in.is_prefix ? path.substr(0, path.size() - 1) : path;
        in.first_wildcard = path.find('+');
        for (std::string_view seg : SplitPath(in.pattern)) in.plus_segments += seg == "+";
      } else if (!path.empty() && path.back() == '*') {
        in.kind = Kind::kPrefix;
        in.is_prefix = true;
        in.pattern = path.substr(0, path.size() - 1);
        key = in.pattern;
        in.first_wildcard = in.pattern.size();
      } else {
        in.kind = Kind::kExact;
        in.pattern = path;
        key = path;
      }

      auto [it, inserted] = index.try_emplace({static_cast<int>(in.kind), key},
                                              static_cast<uint32_t>(acl->rules_.size()));
      if (inserted) {
        in.caps = pr.caps;
        if (!(pr.caps & kCapDeny)) {
          in.allowed_parameters = pr.allowed_parameters;
          in.denied_parameters = pr.denied_parameters;
          in.required_parameters = pr.required_parameters;
          in.min_wrapping_ttl = pr.min_wrapping_ttl;
          in.max_wrapping_ttl = pr.max_wrapping_ttl;
        }
        in.grants.emplace_back(policy->name, pr.caps);
        acl->rules_.push_back(std::move(in));
        continue;
      }

      Rule& r = acl->rules_[it->second];
      if (r.caps & kCapDeny) {
        // Already deny-only: nothing can widen it.
        if (pr.caps & kCapDeny) r.grants.emplace_back(policy->name, kCapDeny);
        continue;
      }
      if (pr.caps & kCapDeny) {
        // Deny wins on the same pattern and clears the parameter rules.
        r.caps = kCapDeny;
        r.allowed_parameters.clear();
        r.denied_parameters.clear();
        r.required_parameters.clear();
        r.min_wrapping_ttl = r.max_wrapping_ttl = 0;
        r.grants.assign(1, {policy->name, kCapDeny});
        continue;
      }
      r.caps |= pr.caps;
      MergeParams(pr.allowed_parameters, &r.allowed_parameters);
      MergeParams(pr.denied_parameters, &r.denied_parameters);
      for (const auto& req : pr.required_parameters) {
        if (std::find(r.required_parameters.begin(), r.required_parameters.end(), req) ==
            r.required_parameters.end()) {
          r.required_parameters.push_back(req);
        }
      }
      r.min_wrapping_ttl = MinNonZero(r.min_wrapping_ttl, pr.min_wrapping_ttl);
      r.max_wrapping_ttl = MinNonZero(r.max_wrapping_ttl, pr.max_wrapping_ttl);
      r.grants.emplace_back(policy->name, pr.caps);
    }
  }
  acl->BuildIndexes();
  return acl;
}

void Acl::BuildIndexes() {
  prefix_trie_.assign(1, CharNode{});
  seg_trie_.assign(1, SegNode{});
  for (uint32_t id = 0; id < rules_.size(); ++id) {
    const Rule& r = rules_[id];
    switch (r.kind) {
      case Kind::kExact:
        exact_.emplace(r.pattern, id);
        sorted_exact_.emplace_back(r.pattern, id);
        break;
      case Kind::kPrefix: {
        uint32_t node = 0;
        for (char ch : r.pattern) {
          auto c = static_cast<unsigned char>(ch);
          auto& kids = prefix_trie_[node].children;
          auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(c, uint32_t{0}),
                                     [](const auto& a, const auto& b) { return a.first < b.first; });
          if (it != kids.end() && it->first == c) {
            node = it->second;
          } else {
            auto next = static_cast<uint32_t>(prefix_trie_.size());
            kids.insert(it, {c, next});
            prefix_trie_.emplace_back();  // invalidates `kids`; not used again
            node = next;
          }
        }
        prefix_trie_[node].rule = static_cast<int32_t>(id);
        sorted_prefix_.emplace_back(r.pattern, id);
        break;
      }
      case Kind::kSegment: {
        std::vector<std::string_view> segs = SplitPath(r.pattern);
        // For a `...*` pattern the last segment is a prefix, stored on its parent.
        size_t walk = r.is_prefix ? segs.size() - 1 : segs.size();
        uint32_t node = 0;
        for (size_t i = 0; i < walk; ++i) {
          int32_t next;
          if (segs[i] == "+") {
            next = seg_trie_[node].plus;
            if (next < 0) {
              next = static_cast<int32_t>(seg_trie_.size());
              seg_trie_[node].plus = next;
              seg_trie_.emplace_back();
            }
          } else {
            auto it = seg_trie_[node].literal.find(segs[i]);
            if (it != seg_trie_[node].literal.end()) {
              next = static_cast<int32_t>(it->second);
            } else {
              next = static_cast<int32_t>(seg_trie_.size());
              seg_trie_[node].literal.emplace(std::string(segs[i]), static_cast<uint32_t>(next));
              seg_trie_.emplace_back();
            }
          }
          node = static_cast<uint32_t>(next);
        }
        if (r.is_prefix) {
          seg_trie_[node].prefix_rules.emplace_back(std::string(segs.back()), id);
        } else {
          seg_trie_[node].exact_rule = static_cast<int32_t>(id);
        }
        break;
      }
    }
  }
  std::sort(sorted_exact_.begin(), sorted_exact_.end());
  std::sort(sorted_prefix_.begin(), sorted_prefix_.end());
}

bool Acl::RanksHigher(const Rule& a, const Rule& b) {
  // §5.3 step 2c, most significant key first.
  if (a.first_wildcard != b.first_wildcard) return a.first_wildcard > b.first_wildcard;
  if (a.is_prefix != b.is_prefix) return !a.is_prefix;
  if (a.plus_segments != b.plus_segments) return a.plus_segments < b.plus_segments;
  if (a.pattern.size() != b.pattern.size()) return a.pattern.size() > b.pattern.size();
  return a.pattern > b.pattern;
}

void Acl::CollectSegmentMatches(uint32_t root, const std::vector<std::string_view>& parts, size_t depth,
                                const Rule** best) const {
  auto consider = [&](uint32_t id) {
    const Rule* r = &rules_[id];
    if (*best == nullptr || RanksHigher(*r, **best)) *best = r;
  };
  // Iterative DFS: the trie can be as deep as the longest pattern.
  std::vector<std::pair<uint32_t, size_t>> stack{{root, depth}};
  while (!stack.empty()) {
    auto [node, d] = stack.back();
    stack.pop_back();
    const SegNode& n = seg_trie_[node];
    if (d == parts.size()) {
      // Without a trailing '*' the segment counts must be equal.
      if (n.exact_rule >= 0) consider(static_cast<uint32_t>(n.exact_rule));
      continue;
    }
    for (const auto& [pfx, id] : n.prefix_rules) {
      if (parts[d].starts_with(pfx)) consider(id);
    }
    auto it = n.literal.find(parts[d]);
    if (it != n.literal.end()) stack.emplace_back(it->second, d + 1);
    if (n.plus >= 0) stack.emplace_back(static_cast<uint32_t>(n.plus), d + 1);
  }
}

const Acl::Rule* Acl::SelectNonExact(std::string_view path) const {
  const Rule* best = nullptr;
  // Longest prefix: walk the character trie as far as the path allows.
  int32_t longest = prefix_trie_[0].rule;
  uint32_t node = 0;
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    const auto& kids = prefix_trie_[node].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(c, uint32_t{0}),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    if (it == kids.end() || it->first != c) break;
    node = it->second;
    if (prefix_trie_[node].rule >= 0) longest = prefix_trie_[node].rule;
  }
  if (longest >= 0) best = &rules_[static_cast<uint32_t>(longest)];

  const SegNode& root = seg_trie_[0];
  if (root.literal.empty() && root.plus < 0 && root.prefix_rules.empty() && root.exact_rule < 0) return best;
  CollectSegmentMatches(0, SplitPath(path), 0, &best);
  return best;
}

const Acl::Rule* Acl::Select(std::string_view path, bool list_op) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &rules_[it->second];
  if (!list_op || !path.ends_with('/')) return SelectNonExact(path);

  std::string_view trimmed = path.substr(0, path.size() - 1);
  if (auto it = exact_.find(trimmed); it != exact_.end()) return &rules_[it->second];

  // LIST "a/b/": rules such as `a/+` only match the trimmed form, so both
  // forms are looked up. Vault/OpenBao preferred the trimmed form outright,
  // which let `list` on `a/*` override a `deny` on `a/b/*`
  // (GHSA-xp3c-3jw3-4vcr). Here a deny selected by either form wins, and
  // otherwise the more specific of the two selections applies.
  const Rule* t = SelectNonExact(trimmed);
  const Rule* f = SelectNonExact(path);
  if (t && (t->caps & kCapDeny)) return t;
  if (f && (f->caps & kCapDeny)) return f;
  if (!t) return f;
  if (!f) return t;
  return RanksHigher(*t, *f) ? t : f;
}

bool Acl::CheckParameters(const Rule& rule, const Json& data) {
  const bool has_data = data.is_object() && !data.empty();
  // Keys are compared case-insensitively and only at the top level (§5.4).
  std::vector<std::pair<std::string, const Json*>> params;
  if (has_data) {
    params.reserve(data.size());
    for (auto it = data.begin(); it != data.end(); ++it) params.emplace_back(ToLower(it.key()), &it.value());
  }

  for (const auto& req : rule.required_parameters) {
    bool found = std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == req; });
    if (!found) return false;
  }
  if (!has_data) return true;

  if (!rule.denied_parameters.empty()) {
    if (rule.denied_parameters.count("*")) return false;
    for (const auto& [key, value] : params) {
      auto it = rule.denied_parameters.find(key);
      if (it != rule.denied_parameters.end() && ValueInList(*value, it->second)) return false;
    }
  }

  if (rule.allowed_parameters.empty()) return true;
  const bool allowed_all = rule.allowed_parameters.count("*") > 0;
  if (allowed_all && rule.allowed_parameters.size() == 1) return true;
  for (const auto& [key, value] : params) {
    auto it = rule.allowed_parameters.find(key);
    if (it == rule.allowed_parameters.end()) {
      if (!allowed_all) return false;
    } else if (!ValueInList(*value, it->second)) {
      return false;
    }
  }
  return true;
}

AclResult Acl::AllowOperation(std::string_view path, logical::Operation op, const Json& data,
                              bool is_sudo_path, int64_t wrap_ttl) const {
  AclResult res;
  if (is_root_) {
    res.allowed = true;
    res.is_root = true;
    res.capabilities = kAllCaps;
    res.granting_policies = {"root"};
    return res;
  }
  // As Vault's (played against OpenBao): help reveals only the API's shape
  // and is allowed to any token, even under a deny.
  if (op == logical::Operation::kHelp) {
    res.allowed = true;
    return res;
  }
  path = StripLeadingSlashes(path);
  const Rule* rule = Select(path, op == logical::Operation::kList);
  if (rule == nullptr) return res;  // default deny
  res.capabilities = rule->caps;
  if (rule->caps & kCapDeny) return res;

  const uint32_t need = OpCapability(op);
  if (!(rule->caps & need)) return res;
  if (is_sudo_path && !(rule->caps & kCapSudo)) return res;
  // As Vault's: a bound on the wrapping TTL requires wrapping within it.
  if (rule->min_wrapping_ttl > 0 || rule->max_wrapping_ttl > 0) {
    if (wrap_ttl <= 0) return res;
    if (rule->min_wrapping_ttl > 0 && wrap_ttl < rule->min_wrapping_ttl) return res;
    if (rule->max_wrapping_ttl > 0 && wrap_ttl > rule->max_wrapping_ttl) return res;
  }

  const bool param_op = op == logical::Operation::kRead || op == logical::Operation::kCreate ||
                        op == logical::Operation::kUpdate || op == logical::Operation::kPatch;
  if (param_op && !CheckParameters(*rule, data)) return res;

  res.allowed = true;
  for (const auto& [name, bits] : rule->grants) {
    if (bits & need) res.granting_policies.push_back(name);
  }
  std::sort(res.granting_policies.begin(), res.granting_policies.end());
  res.granting_policies.erase(std::unique(res.granting_policies.begin(), res.granting_policies.end()),
                              res.granting_policies.end());
  return res;
}

std::vector<std::string> Acl::Capabilities(std::string_view path) const {
  if (is_root_) return {"root"};
  // List-style selection, as Vault's Capabilities does, so a trailing '/'
  // finds rules written for the folder.
  const Rule* rule = Select(StripLeadingSlashes(path), /*list_op=*/true);
  return CapabilityNames(rule ? rule->caps : 0);
}

bool Acl::SegmentSubtreeGrants(uint32_t root) const {
  std::vector<uint32_t> stack{root};
  while (!stack.empty()) {
    uint32_t node = stack.back();
    stack.pop_back();
    const SegNode& n = seg_trie_[node];
    if (n.exact_rule >= 0 && GrantsAnything(rules_[static_cast<uint32_t>(n.exact_rule)].caps)) return true;
    for (const auto& pr : n.prefix_rules) {
      if (GrantsAnything(rules_[pr.second].caps)) return true;
    }
    for (const auto& kv : n.literal) stack.push_back(kv.second);
    if (n.plus >= 0) stack.push_back(static_cast<uint32_t>(n.plus));
  }
  return false;
}

bool Acl::SegmentCouldMatchUnder(uint32_t root, const std::vector<std::string_view>& parts,
                                 size_t depth) const {
  // `parts` are the k segments of the prefix "q1/.../qk/"; every path under it
  // has at least k+1 segments whose first k are q1..qk.
  std::vector<std::pair<uint32_t, size_t>> stack{{root, depth}};
  while (!stack.empty()) {
    auto [node, d] = stack.back();
    stack.pop_back();
    const SegNode& n = seg_trie_[node];
    if (d == parts.size()) {
      // The pattern has consumed the whole prefix: a trailing-'*' pattern
      // ending here, or any pattern below, can be met by choosing the rest of
      // the path. A pattern ending exactly here has too few segments.
      for (const auto& pr : n.prefix_rules) {
        if (GrantsAnything(rules_[pr.second].caps)) return true;
      }
      for (const auto& kv : n.literal) {
        if (SegmentSubtreeGrants(kv.second)) return true;
      }
      if (n.plus >= 0 && SegmentSubtreeGrants(static_cast<uint32_t>(n.plus))) return true;
      continue;
    }
    for (const auto& [pfx, id] : n.prefix_rules) {
      if (parts[d].starts_with(pfx) && GrantsAnything(rules_[id].caps)) return true;
    }
    auto it = n.literal.find(parts[d]);
    if (it != n.literal.end()) stack.emplace_back(it->second, d + 1);
    if (n.plus >= 0) stack.emplace_back(static_cast<uint32_t>(n.plus), d + 1);
  }
  return false;
}

bool Acl::HasAnyNonDenyUnder(std::string_view prefix_in) const {
  if (is_root_) return true;
  std::string prefix(StripLeadingSlashes(prefix_in));
  if (prefix.empty()) {
    return std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) { return GrantsAnything(r.caps); });
  }
  if (prefix.back() != '/') prefix += '/';

  // The rule that governs the prefix itself (covers globs such as `*` or
  // `sec*` that are prefixes of it; only the selected one counts, since a
  // longer deny glob overrides shorter grants for everything under it).
  const Rule* own = Select(prefix, /*list_op=*/true);
  if (own && GrantsAnything(own->caps)) return true;

  // Exact and prefix rules written for paths under the prefix.
  for (const auto* sorted : {&sorted_exact_, &sorted_prefix_}) {
    auto it = std::lower_bound(sorted->begin(), sorted->end(), prefix,
                               [](const auto& e, const std::string& p) { return e.first < p; });
    for (; it != sorted->end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (GrantsAnything(rules_[it->second].caps)) return true;
    }
  }

  std::string_view folder(prefix);
  folder.remove_suffix(1);
  return SegmentCouldMatchUnder(0, SplitPath(folder), 0);
}

}  // namespace sealbox::auth
