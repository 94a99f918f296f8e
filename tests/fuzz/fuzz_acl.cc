// The ACL against a slow reference: random policies (exact, `*` prefix and
// `+` segment patterns, capability sets with deny) and random paths; the
// compiled ACL's decision must equal the reference's, written here straight
// from the documented rules (contract §5.3, Vault's ACL precedence):
//   1. rules with the same pattern string merge (union; deny wins, alone);
//   2. an exact pattern equal to the path wins outright;
//   3. otherwise, among matching prefix and segment patterns, the highest
//      ranked wins: later first wildcard, then no trailing '*', then fewer
//      '+' segments, then longer pattern, then lexicographically larger;
//   4. deny, or no rule, denies; otherwise the operation's capability decides.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/acl.h"
#include "auth/policy.h"

namespace {

using sealbox::auth::PathRules;
using sealbox::auth::Policy;
namespace auth = sealbox::auth;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '/') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

struct RefRule {
  std::string written;  // as in the policy, with any trailing '*'
  uint32_t caps = 0;
};

bool Matches(const std::string& written, const std::string& path) {
  bool star = !written.empty() && written.back() == '*';
  std::string pat = star ? written.substr(0, written.size() - 1) : written;
  if (pat.find('+') == std::string::npos) return star ? path.compare(0, pat.size(), pat) == 0 : path == pat;
  std::vector<std::string> ps = Split(pat), xs = Split(path);
  if (star ? xs.size() < ps.size() : xs.size() != ps.size()) return false;
  for (size_t i = 0; i < ps.size(); ++i) {
    bool last = i + 1 == ps.size();
    if (ps[i] == "+") continue;
    if (star && last) {
      if (xs[i].compare(0, ps[i].size(), ps[i]) != 0) return false;
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  return true;
}

struct Rank {
  size_t first_wildcard;
  bool is_prefix;
  int plus;
  std::string pattern;
};

Rank RankOf(const std::string& written) {
  bool star = !written.empty() && written.back() == '*';
  std::string pat = star ? written.substr(0, written.size() - 1) : written;
  Rank r{pat.size(), star, 0, pat};
  size_t plus = written.find('+');
  if (plus != std::string::npos) r.first_wildcard = plus;
  for (const auto& seg : Split(pat)) r.plus += seg == "+";
  return r;
}

bool Higher(const Rank& a, const Rank& b) {
  if (a.first_wildcard != b.first_wildcard) return a.first_wildcard > b.first_wildcard;
  if (a.is_prefix != b.is_prefix) return !a.is_prefix;
  if (a.plus != b.plus) return a.plus < b.plus;
  if (a.pattern.size() != b.pattern.size()) return a.pattern.size() > b.pattern.size();
  return a.pattern > b.pattern;
}

bool ReferenceAllows(const std::vector<RefRule>& merged, const std::string& path, uint32_t cap) {
  const RefRule* chosen = nullptr;
  for (const auto& r : merged)
    if (r.written == path && r.written.find('+') == std::string::npos && r.written.back() != '*') chosen = &r;
  if (!chosen) {
    for (const auto& r : merged) {
      bool exact = r.written.find('+') == std::string::npos && r.written.back() != '*';
      if (exact || !Matches(r.written, path)) continue;
      if (!chosen || Higher(RankOf(r.written), RankOf(chosen->written))) chosen = &r;
    }
  }
  if (!chosen || (chosen->caps & auth::kCapDeny)) return false;
  return (chosen->caps & cap) != 0;
}

const char* kSegments[] = {"a", "b", "ab", "abc", "+", ""};
const char* kPathSegments[] = {"a", "b", "ab", "abc", "ba", ""};
const uint32_t kCaps[] = {auth::kCapRead, auth::kCapCreate, auth::kCapUpdate, auth::kCapDelete, auth::kCapList};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<std::shared_ptr<const Policy>> policies;
  std::map<std::string, RefRule> merged;  // by written pattern
  size_t npol = in.ConsumeIntegralInRange<size_t>(1, 3);
  for (size_t p = 0; p < npol; ++p) {
    auto pol = std::make_shared<Policy>();
    pol->name = "p" + std::to_string(p);
    size_t nrules = in.ConsumeIntegralInRange<size_t>(0, 4);
    for (size_t i = 0; i < nrules; ++i) {
      std::string written;
      size_t nseg = in.ConsumeIntegralInRange<size_t>(1, 4);
      for (size_t s = 0; s < nseg; ++s) {
        if (s) written += '/';
        written += kSegments[in.ConsumeIntegralInRange<size_t>(0, 5)];
      }
      if (in.ConsumeBool() && (written.empty() || written.back() != '+')) written += '*';
      if (written.empty()) continue;  // an empty path is not a rule
      PathRules pr;
      pr.path = written;
      if (in.ConsumeIntegralInRange<int>(0, 4) == 0) {
        pr.caps = auth::kCapDeny;
      } else {
        for (uint32_t c : kCaps)
          if (in.ConsumeBool()) pr.caps |= c;
      }
      pol->paths.push_back(pr);
      RefRule& m = merged[written];
      m.written = written;
      if ((m.caps & auth::kCapDeny) || (pr.caps & auth::kCapDeny)) m.caps = auth::kCapDeny;
      else m.caps |= pr.caps;
    }
    policies.push_back(pol);
  }
  std::vector<RefRule> rules;
  for (auto& [k, v] : merged) rules.push_back(v);
  auto acl = auth::Acl::Compile(policies, /*is_root=*/false);

  std::string path;
  size_t nseg = in.ConsumeIntegralInRange<size_t>(1, 5);
  for (size_t s = 0; s < nseg; ++s) {
    if (s) path += '/';
    path += kPathSegments[in.ConsumeIntegralInRange<size_t>(0, 5)];
  }
  const std::pair<sealbox::logical::Operation, uint32_t> ops[] = {
      {sealbox::logical::Operation::kRead, auth::kCapRead},
      {sealbox::logical::Operation::kCreate, auth::kCapCreate},
      {sealbox::logical::Operation::kUpdate, auth::kCapUpdate},
      {sealbox::logical::Operation::kDelete, auth::kCapDelete}};
  // AllowOperation ignores leading slashes (request paths never have one).
  std::string ref_path = path.substr(std::min(path.find_first_not_of('/'), path.size()));
  for (const auto& [op, cap] : ops) {
    bool got = acl->AllowOperation(path, op, sealbox::Json(), false).allowed;
    bool want = ReferenceAllows(rules, ref_path, cap);
    if (got != want) {
      std::fprintf(stderr, "ACL disagrees with the reference on %s (op cap %u): acl %d, reference %d\n",
                   path.c_str(), cap, got, want);
      for (const auto& r : rules) std::fprintf(stderr, "  rule %-14s caps %#x\n", r.written.c_str(), r.caps);
      __builtin_trap();
    }
  }
  // LIST has its own two-form selection; it must at least never crash.
  (void)acl->AllowOperation(path + "/", sealbox::logical::Operation::kList, sealbox::Json(), false);
  (void)acl->Capabilities(path);
  return 0;
}
