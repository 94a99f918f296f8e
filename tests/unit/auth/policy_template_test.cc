// Unit tests for templated policy paths (auth/policy RenderPolicyPath and
// RenderPolicy, PolicyStore::AclFor with an identity) and for the alias kept
// on a token entry: rendering, the Vault skip rule (a path whose template
// cannot be resolved is dropped, the rest of the policy applies), the values
// refused because they could widen a path, and old entries without an alias.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/acl.h"
#include "auth/policy.h"
#include "auth/policy_store.h"
#include "auth/token_store.h"
#include "storage/storage.h"

namespace sealbox::auth {
namespace {

using logical::Operation;

IdentityAlias K8sAlias() {
  IdentityAlias a;
  a.mount_accessor = "auth_kubernetes_0e73be2f";
  a.name = "9f1c-uid";
  a.metadata = {{"team", "blue"},
                {"service_account_name", "app"},
                {"dotted.key", "v"},
                {"empty", ""},
                {"star", "*"}};
  return a;
}

std::optional<std::string> Render(std::string_view path, const IdentityAlias* alias, std::string_view entity = "") {
  return RenderPolicyPath(path, IdentityContext{entity, alias});
}

std::shared_ptr<const Policy> MustParse(const std::string& name, const std::string& text) {
  auto p = ParsePolicy(name, text);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::make_shared<const Policy>(std::move(p).value()) : std::make_shared<const Policy>();
}

bool Allowed(const Acl& acl, const std::string& path, Operation op = Operation::kRead) {
  return acl.AllowOperation(path, op, Json(nullptr), false).allowed;
}

TEST(PolicyTemplateTest, RendersAliasNameMetadataAndEntityId) {
  const IdentityAlias a = K8sAlias();
  EXPECT_EQ(Render("secret/data/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.team}}/*", &a),
            "secret/data/blue/*");
  EXPECT_EQ(Render("kv/{{ identity.entity.aliases.auth_kubernetes_0e73be2f.name }}", &a), "kv/9f1c-uid");
  // Vault splits the selector once after the accessor: the key may hold dots.
  EXPECT_EQ(Render("kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.dotted.key}}", &a), "kv/v");
  EXPECT_EQ(Render("kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.team}}/"
                   "{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.service_account_name}}",
                   &a),
            "kv/blue/app");
  EXPECT_EQ(Render("kv/{{identity.entity.id}}/x", &a, "ent-1"), "kv/ent-1/x");
  EXPECT_EQ(Render("no/template/*", nullptr), "no/template/*");
}

TEST(PolicyTemplateTest, UnresolvableTemplatesAreNullopt) {
  const IdentityAlias a = K8sAlias();
  for (const char* p : {
           "kv/{{identity.entity.aliases.auth_other_1234.metadata.team}}",   // another mount
           "kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.nope}}",  // no such key
           "kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.id}}",     // Sealbox aliases have no id
           "kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f}}",        // no field
           "kv/{{identity.entity.id}}",                                       // no entity
           "kv/{{identity.entity.name}}",                                     // no entity names
           "kv/{{identity.entity.metadata.team}}",                            // no entity metadata
           "kv/{{identity.groups.names.g.id}}",                               // no groups
           "kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.team}",  // unterminated
           "kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.metadata.team",
           "kv/}}x{{identity.entity.aliases.auth_kubernetes_0e73be2f.name}}",  // stray close
           "kv/{{ {{identity.entity.aliases.auth_kubernetes_0e73be2f.name}}",
           "kv/{{}}",
       }) {
    EXPECT_EQ(Render(p, &a), std::nullopt) << p;
  }
  // Without an alias nothing about aliases resolves.
  EXPECT_EQ(Render("kv/{{identity.entity.aliases.auth_kubernetes_0e73be2f.name}}", nullptr), std::nullopt);
}

TEST(PolicyTemplateTest, ValuesThatCouldWidenThePathAreRefused) {
  const std::string tpl = "secret/{{identity.entity.aliases.acc.metadata.v}}/*";
  auto with = [&](const std::string& v) {
    IdentityAlias a;
    a.mount_accessor = "acc";
    a.metadata["v"] = v;
    return Render(tpl, &a);
  };
  for (const std::string& v : std::vector<std::string>{"*", "a*", "+", "a+b", "a/b", "/", "..", "a..b", ".", "", "x\ny", std::string("x\0y", 3),
                              "a\\b", "{x}", "}}", std::string(513, 'v')}) {
    EXPECT_EQ(with(v), std::nullopt) << "value: " << v;
  }
  for (const std::string& v : std::vector<std::string>{"blue", "blue-team.v2", "a b", "_", "é", std::string(512, 'v')}) {
    EXPECT_EQ(with(v), "secret/" + v + "/*") << "value: " << v;
  }
}

TEST(PolicyTemplateTest, ParseMarksTemplatedPaths) {
  auto p = MustParse("t", R"(
path "secret/data/{{identity.entity.aliases.acc.metadata.team}}/*" { capabilities = ["read"] }
path "secret/data/shared/*" { capabilities = ["read"] })");
  ASSERT_EQ(p->paths.size(), 2u);
  EXPECT_TRUE(p->templated);
  EXPECT_EQ(p->paths[0].templated + p->paths[1].templated, 1);
  EXPECT_FALSE(MustParse("plain", R"(path "a/*" { capabilities = ["read"] })")->templated);
}

// The skip rule: an unresolvable templated path is dropped; the rest of the
// policy, and the other policies, still apply.
TEST(PolicyTemplateTest, UnresolvedPathIsSkippedRestApplies) {
  auto p = MustParse("t", R"(
path "secret/data/{{identity.entity.aliases.acc.metadata.team}}/*" { capabilities = ["read"] }
path "secret/data/{{identity.entity.aliases.acc.metadata.missing}}/*" { capabilities = ["read"] }
path "secret/data/shared/*" { capabilities = ["read"] })");
  IdentityAlias a;
  a.mount_accessor = "acc";
  a.metadata["team"] = "blue";
  const IdentityContext id{"", &a};

  auto rendered = RenderPolicy(p, &id);
  ASSERT_EQ(rendered->paths.size(), 2u);
  auto acl = Acl::Compile({rendered}, false);
  EXPECT_TRUE(Allowed(*acl, "secret/data/blue/x"));
  EXPECT_FALSE(Allowed(*acl, "secret/data/red/x"));
  EXPECT_TRUE(Allowed(*acl, "secret/data/shared/y"));

  // No identity: every templated path is skipped.
  auto none = Acl::Compile({RenderPolicy(p, nullptr)}, false);
  EXPECT_FALSE(Allowed(*none, "secret/data/blue/x"));
  EXPECT_TRUE(Allowed(*none, "secret/data/shared/y"));

  // An unrendered template is never compiled as a pattern.
  auto raw = Acl::Compile({p}, false);
  EXPECT_FALSE(Allowed(*raw, "secret/data/{{identity.entity.aliases.acc.metadata.team}}/x"));
  EXPECT_TRUE(Allowed(*raw, "secret/data/shared/y"));

  // A value "*" does not render, so it cannot grant secret/data/* (Vault would).
  a.metadata["team"] = "*";
  auto star = Acl::Compile({RenderPolicy(p, &id)}, false);
  EXPECT_FALSE(Allowed(*star, "secret/data/red/x"));
  EXPECT_FALSE(Allowed(*star, "secret/data/*/x"));
  EXPECT_TRUE(Allowed(*star, "secret/data/shared/y"));
}

// A templated deny that cannot be resolved is skipped too (as in Vault).
TEST(PolicyTemplateTest, TemplatedDenyResolvesPerToken) {
  auto p = MustParse("t", R"(
path "secret/*" { capabilities = ["read"] }
path "secret/{{identity.entity.aliases.acc.metadata.locked}}/*" { capabilities = ["deny"] })");
  IdentityAlias a;
  a.mount_accessor = "acc";
  a.metadata["locked"] = "vault";
  const IdentityContext id{"", &a};
  auto acl = Acl::Compile({RenderPolicy(p, &id)}, false);
  EXPECT_FALSE(Allowed(*acl, "secret/vault/x"));
  EXPECT_TRUE(Allowed(*acl, "secret/other/x"));
}

TEST(PolicyTemplateTest, PolicyStoreRendersPerIdentityAndCachesPlainSets) {
  auto storage = NewInMemStorage();
  PolicyStore store(storage.get());
  ASSERT_TRUE(store.Setup().ok());
  ASSERT_TRUE(store.Put("plain", R"(path "a/*" { capabilities = ["read"] })").ok());
  ASSERT_TRUE(store.Put("team", R"(path "t/{{identity.entity.aliases.acc.metadata.team}}/*" {
  capabilities = ["read"]
})").ok());

  IdentityAlias blue, red;
  blue.mount_accessor = red.mount_accessor = "acc";
  blue.metadata["team"] = "blue";
  red.metadata["team"] = "red";
  const IdentityContext id_blue{"", &blue}, id_red{"", &red}, id_none{};

  // A set without templates: one cached ACL whatever the identity.
  auto p1 = store.AclFor({"plain", "default"});
  auto p2 = store.AclFor({"default", "plain"}, &id_blue);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->get(), p2->get());

  for (int round = 0; round < 2; ++round) {  // the second round hits the cache
    auto b = store.AclFor({"team", "plain"}, &id_blue);
    auto r = store.AclFor({"team", "plain"}, &id_red);
    auto n = store.AclFor({"team", "plain"}, &id_none);
    auto z = store.AclFor({"team", "plain"});
    ASSERT_TRUE(b.ok() && r.ok() && n.ok() && z.ok());
    EXPECT_TRUE(Allowed(**b, "t/blue/x"));
    EXPECT_FALSE(Allowed(**b, "t/red/x"));
    EXPECT_TRUE(Allowed(**r, "t/red/x"));
    EXPECT_FALSE(Allowed(**r, "t/blue/x"));
    for (const auto* acl : {n->get(), z->get()}) {
      EXPECT_FALSE(Allowed(*acl, "t/blue/x"));
      EXPECT_TRUE(Allowed(*acl, "a/x"));
    }
    EXPECT_TRUE(Allowed(**b, "a/x"));
  }
  // Root stays root, templates or not.
  auto root = store.AclFor({"root", "team"}, &id_blue);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE((*root)->is_root());
}

TEST(TokenAliasTest, StoredWhenSetAbsentMeansNone) {
  TokenEntry e;
  e.hash = "h";
  e.policies = {"default"};
  Json plain = Json::parse(e.ToText());
  EXPECT_FALSE(plain.contains("alias"));
  auto back = TokenEntry::FromJson(plain);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->alias.has_value());
  EXPECT_EQ(back->Identity().alias, nullptr);

  e.alias = K8sAlias();
  auto round = TokenEntry::FromJson(Json::parse(e.ToText()));
  ASSERT_TRUE(round.ok());
  ASSERT_TRUE(round->alias.has_value());
  EXPECT_EQ(round->alias->mount_accessor, "auth_kubernetes_0e73be2f");
  EXPECT_EQ(round->alias->name, "9f1c-uid");
  EXPECT_EQ(round->alias->metadata, K8sAlias().metadata);

  // An entry written before aliases were kept (no "alias" key) still loads.
  Json old = plain;
  old.erase("alias");
  EXPECT_TRUE(TokenEntry::FromJson(old).ok());
  Json bad = plain;
  bad["alias"] = "nope";
  EXPECT_FALSE(TokenEntry::FromJson(bad).ok());
}

TEST(TokenAliasTest, ChildAndBatchTokensKeepTheAlias) {
  FakeClock clock;
  auto storage = NewInMemStorage();
  TokenStore store(storage.get(), &clock);
  ASSERT_TRUE(store.Setup().ok());
  TokenEntry e;
  e.policies = {"default"};
  e.alias = K8sAlias();
  auto t = store.Create(e);
  ASSERT_TRUE(t.ok());
  auto got = store.Lookup(*t);
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_TRUE((*got)->alias.has_value());
  EXPECT_EQ((*got)->alias->metadata.at("team"), "blue");

  TokenEntry b;
  b.policies = {"default"};
  b.alias = K8sAlias();
  auto bt = store.CreateBatch(b);
  ASSERT_TRUE(bt.ok());
  auto bgot = store.Lookup(*bt);
  ASSERT_TRUE(bgot.ok() && bgot->has_value());
  ASSERT_TRUE((*bgot)->alias.has_value());
  EXPECT_EQ((*bgot)->alias->name, "9f1c-uid");
  store.Reset();
}

// The stored text is what nlohmann would write for the same object (sorted
// keys, same escapes), and every field reads back as written.
TEST(TokenEntryTextTest, RoundTripsEveryField) {
  TokenEntry e;
  e.hash = "h\"ash";
  e.accessor = "acc";
  e.parent_hash = "parent";
  e.policies = {"default", "caf\xc3\xa9"};
  e.path = "auth/kubernetes/login";
  e.display_name = "kubernetes-prod-web";
  e.meta = Json{{"role", "web"}, {"n", "1"}};
  e.creation_time = 1790000000;
  e.creation_time_nanos = 1790000000123456789;
  e.creation_ttl = 3600;
  e.lease_ttl = 60;
  e.explicit_max_ttl = 7200;
  e.period = 30;
  e.expire_time_nanos = INT64_MAX;
  e.issue_time_nanos = INT64_MIN;
  e.last_renewal_nanos = 5;
  e.num_uses = -1;
  e.renewable = true;
  e.orphan = false;
  e.no_default_policy = true;
  e.type = "service";
  e.entity_id = "ent";
  e.role = "r";
  e.bound_cidrs = {"10.0.0.0/8"};
  e.internal = Json{{"uid", "u"}, {"list", {1, 2.5, nullptr, true}}};
  e.alias = K8sAlias();
  const std::string text = e.ToText();
  const Json parsed = Json::parse(text);
  EXPECT_EQ(DumpJson(parsed), text);
  auto back = TokenEntry::FromJson(parsed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToText(), text);
  EXPECT_EQ(back->policies, e.policies);
  EXPECT_EQ(back->expire_time_nanos, INT64_MAX);
  EXPECT_EQ(back->issue_time_nanos, INT64_MIN);
  EXPECT_EQ(back->num_uses, -1);
  EXPECT_TRUE(back->no_default_policy);
  EXPECT_FALSE(back->orphan);
  EXPECT_EQ(back->internal, e.internal);
  ASSERT_TRUE(back->alias.has_value());
  EXPECT_EQ(back->alias->metadata, e.alias->metadata);
}

}  // namespace
}  // namespace sealbox::auth
