// ResolveTokenPolicies: Vault's rules for a new token's policies
// (handleCreateCommon in token_store.go), without a store.
#include "auth/token_policies.h"

#include <gtest/gtest.h>

namespace sealbox::auth {
namespace {

using Policies = std::vector<std::string>;

// The policies, or the error message with a "!" in front.
std::string Resolve(const TokenPolicyInputs& in) {
  auto r = ResolveTokenPolicies(in);
  if (!r.ok()) return "!" + r.status().message();
  std::string out;
  for (const auto& p : *r) out += (out.empty() ? "" : ",") + p;
  return out;
}

TEST(TokenPoliciesTest, NothingRequestedInheritsTheParentsSet) {
  EXPECT_EQ(Resolve({.parent = {"dev", "default"}}), "default,dev");
  // "default" only when the parent has it.
  EXPECT_EQ(Resolve({.parent = {"dev"}}), "dev");
  EXPECT_EQ(Resolve({.parent = {"dev"}, .sudo = true}), "dev");
  EXPECT_EQ(Resolve({.parent = {"dev", "default"}, .no_default_policy = true}), "dev");
}

TEST(TokenPoliciesTest, WithoutSudoTheSetIsASubsetOfTheParents) {
  EXPECT_EQ(Resolve({.requested = {" Dev "}, .parent = {"dev", "ops", "default"}}), "default,dev");
  // No "default" when the parent lacks it, or the request declines it.
  EXPECT_EQ(Resolve({.requested = {"dev"}, .parent = {"dev", "ops"}}), "dev");
  EXPECT_EQ(Resolve({.requested = {"dev"}, .parent = {"dev", "default"}, .no_default_policy = true}), "dev");
  EXPECT_EQ(Resolve({.requested = {"dev", "admin"}, .parent = {"dev", "default"}}),
            "!child policies must be subset of parent");
  // "default" asked for explicitly is part of the subset check.
  EXPECT_EQ(Resolve({.requested = {"default"}, .parent = {"dev"}}), "!child policies must be subset of parent");
}

TEST(TokenPoliciesTest, SudoGrantsAnySetPlusDefault) {
  EXPECT_EQ(Resolve({.requested = {"admin"}, .parent = {"dev"}, .sudo = true}), "admin,default");
  EXPECT_EQ(Resolve({.requested = {"admin", "default"}, .parent = {"dev"}, .no_default_policy = true, .sudo = true}),
            "admin");
}

TEST(TokenPoliciesTest, OnlyARootParentCreatesRoot) {
  EXPECT_EQ(Resolve({.requested = {"ROOT", "dev"}, .parent = {"root"}, .sudo = true, .parent_is_root = true}),
            "root");
  EXPECT_EQ(Resolve({.parent = {"root"}, .sudo = true, .parent_is_root = true}), "root");
  EXPECT_EQ(Resolve({.requested = {"root"}, .parent = {"admin"}, .sudo = true}),
            "!root tokens may not be created without parent token being root");
  EXPECT_EQ(Resolve({.requested = {"root"}, .parent = {"root"}, .sudo = true, .parent_is_root = true, .batch = true}),
            "!batch tokens cannot be root tokens");
}

TEST(TokenPoliciesTest, ReservedPoliciesAreNeverAssigned) {
  EXPECT_EQ(Resolve({.requested = {"response-wrapping"}, .parent = {"root"}, .sudo = true, .parent_is_root = true}),
            "!cannot assign policy \"response-wrapping\"");
  EXPECT_EQ(Resolve({.requested = {"Control-Group"}, .parent = {"root"}, .sudo = true, .parent_is_root = true}),
            "!cannot assign policy \"control-group\"");
}

TEST(TokenPoliciesTest, RoleAllowedPoliciesReplaceTheParentsSet) {
  TokenRole role;
  role.allowed_policies = {"dev", "ops"};
  // Not a subset of the parent's: the role decides, with or without sudo.
  EXPECT_EQ(Resolve({.requested = {"ops"}, .parent = {"other"}, .role = &role}), "default,ops");
  EXPECT_EQ(Resolve({.parent = {"other"}, .role = &role}), "default,dev,ops");
  EXPECT_EQ(Resolve({.parent = {"other"}, .role = &role, .no_default_policy = true}), "dev,ops");
  EXPECT_EQ(Resolve({.requested = {"admin"}, .parent = {"admin"}, .role = &role, .sudo = true}),
            "!token policies ([\"admin\" \"default\"]) must be subset of the role's allowed policies "
            "([\"default\" \"dev\" \"ops\"]) or glob policies ([])");
  role.token_no_default_policy = true;
  EXPECT_EQ(Resolve({.requested = {"dev"}, .parent = {"other"}, .role = &role}), "dev");
}

TEST(TokenPoliciesTest, RoleAllowedGlobs) {
  TokenRole role;
  role.allowed_policies_glob = {"team-*"};
  EXPECT_EQ(Resolve({.requested = {"team-a", "Team-B"}, .parent = {"other"}, .role = &role}),
            "default,team-a,team-b");
  EXPECT_EQ(Resolve({.requested = {"ops"}, .parent = {"other"}, .role = &role}),
            "!token policies ([\"default\" \"ops\"]) must be subset of the role's allowed policies ([\"default\"]) "
            "or glob policies ([\"team-*\"])");
  // Nothing requested: the allowed list (empty here) plus "default".
  EXPECT_EQ(Resolve({.parent = {"other"}, .role = &role}), "default");
}

TEST(TokenPoliciesTest, RoleDisallowedPolicies) {
  TokenRole role;
  role.disallowed_policies = {"secret"};
  role.disallowed_policies_glob = {"prod-*"};
  EXPECT_EQ(Resolve({.requested = {"Secret"}, .parent = {"root"}, .role = &role, .parent_is_root = true}),
            "!token policy \"secret\" is disallowed by this role");
  EXPECT_EQ(Resolve({.requested = {"prod-db"}, .parent = {"root"}, .role = &role, .parent_is_root = true}),
            "!token policy \"prod-db\" is disallowed by this role");
  // Nothing requested and no allowed list: the parent's set, plus "default".
  EXPECT_EQ(Resolve({.parent = {"dev"}, .role = &role}), "default,dev");
  EXPECT_EQ(Resolve({.parent = {"dev", "secret"}, .role = &role}),
            "!token policy \"secret\" is disallowed by this role");
}

TEST(TokenPoliciesTest, RoleDisallowingDefaultLeavesItOut) {
  TokenRole role;
  role.disallowed_policies = {"default"};
  EXPECT_EQ(Resolve({.requested = {"dev"}, .parent = {"other"}, .role = &role}), "dev");
  // Inherited from the parent, it is refused, as in Vault.
  EXPECT_EQ(Resolve({.parent = {"dev", "default"}, .role = &role}),
            "!token policy \"default\" is disallowed by this role");
  TokenRole by_glob;
  by_glob.disallowed_policies_glob = {"def*"};
  EXPECT_EQ(Resolve({.requested = {"dev"}, .parent = {"other"}, .role = &by_glob}), "dev");
}

TEST(TokenPoliciesTest, RoleWithoutPolicyListsKeepsTheParentRules) {
  TokenRole role;
  role.name = "plain";
  EXPECT_EQ(Resolve({.requested = {"admin"}, .parent = {"dev"}, .role = &role}),
            "!child policies must be subset of parent");
  EXPECT_EQ(Resolve({.parent = {"dev"}, .role = &role}), "dev");
}

TEST(TokenPoliciesTest, GoGlobMatch) {
  EXPECT_TRUE(GoGlobMatch("*", ""));
  EXPECT_TRUE(GoGlobMatch("dev-*", "dev-a"));
  EXPECT_TRUE(GoGlobMatch("*-db", "prod-db"));
  EXPECT_TRUE(GoGlobMatch("a*c*e", "abcde"));
  EXPECT_FALSE(GoGlobMatch("a*c*e", "abcd"));
  EXPECT_FALSE(GoGlobMatch("dev-*", "xdev-a"));
  EXPECT_FALSE(GoGlobMatch("dev", "dev-a"));
  EXPECT_FALSE(GoGlobMatch("", "a"));
  EXPECT_TRUE(MatchesAnyGoGlob({"x", "d*"}, "default"));
  EXPECT_FALSE(MatchesAnyGoGlob({}, "default"));
}

}  // namespace
}  // namespace sealbox::auth
