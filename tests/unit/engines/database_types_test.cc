// Unit tests of the database engine's typed entries: stored JSON written by
// earlier versions reads back and writes out unchanged, malformed entries are
// Corruption (never an exception), and the write validations.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "engines/database/connection_config.h"
#include "engines/database/roles.h"
#include "logical/routed_backend.h"

namespace sealbox::engines::database {
namespace {

using logical::FieldData;
using logical::FieldSpec;
using logical::FieldType;

// As database_backend.cc stored them before the engine had typed entries.
const char* kStoredConfig =
    R"({"plugin_name":"postgresql-database-plugin","connection_url":"postgresql://{{username}}:{{password}}@db/app",)"
    R"("username":"root","password":"rootpw","allowed_roles":["ro","app*"],"verify_connection":true,)"
    R"("root_rotation_statements":[],"disable_escaping":false,"password_authentication":"scram-sha-256",)"
    R"("username_template":"","password_policy":"","max_open_connections":2,"max_connection_lifetime":3600})";
const char* kStoredRole =
    R"({"db_name":"app","creation_statements":["CREATE ROLE \"{{name}}\";"],"revocation_statements":[],)"
    R"("renew_statements":[],"rollback_statements":[],"default_ttl":3600,"max_ttl":86400})";
const char* kStoredStaticRole =
    R"({"db_name":"app","username":"svc","rotation_period":3600,"rotation_overlap":60,"rotation_statements":[],)"
    R"("password":"A1a-old","last_vault_rotation_unix":1700000000,"twin_username":"svc_prev",)"
    R"("previous_valid_until_unix":1700000060})";

TEST(DatabaseTypesTest, StoredEntriesRoundTripUnchanged) {
  auto c = ConnectionConfig::FromJson(Json::parse(kStoredConfig));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ToJson(), Json::parse(kStoredConfig));
  auto r = Role::FromJson(Json::parse(kStoredRole));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ToJson(), Json::parse(kStoredRole));
  auto s = StaticRole::FromJson(Json::parse(kStoredStaticRole));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToJson(), Json::parse(kStoredStaticRole));
}

TEST(DatabaseTypesTest, ConfigDefaultsAndUnwrittenSettings) {
  auto c = ConnectionConfig::FromJson(Json::parse(kStoredConfig));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->UsesScram());
  EXPECT_EQ(c->MaxOpen(), 2);
  EXPECT_EQ(c->MaxIdle(), 0);  // not written: Vault's rule (idle = open) applies
  EXPECT_FALSE(c->max_idle_connections.has_value());
  EXPECT_EQ(c->MaxLifetime(), 3600);
  Json read = c->ToReadResponse();
  EXPECT_FALSE(read.dump().find("rootpw") != std::string::npos);  // the root password is never read back
  EXPECT_EQ(read["connection_details"]["max_connection_lifetime"], "1h0m0s");
  EXPECT_FALSE(read["connection_details"].contains("max_idle_connections"));
  EXPECT_FALSE(read["connection_details"].contains("username_template"));
  EXPECT_EQ(read["root_credentials_rotate_statements"], Json::array());

  auto minimal = ConnectionConfig::FromJson(Json{{"plugin_name", "p"}, {"connection_url", "u"}});
  ASSERT_TRUE(minimal.ok());
  EXPECT_FALSE(minimal->UsesScram());
  EXPECT_EQ(minimal->MaxOpen(), 4);
  EXPECT_TRUE(minimal->verify_connection);
}

TEST(DatabaseTypesTest, AllowedRolesGlobs) {
  ConnectionConfig c;
  c.allowed_roles = {"ro", "app*"};
  EXPECT_TRUE(c.AllowsRole("ro"));
  EXPECT_TRUE(c.AllowsRole("app"));
  EXPECT_TRUE(c.AllowsRole("app-writer"));
  EXPECT_FALSE(c.AllowsRole("rw"));
  EXPECT_FALSE(c.AllowsRole("r"));
  c.allowed_roles = {"*"};
  EXPECT_TRUE(c.AllowsRole("anything"));
  c.allowed_roles = {};
  EXPECT_FALSE(c.AllowsRole("ro"));
}

TEST(DatabaseTypesTest, MalformedEntriesAreCorruption) {
  for (const Json& j : {Json::parse(R"({"plugin_name":7})"), Json::parse(R"({"allowed_roles":"ro"})"),
                        Json::parse(R"({"max_open_connections":"4"})"), Json::parse("[1]")}) {
    auto c = ConnectionConfig::FromJson(j);
    ASSERT_FALSE(c.ok()) << j.dump();
    EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
  }
  EXPECT_EQ(Role::FromJson(Json::parse(R"({"default_ttl":"1h"})")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(StaticRole::FromJson(Json::parse(R"({"password":false})")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(CredentialLease::FromJson(Json::parse(R"({"username":[]})")).status().code(), StatusCode::kCorruption);
  // Non-string statements are skipped, as they always were when run.
  auto r = Role::FromJson(Json::parse(R"({"creation_statements":["a",1,"b"]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->creation_statements, (std::vector<std::string>{"a", "b"}));
}

TEST(DatabaseTypesTest, StaticRoleReadResponses) {
  auto s = StaticRole::FromJson(Json::parse(kStoredStaticRole));
  ASSERT_TRUE(s.ok());
  Json role = s->ToReadResponse(1'700'000'010, false);
  EXPECT_EQ(role["db_name"], "app");
  EXPECT_EQ(role["ttl"], 3590);
  EXPECT_EQ(role["rotation_overlap"], 60);
  EXPECT_FALSE(role.contains("password"));
  Json creds = s->ToReadResponse(1'700'000'010, true);
  EXPECT_EQ(creds["password"], "A1a-old");
  EXPECT_FALSE(creds.contains("db_name"));
  EXPECT_EQ(creds["previous_username"], "svc_prev");
  EXPECT_EQ(creds["previous_password_valid_until"], FormatRfc3339(1'700'000'060));
  // After the overlap the previous login is no longer shown, and is due to go.
  Json later = s->ToReadResponse(1'700'000'060, true);
  EXPECT_FALSE(later.contains("previous_username"));
  EXPECT_TRUE(s->OverlapEnded(1'700'000'060));
  EXPECT_FALSE(s->OverlapEnded(1'700'000'059));
  EXPECT_TRUE(s->RotationDue(1'700'003'600));
  EXPECT_FALSE(s->RotationDue(1'700'003'599));
  s->ForgetTwin();
  EXPECT_FALSE(s->ToJson().contains("twin_username"));
  EXPECT_FALSE(s->ToJson().contains("previous_valid_until_unix"));
}

const std::vector<FieldSpec> kStaticSpecs = {
    {"db_name"}, {"username"}, {"rotation_period", FieldType::kDuration}, {"rotation_overlap", FieldType::kDuration},
    {"rotation_statements", FieldType::kStringList}};

TEST(DatabaseTypesTest, StaticRoleWriteValidation) {
  StaticRole fresh;
  FieldData missing_user(Json{{"db_name", "app"}}, &kStaticSpecs);
  EXPECT_EQ(fresh.ApplyAccount(missing_user, false).message(), "username is a required field to create a static role");

  auto stored = StaticRole::FromJson(Json::parse(kStoredStaticRole));
  ASSERT_TRUE(stored.ok());
  FieldData rename(Json{{"username", "other"}}, &kStaticSpecs);
  EXPECT_EQ(stored->ApplyAccount(rename, true).message(), "cannot update static account username");
  // An update keeps what it does not name.
  FieldData touch(Json::object(), &kStaticSpecs);
  ASSERT_TRUE(stored->ApplyAccount(touch, true).ok());
  ASSERT_TRUE(stored->ApplyRotation(touch, true).ok());
  EXPECT_EQ(stored->db_name, "app");
  EXPECT_EQ(stored->rotation_period, 3600);
  EXPECT_EQ(stored->rotation_overlap, 60);

  StaticRole r;
  FieldData short_period(Json{{"rotation_period", "4s"}}, &kStaticSpecs);
  EXPECT_EQ(r.ApplyRotation(short_period, false).message(), "rotation_period must be 5 seconds or more");
  FieldData long_overlap(Json{{"rotation_period", "1m"}, {"rotation_overlap", "1m"}}, &kStaticSpecs);
  EXPECT_EQ(r.ApplyRotation(long_overlap, false).message(), "rotation_overlap must be shorter than rotation_period");
  FieldData good(Json{{"rotation_period", "1h"}, {"rotation_overlap", "30s"}, {"rotation_statements", "ALTER"}},
                 &kStaticSpecs);
  ASSERT_TRUE(r.ApplyRotation(good, false).ok());
  ASSERT_TRUE(r.ApplyStatements(good, false).ok());
  EXPECT_EQ(r.rotation_period, 3600);
  EXPECT_EQ(r.rotation_overlap, 30);
  EXPECT_EQ(r.rotation_statements, (std::vector<std::string>{"ALTER"}));
}

const std::vector<FieldSpec> kRoleSpecs = {{"db_name"},
                                           {"creation_statements", FieldType::kStringList},
                                           {"revocation_statements", FieldType::kStringList},
                                           {"renew_statements", FieldType::kStringList},
                                           {"default_ttl", FieldType::kDuration},
                                           {"max_ttl", FieldType::kDuration}};

TEST(DatabaseTypesTest, RoleWriteKeepsOneStringStatementWhole) {
  FieldData f(Json{{"db_name", "app"}, {"creation_statements", "CREATE ROLE a; GRANT x, y TO a;"}, {"default_ttl", "1h"}},
              &kRoleSpecs);
  auto r = Role::FromFields(f);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->creation_statements, (std::vector<std::string>{"CREATE ROLE a; GRANT x, y TO a;"}));
  EXPECT_EQ(r->default_ttl, 3600);
  FieldData bad(Json{{"db_name", "app"}, {"default_ttl", "2h"}, {"max_ttl", "1h"}}, &kRoleSpecs);
  EXPECT_EQ(Role::FromFields(bad).status().message(), "ttl cannot be greater than max_ttl");
  FieldData no_db(Json::object(), &kRoleSpecs);
  EXPECT_EQ(Role::FromFields(no_db).status().message(), "database name is required");
}

TEST(DatabaseTypesTest, CredentialLeaseRoundTrip) {
  CredentialLease l{"v-token-ro-x", "ro", "app", {"DROP ROLE \"{{name}}\";"}, {}};
  auto back = CredentialLease::FromJson(l.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), l.ToJson());
  // The expiration manager adds its own keys (ttl) to the lease data on renew.
  Json with_ttl = l.ToJson();
  with_ttl["ttl"] = 60;
  EXPECT_TRUE(CredentialLease::FromJson(with_ttl).ok());
}

}  // namespace
}  // namespace sealbox::engines::database
