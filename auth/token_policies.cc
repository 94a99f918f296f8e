#include "auth/token_policies.h"

#include <algorithm>

#include "auth/policy.h"

namespace sealbox::auth {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Go's %q of a []string: ["a" "b"].
std::string QuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " \"" : "\"") + v[i] + "\"";
  return out + "]";
}

bool LimitsPolicies(const TokenRole* role) {
  return role && (!role->allowed_policies.empty() || !role->disallowed_policies.empty() ||
                  !role->allowed_policies_glob.empty() || !role->disallowed_policies_glob.empty());
}

// A role that limits policies: the requested set, else the role's allowed
// set, else the parent's, checked against the role's lists.
Result<std::vector<std::string>> WithinRole(const TokenPolicyInputs& in) {
  const TokenRole& role = *in.role;
  const bool add_default = !in.no_default_policy && !role.token_no_default_policy &&
                           !Contains(role.disallowed_policies, "default") &&
                           !MatchesAnyGoGlob(role.disallowed_policies_glob, "default");
  std::vector<std::string> policies;
  if (!in.requested.empty()) policies = SanitizePolicies(in.requested, add_default);
  if (!role.allowed_policies.empty() || !role.allowed_policies_glob.empty()) {
    auto role_allowed = SanitizePolicies(role.allowed_policies, add_default);
    if (policies.empty()) {
      policies = role_allowed;
    } else {
      auto role_globs = SanitizePolicies(role.allowed_policies_glob, false);
      for (const auto& p : policies) {
        if (!Contains(role_allowed, p) && !MatchesAnyGoGlob(role_globs, p))
          return InvalidArgument("token policies (" + QuoteList(policies) +
                                 ") must be subset of the role's allowed policies (" + QuoteList(role_allowed) +
                                 ") or glob policies (" + QuoteList(role_globs) + ")");
      }
    }
  } else if (policies.empty()) {
    policies = SanitizePolicies(in.parent, add_default);
  }
  for (const auto& p : policies) {
    if (Contains(role.disallowed_policies, p) || MatchesAnyGoGlob(role.disallowed_policies_glob, p))
      return InvalidArgument("token policy \"" + p + "\" is disallowed by this role");
  }
  return policies;
}

// No role limits: the parent's set, or (without sudo) a subset of it.
Result<std::vector<std::string>> WithinParent(const TokenPolicyInputs& in) {
  if (in.requested.empty()) return SanitizePolicies(in.parent, false);
  if (in.sudo) return SanitizePolicies(in.requested, !in.no_default_policy);
  auto wanted = SanitizePolicies(in.requested, false);
  auto have = SanitizePolicies(in.parent, false);
  for (const auto& p : wanted) {
    if (!Contains(have, p)) return InvalidArgument("child policies must be subset of parent");
  }
  return SanitizePolicies(in.requested, !in.no_default_policy && Contains(in.parent, "default"));
}

}  // namespace

std::vector<std::string> SanitizePolicies(const std::vector<std::string>& in, bool add_default) {
  std::vector<std::string> out;
  bool default_found = false;
  for (const auto& p : in) {
    std::string n = NormalizePolicyName(p);
    if (n.empty()) continue;
    // "root" swallows every other policy (and never gets "default").
    if (n == "root") return {"root"};
    if (n == "default") default_found = true;
    out.push_back(std::move(n));
  }
  if (add_default && !default_found) out.emplace_back("default");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool GoGlobMatch(std::string_view pattern, std::string_view subject) {
  if (pattern.empty()) return subject.empty();
  if (pattern == "*") return true;
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t star = pattern.find('*', start);
    parts.push_back(pattern.substr(start, star == std::string_view::npos ? std::string_view::npos : star - start));
    if (star == std::string_view::npos) break;
    start = star + 1;
  }
  if (parts.size() == 1) return subject == pattern;
  const bool leading = pattern.front() == '*';
  const bool trailing = pattern.back() == '*';
  const size_t end = parts.size() - 1;
  for (size_t i = 0; i < end; ++i) {
    size_t idx = subject.find(parts[i]);
    if (i == 0) {
      if (!leading && idx != 0) return false;
    } else if (idx == std::string_view::npos) {
      return false;
    }
    subject.remove_prefix(idx + parts[i].size());
  }
  return trailing ||
         (subject.size() >= parts[end].size() && subject.substr(subject.size() - parts[end].size()) == parts[end]);
}

bool MatchesAnyGoGlob(const std::vector<std::string>& globs, std::string_view s) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return GoGlobMatch(g, s); });
}

Result<std::vector<std::string>> ResolveTokenPolicies(const TokenPolicyInputs& in) {
  SB_ASSIGN_OR_RETURN(std::vector<std::string> policies, LimitsPolicies(in.role) ? WithinRole(in) : WithinParent(in));
  if (in.no_default_policy) policies.erase(std::remove(policies.begin(), policies.end(), "default"), policies.end());
  for (const auto& p : policies) {
    if (p == "response-wrapping" || p == "control-group") return InvalidArgument("cannot assign policy \"" + p + "\"");
  }
  if (Contains(policies, "root")) {
    // Only a root parent mints root: sudo alone must never be enough.
    if (!in.parent_is_root) return InvalidArgument("root tokens may not be created without parent token being root");
    if (in.batch) return InvalidArgument("batch tokens cannot be root tokens");
  }
  return policies;
}

}  // namespace sealbox::auth
