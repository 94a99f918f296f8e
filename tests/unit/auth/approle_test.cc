// AppRole's pure pieces: secret-id hashing and comparison, the secret-id
// entry and its limits, role validation; and the shared CIDR and token_*
// field helpers it reuses.
#include <gtest/gtest.h>

#include "auth/approle/role.h"
#include "auth/approle/secret_id.h"
#include "auth/cidr.h"
#include "auth/token_fields.h"
#include "base/crypto.h"

namespace sealbox::auth::approle {
namespace {

// ---- secret-id hashing ----

TEST(AppRoleSecretId, KeyedHashIsKeyedHexHmac) {
  auto a = KeyedHash("key-1", "secret");
  auto b = KeyedHash("key-1", "secret");
  auto c = KeyedHash("key-2", "secret");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(*a, crypto::HexEncode(crypto::HmacSha256("key-1", "secret")));
  EXPECT_EQ(a->find("secret"), std::string::npos);
}

TEST(AppRoleSecretId, KeyedHashRefusesNoKeyAndOverlongValues) {
  EXPECT_FALSE(KeyedHash("", "x").ok());
  EXPECT_TRUE(KeyedHash("k", std::string(kMaxHmacInput, 'a')).ok());
  auto r = KeyedHash("k", std::string(kMaxHmacInput + 1, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "value is longer than maximum of 4096 bytes");
}

TEST(AppRoleSecretId, HashesEqualComparesWholeValues) {
  EXPECT_TRUE(HashesEqual("abcdef", "abcdef"));
  EXPECT_FALSE(HashesEqual("abcdef", "abcdeg"));
  EXPECT_FALSE(HashesEqual("abcdef", "abcde"));
}

TEST(AppRoleSecretId, EntryRoundTripsAndExpires) {
  SecretIdEntry e;
  e.hmac = "h";
  e.accessor = "acc";
  e.num_uses = 3;
  e.expiration_nanos = 2'000;
  e.metadata = {{"team", "ops"}};
  e.cidr_list = {"10.0.0.0/8"};
  auto back = SecretIdFromJson(SecretIdToJson(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->num_uses, 3);
  EXPECT_EQ(back->metadata, e.metadata);
  EXPECT_EQ(back->cidr_list, e.cidr_list);
  EXPECT_FALSE(SecretIdExpired(*back, 1'999));
  EXPECT_TRUE(SecretIdExpired(*back, 2'000));
  e.expiration_nanos = 0;
  EXPECT_FALSE(SecretIdExpired(e, INT64_MAX));
  EXPECT_FALSE(SecretIdFromJson(Json::object()).ok());
}

TEST(AppRoleSecretId, LookupNeverShowsTheHash) {
  SecretIdEntry e;
  e.hmac = "the-hmac";
  e.accessor = "acc";
  const Json d = SecretIdLookupData(e);
  EXPECT_FALSE(d.contains("secret_id_hmac"));
  EXPECT_FALSE(d.contains("secret_id"));
  EXPECT_EQ(d["secret_id_accessor"], "acc");
  EXPECT_EQ(d["expiration_time"], "0001-01-01T00:00:00Z");
}

TEST(AppRoleSecretId, MetadataParsesJsonBase64AndPairs) {
  auto j = ParseSecretIdMetadata(R"({"a":"b"})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(*j, (Json{{"a", "b"}}));
  auto b64 = ParseSecretIdMetadata(crypto::Base64Encode(R"({"c":"d"})"));
  ASSERT_TRUE(b64.ok());
  EXPECT_EQ(*b64, (Json{{"c", "d"}}));
  auto pairs = ParseSecretIdMetadata("x=1,y=2");
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(*pairs, (Json{{"x", "1"}, {"y", "2"}}));
  EXPECT_EQ(*ParseSecretIdMetadata(""), Json::object());
  EXPECT_FALSE(ParseSecretIdMetadata(R"({"a":1})").ok());
  EXPECT_FALSE(ParseSecretIdMetadata("novalue").ok());
}

TEST(AppRoleSecretId, LimitsDefaultToTheRolesAndMayOnlyNarrow) {
  Role role;
  role.secret_id_num_uses = 5;
  role.secret_id_ttl = 600;
  auto d = ResolveSecretIdLimits(role, false, 0, false, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->num_uses, 5);
  EXPECT_EQ(d->ttl, 600);
  auto narrow = ResolveSecretIdLimits(role, true, 2, true, 60);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(narrow->num_uses, 2);
  EXPECT_EQ(narrow->ttl, 60);
  EXPECT_EQ(ResolveSecretIdLimits(role, true, 0, false, 0).status().message(),
            "num_uses cannot be higher than the role's secret_id_num_uses");
  EXPECT_EQ(ResolveSecretIdLimits(role, true, 6, false, 0).status().message(),
            "num_uses cannot be higher than the role's secret_id_num_uses");
  EXPECT_EQ(ResolveSecretIdLimits(role, false, 0, true, 601).status().message(),
            "ttl cannot be longer than the role's secret_id_ttl");
  EXPECT_EQ(ResolveSecretIdLimits(role, true, -1, false, 0).status().message(), "num_uses cannot be negative");
  Role open;
  EXPECT_TRUE(ResolveSecretIdLimits(open, true, 100, true, 86400).ok());
}

TEST(AppRoleSecretId, CidrsMustLieWithinTheRoles) {
  Role role;
  role.secret_id_bound_cidrs = {"10.0.0.0/8"};
  role.token.bound_cidrs = {"192.168.0.0/16"};
  EXPECT_TRUE(CheckSecretIdCidrs(role, {"10.1.0.0/16"}, {"192.168.1.0/24"}).ok());
  EXPECT_FALSE(CheckSecretIdCidrs(role, {"11.0.0.0/16"}, {}).ok());
  EXPECT_FALSE(CheckSecretIdCidrs(role, {}, {"10.0.0.0/24"}).ok());
  EXPECT_FALSE(CheckSecretIdCidrs(role, {"not-a-cidr"}, {}).ok());
  Role unbound;
  EXPECT_TRUE(CheckSecretIdCidrs(unbound, {"1.2.3.4/32"}, {"::1/128"}).ok());
}

// ---- role validation ----

Result<Role> Apply(Json body, bool create, Role r = {}, std::vector<std::string>* warnings = nullptr) {
  const auto specs = RoleFieldSpecs();
  logical::FieldData fd(std::move(body), &specs);
  std::vector<std::string> w;
  if (r.role_id.empty()) r.role_id = "rid";
  SB_RETURN_IF_ERROR(ApplyRoleFields(fd, create, 86400, &r, warnings ? warnings : &w));
  return r;
}

TEST(AppRoleRole, CreateTakesDefaults) {
  auto r = Apply(Json::object(), true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->bind_secret_id);
  EXPECT_EQ(r->secret_id_num_uses, 0);
  EXPECT_EQ(r->token.type, "default");
  const Json read = RoleReadData(*r);
  EXPECT_TRUE(read["secret_id_bound_cidrs"].is_null());
  EXPECT_FALSE(read.contains("role_id"));
  EXPECT_FALSE(read.contains("hmac_key"));
  EXPECT_FALSE(read.contains("policies"));
}

TEST(AppRoleRole, EveryFieldIsRead) {
  auto r = Apply({{"bind_secret_id", true},
                  {"secret_id_bound_cidrs", "127.0.0.1/32,10.0.0.0/8"},
                  {"secret_id_num_uses", 3},
                  {"secret_id_ttl", "10m"},
                  {"local_secret_ids", true},
                  {"token_policies", "a,b"},
                  {"token_ttl", "1h"},
                  {"token_max_ttl", "2h"},
                  {"token_explicit_max_ttl", "3h"},
                  {"token_num_uses", 4},
                  {"token_period", "0"},
                  {"token_type", "service"},
                  {"token_no_default_policy", true},
                  {"token_bound_cidrs", Json::array({"10.0.0.0/8"})}},
                 true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->secret_id_bound_cidrs, (std::vector<std::string>{"127.0.0.1/32", "10.0.0.0/8"}));
  EXPECT_EQ(r->secret_id_num_uses, 3);
  EXPECT_EQ(r->secret_id_ttl, 600);
  EXPECT_TRUE(r->local_secret_ids);
  EXPECT_EQ(r->token.policies, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->token.ttl, 3600);
  EXPECT_EQ(r->token.max_ttl, 7200);
  EXPECT_EQ(r->token.explicit_max_ttl, 10800);
  EXPECT_EQ(r->token.num_uses, 4);
  EXPECT_EQ(r->token.type, "service");
  EXPECT_TRUE(r->token.no_default_policy);
  auto back = RoleFromJson("r", RoleToJson(*r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(RoleReadData(*back), RoleReadData(*r));
}

TEST(AppRoleRole, RefusalsUseVaultsMessages) {
  auto msg = [](Json body, bool create = true) { return Apply(std::move(body), create).status().message(); };
  EXPECT_EQ(msg({{"bind_secret_id", false}}), "at least one constraint should be enabled on the role");
  EXPECT_EQ(msg({{"secret_id_num_uses", -1}}), "secret_id_num_uses cannot be negative");
  EXPECT_EQ(msg({{"token_ttl", "2h"}, {"token_max_ttl", "1h"}}), "'token_ttl' cannot be greater than 'token_max_ttl'");
  EXPECT_EQ(msg({{"token_type", "weird"}}), "invalid 'token_type' value \"weird\"");
  EXPECT_EQ(msg({{"token_type", "batch"}, {"token_period", "1h"}}),
            "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
  EXPECT_EQ(msg({{"token_period", "48h"}}),
            "period of \"48h0m0s\" is greater than the backend's maximum lease TTL of \"24h0m0s\"");
  EXPECT_EQ(msg({{"local_secret_ids", true}}, false), "local_secret_ids can only be modified during role creation");
  EXPECT_NE(msg({{"secret_id_bound_cidrs", "bad"}}).find("invalid CIDR"), std::string::npos);
  EXPECT_NE(msg({{"token_bound_cidrs", "bad"}}).find("error parsing address \"bad\""), std::string::npos);
}

TEST(AppRoleRole, ACidrIsAConstraintWithoutASecretId) {
  EXPECT_TRUE(Apply({{"bind_secret_id", false}, {"secret_id_bound_cidrs", "127.0.0.1/32"}}, true).ok());
  EXPECT_TRUE(Apply({{"bind_secret_id", false}, {"token_bound_cidrs", "127.0.0.1/32"}}, true).ok());
}

TEST(AppRoleRole, UpdateKeepsWhatItDoesNotName) {
  auto r = Apply({{"secret_id_num_uses", 3}, {"token_ttl", "1h"}}, true);
  ASSERT_TRUE(r.ok());
  auto u = Apply({{"token_max_ttl", "2h"}}, false, *r);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->secret_id_num_uses, 3);
  EXPECT_EQ(u->token.ttl, 3600);
  EXPECT_EQ(u->token.max_ttl, 7200);
}

TEST(AppRoleRole, DeprecatedNamesAreEchoedWhileTheySetTheField) {
  auto r = Apply({{"policies", "p1"}, {"period", "1h"}}, true);
  ASSERT_TRUE(r.ok());
  Json read = RoleReadData(*r);
  EXPECT_EQ(read["policies"], Json::array({"p1"}));
  EXPECT_EQ(read["token_policies"], Json::array({"p1"}));
  EXPECT_EQ(read["period"], 3600);
  auto u = Apply({{"token_policies", "p2"}}, false, *r);
  ASSERT_TRUE(u.ok());
  read = RoleReadData(*u);
  EXPECT_FALSE(read.contains("policies"));
  EXPECT_EQ(read["token_policies"], Json::array({"p2"}));
}

TEST(AppRoleRole, DefaultServiceTokenTypeIsAdjustedWithAWarning) {
  std::vector<std::string> warnings;
  auto r = Apply({{"token_type", "default-service"}}, true, {}, &warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token.type, "service");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "default-service has no useful meaning; adjusting to service");
}

}  // namespace
}  // namespace sealbox::auth::approle

namespace sealbox::auth {
namespace {

TEST(Cidr, ValidityAndMembership) {
  EXPECT_TRUE(CidrValid("10.0.0.0/8"));
  EXPECT_TRUE(CidrValid("10.0.0.1"));
  EXPECT_TRUE(CidrValid("fd00::/8"));
  EXPECT_FALSE(CidrValid("10.0.0.0/33"));
  EXPECT_FALSE(CidrValid("10.0.0.0/"));
  EXPECT_FALSE(CidrValid("10.0.0.0/8x"));
  EXPECT_FALSE(CidrValid("bad"));
  EXPECT_TRUE(IpInCidrs("127.0.0.1", {"127.0.0.0/8"}));
  EXPECT_TRUE(IpInCidrs("::ffff:127.0.0.1", {"127.0.0.1/32"}));
  EXPECT_FALSE(IpInCidrs("127.0.0.1", {"10.0.0.0/8", "bad"}));
  EXPECT_FALSE(IpInCidrs("", {"0.0.0.0/0"}));
}

TEST(Cidr, WithinChecksEveryInnerBlock) {
  EXPECT_TRUE(CidrsWithin({}, {"1.2.3.4/32"}));
  EXPECT_TRUE(CidrsWithin({"10.0.0.0/8"}, {"10.1.0.0/16", "10.2.3.4"}));
  EXPECT_FALSE(CidrsWithin({"10.0.0.0/16"}, {"10.0.0.0/8"}));
  EXPECT_FALSE(CidrsWithin({"10.0.0.0/8"}, {"10.1.0.0/16", "11.0.0.0/16"}));
  EXPECT_FALSE(CidrsWithin({"10.0.0.0/8"}, {"fd00::/16"}));
}

TEST(TokenFields, DeprecatedNamesOnlyWhereAccepted) {
  const auto specs = TokenFieldSpecs({"ttl"});
  logical::FieldData fd(Json{{"ttl", "1h"}, {"num_uses", 3}}, &specs);
  TokenParams p;
  std::vector<std::string> warnings;
  ASSERT_TRUE(ParseTokenFields(fd, {"ttl"}, &p, &warnings).ok());
  EXPECT_EQ(p.ttl, 3600);
  EXPECT_EQ(p.num_uses, 0);  // "num_uses" is not an accepted alias here
  logical::Auth a;
  PopulateTokenAuth(p, &a);
  EXPECT_EQ(a.ttl, 3600);
  EXPECT_EQ(TokenParamsFromJson(TokenParamsToJson(p)).ttl, 3600);
}

}  // namespace
}  // namespace sealbox::auth
