// Unit tests of the database engine over a fake connection: placeholder
// escaping (no template or password can inject SQL), username templates and
// password policies through the engine, rotation_overlap's statements.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "logical/backend.h"
#include "engines/database/database_backend.h"
#include "storage/storage.h"

namespace sealbox::engines::database {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

// ---- ExpandStatement ----

std::string Expand(const std::string& st, const StatementValues& v) {
  auto r = ExpandStatement(st, v);
  EXPECT_TRUE(r.ok()) << st << ": " << r.status().message();
  return r.ok() ? *r : "<error>";
}

TEST(DatabaseStatementTest, PlainValuesAreUnchanged) {
  StatementValues v{"v-token-ro-abc", "A1a-pw", "2024-05-01 10:00:00+0000"};
  EXPECT_EQ(Expand("CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'", v),
            "CREATE ROLE \"v-token-ro-abc\" WITH LOGIN PASSWORD 'A1a-pw' VALID UNTIL '2024-05-01 10:00:00+0000'");
  EXPECT_EQ(Expand("GRANT SELECT ON t TO \"{{username}}\"", v), "GRANT SELECT ON t TO \"v-token-ro-abc\"");
  EXPECT_EQ(Expand("SELECT '{{unknown}}'", v), "SELECT '{{unknown}}'");
}

TEST(DatabaseStatementTest, QuotesCannotEscapeTheirToken) {
  StatementValues v{"x\"; DROP TABLE t; --", "p'; DROP TABLE t; --", ""};
  EXPECT_EQ(Expand("CREATE ROLE \"{{name}}\" PASSWORD '{{password}}'", v),
            "CREATE ROLE \"x\"\"; DROP TABLE t; --\" PASSWORD 'p''; DROP TABLE t; --'");
  // A bare placeholder becomes a quoted identifier / literal.
  EXPECT_EQ(Expand("CREATE ROLE {{name}} PASSWORD {{password}}", v),
            "CREATE ROLE \"x\"\"; DROP TABLE t; --\" PASSWORD 'p''; DROP TABLE t; --'");
  // A name in a string literal (WHERE rolname = '{{name}}').
  EXPECT_EQ(Expand("SELECT 1 FROM pg_roles WHERE rolname = '{{name}}'", {"a'b", "", ""}),
            "SELECT 1 FROM pg_roles WHERE rolname = 'a''b'");
  // E'' strings: backslashes doubled too; QuoteLiteral picks E'' by itself.
  EXPECT_EQ(Expand("SELECT E'{{password}}'", {"", "a\\'b", ""}), "SELECT E'a\\\\''b'");
  EXPECT_EQ(Expand("SELECT {{password}}", {"", "a\\b", ""}), "SELECT E'a\\\\b'");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

TEST(DatabaseStatementTest, SinglePassNoReexpansion) {
  // A password holding a placeholder is not expanded again.
  EXPECT_EQ(Expand("'{{password}}' \"{{name}}\"", {"n", "{{name}}", ""}), "'{{name}}' \"n\"");
}

TEST(DatabaseStatementTest, DollarBodiesAreLexedInside) {
  StatementValues v{"a'b\"c", "pw", ""};
  EXPECT_EQ(Expand("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{name}}') THEN "
                   "CREATE ROLE \"{{name}}\"; END IF; END $$",
                   v),
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'a''b\"c') THEN "
            "CREATE ROLE \"a'b\"\"c\"; END IF; END $$");
  // A value holding the enclosing tag could end the body: refused.
  auto r = ExpandStatement("DO $body$ BEGIN CREATE ROLE \"{{name}}\"; END $body$", {"x$body$y", "", ""});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("{{name}}"), std::string::npos);
  EXPECT_EQ(r.status().message().find("x$body$y"), std::string::npos);  // the value is never echoed
  // SCRAM verifiers hold '$' but no tag: fine inside $$.
  EXPECT_EQ(Expand("DO $$ BEGIN ALTER ROLE x PASSWORD '{{password}}'; END $$", {"", "SCRAM-SHA-256$4096:s$k:c", ""}),
            "DO $$ BEGIN ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:s$k:c'; END $$");
  // $1 is a parameter, not a tag; a$b$ is an identifier.
  EXPECT_EQ(Expand("SELECT $1, a$b$ , '{{name}}'", {"q'", "", ""}), "SELECT $1, a$b$ , 'q'''");
}

TEST(DatabaseStatementTest, CommentsAndNulRefused) {
  EXPECT_FALSE(ExpandStatement("-- {{name}}\nSELECT 1", {"a\nDROP TABLE t", "", ""}).ok());
  EXPECT_FALSE(ExpandStatement("/* {{name}} */ SELECT 1", {"a*/DROP TABLE t;/*", "", ""}).ok());
  EXPECT_FALSE(ExpandStatement("/* {{name}}/ SELECT 1 */", {"a*", "", ""}).ok());
  EXPECT_EQ(Expand("-- {{name}}\nSELECT 1", {"harmless", "", ""}), "-- harmless\nSELECT 1");
  EXPECT_FALSE(ExpandStatement("CREATE ROLE \"{{name}}\"", {std::string("a\0b", 3), "", ""}).ok());
  // Quotes inside comments do not confuse the lexer.
  EXPECT_EQ(Expand("/* it's */ CREATE ROLE \"{{name}}\"", {"a\"b", "", ""}), "/* it's */ CREATE ROLE \"a\"\"b\"");
}

TEST(DatabaseStatementTest, RoleNames) {
  EXPECT_TRUE(CheckRoleName("v-token-ro-abc").ok());
  EXPECT_TRUE(CheckRoleName("x\"; DROP TABLE t; --").ok());  // odd but quotable
  EXPECT_TRUE(CheckRoleName(std::string(63, 'a')).ok());
  EXPECT_FALSE(CheckRoleName(std::string(64, 'a')).ok());
  EXPECT_FALSE(CheckRoleName("").ok());
  EXPECT_FALSE(CheckRoleName("a\nb").ok());
  EXPECT_FALSE(CheckRoleName("a\xff").ok());
}

// ---- The engine over a fake connection ----

struct FakeDb {
  std::mutex mu;
  std::vector<std::string> execs;                  // every Exec, in order
  std::map<std::string, std::string> role_comment;  // existing roles -> comment
  bool fail_exec = false;
  // Sessions open now and at most; transactions wait while `hold` is set.
  int open = 0, max_open_seen = 0, opened = 0;
  bool hold = false;
  std::condition_variable cv;

  std::string All() {
    std::lock_guard l(mu);
    std::string s;
    for (const auto& e : execs) s += e + "\n";
    return s;
  }
};

class FakeConn final : public Connection {
 public:
  explicit FakeConn(FakeDb* db) : db_(db) {
    std::lock_guard l(db_->mu);
    ++db_->opened;
    db_->max_open_seen = std::max(db_->max_open_seen, ++db_->open);
  }
  ~FakeConn() override {
    std::lock_guard l(db_->mu);
    --db_->open;
  }
  Status Exec(const std::string& sql) override {
    std::unique_lock l(db_->mu);
    if (sql.rfind("BEGIN", 0) == 0) db_->cv.wait(l, [&] { return !db_->hold; });
    db_->execs.push_back(sql);
    if (db_->fail_exec && sql.rfind("BEGIN", 0) == 0) return Unavailable("ERROR: boom near " + sql.substr(0, 200));
    return Status::Ok();
  }
  Result<std::vector<Row>> Query(const std::string& sql, const std::vector<std::string>& params) override {
    std::lock_guard l(db_->mu);
    if (sql.find("shobj_description") != std::string::npos) {
      auto it = db_->role_comment.find(params.at(0));
      if (it == db_->role_comment.end()) return std::vector<Row>{};
      return std::vector<Row>{{it->second}};
    }
    return std::vector<Row>{};
  }
  bool Healthy() override { return true; }

 private:
  FakeDb* db_;
};

class DatabaseBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = NewInMemStorage();
    logical::BackendConfig cfg;
    cfg.storage = storage_.get();
    cfg.type = "database";
    cfg.mount_path = "database/";
    cfg.clock = &clock_;
    cfg.generate_password = [this](const std::string& name) -> Result<std::string> {
      if (name != "strict") return NotFound("password policy \"" + name + "\" does not exist");
      return std::string("Pol'icy\\pw-1234567890");
    };
    auto b = Factory([this](const std::string&) -> Result<std::unique_ptr<Connection>> {
      return std::unique_ptr<Connection>(new FakeConn(&db_));
    })(cfg);
    ASSERT_TRUE(b.ok());
    backend_ = std::move(*b);
  }
  void TearDown() override { backend_->Cleanup(); }

  Result<Response> Do(Operation op, const std::string& path, Json data = Json::object()) {
    Request r;
    r.op = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = storage_.get();
    logical::TokenInfo t;
    t.display_name = "token";
    r.token = t;
    return backend_->HandleRequest(r);
  }
  void Config(Json extra = Json::object()) {
    Json body = {{"plugin_name", "postgresql-database-plugin"},
                 {"connection_url", "postgresql://x"},
                 {"username", "root"},
                 {"password", "rootpw"},
                 {"allowed_roles", "*"}};
    body.update(extra);
    auto r = Do(Operation::kUpdate, "config/pg", body);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  FakeClock clock_;
  FakeDb db_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<logical::Backend> backend_;
};

TEST_F(DatabaseBackendTest, BadUsernameTemplateRefusedAtConfig) {
  struct Case {
    const char* tmpl;
    const char* want;
  } cases[] = {
      {"{{ nope }}", "unable to initialize username template: template:1:4: function \"nope\" not defined"},
      {"{{ .Bad }}", "can't evaluate field Bad"},
      {"{{ random 0 }}", "invalid username template: random: length must be between"},
      {"{{ printf \"%s\" (random 70) }}", "longer than PostgreSQL's 63-byte identifier limit"},
  };
  for (const auto& c : cases) {
    auto r = Do(Operation::kUpdate, "config/pg",
                {{"plugin_name", "postgresql-database-plugin"}, {"connection_url", "postgresql://x"},
                 {"username_template", c.tmpl}});
    ASSERT_FALSE(r.ok()) << c.tmpl;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
  }
}

TEST_F(DatabaseBackendTest, TemplateRenderingQuotesCannotInject) {
  Config({{"username_template", "{{ printf \"x\\\"; DROP TABLE t; --%s\" .RoleName }}"}});
  ASSERT_TRUE(Do(Operation::kUpdate, "roles/ro",
                 {{"db_name", "pg"}, {"creation_statements", "CREATE ROLE \"{{name}}\" PASSWORD '{{password}}';"}})
                  .ok());
  auto r = Do(Operation::kRead, "creds/ro");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r->data)["username"], "x\"; DROP TABLE t; --ro");
  EXPECT_NE(db_.All().find("CREATE ROLE \"x\"\"; DROP TABLE t; --ro\" PASSWORD '"), std::string::npos) << db_.All();
  // Read back: the template is part of connection_details.
  auto cfg = Do(Operation::kRead, "config/pg");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ((*cfg->data)["connection_details"]["username_template"],
            "{{ printf \"x\\\"; DROP TABLE t; --%s\" .RoleName }}");
}

TEST_F(DatabaseBackendTest, TooLongRenderedNameFailsCreds) {
  // Short with empty metadata (accepted at config), too long with a real role name.
  Config({{"username_template", "{{ printf \"%s%s\" (random 40) .RoleName }}"}});
  ASSERT_TRUE(Do(Operation::kUpdate, "roles/a-role-name-that-is-quite-long-indeed",
                 {{"db_name", "pg"}, {"creation_statements", "CREATE ROLE \"{{name}}\";"}})
                  .ok());
  auto r = Do(Operation::kRead, "creds/a-role-name-that-is-quite-long-indeed");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("63-byte"), std::string::npos);
}

TEST_F(DatabaseBackendTest, PasswordPolicyUsedAndMissingPolicyFails) {
  Config({{"password_policy", "strict"}});
  auto cfg = Do(Operation::kRead, "config/pg");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ((*cfg->data)["password_policy"], "strict");
  ASSERT_TRUE(Do(Operation::kUpdate, "roles/ro",
                 {{"db_name", "pg"}, {"creation_statements", "CREATE ROLE \"{{name}}\" PASSWORD '{{password}}';"}})
                  .ok());
  auto r = Do(Operation::kRead, "creds/ro");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r->data)["password"], "Pol'icy\\pw-1234567890");
  // The quote in the password is doubled inside the literal.
  EXPECT_NE(db_.All().find("PASSWORD 'Pol''icy\\pw-1234567890'"), std::string::npos) << db_.All();
  // rotate-root uses the policy too, as a literal (E'' because of the backslash).
  ASSERT_TRUE(Do(Operation::kUpdate, "rotate-root/pg").ok());
  EXPECT_NE(db_.All().find("ALTER ROLE \"root\" WITH PASSWORD E'Pol''icy\\\\pw-1234567890'"), std::string::npos);

  Config({{"password_policy", "missing"}});
  r = Do(Operation::kRead, "creds/ro");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unable to generate password: password policy \"missing\" does not exist");
}

TEST_F(DatabaseBackendTest, SqlErrorsNeverEchoPasswords) {
  Config({{"password_policy", "strict"}});
  ASSERT_TRUE(Do(Operation::kUpdate, "roles/ro",
                 {{"db_name", "pg"}, {"creation_statements", "CREATE ROLE \"{{name}}\" PASSWORD '{{password}}';"}})
                  .ok());
  db_.fail_exec = true;
  auto r = Do(Operation::kRead, "creds/ro");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("icy"), std::string::npos);
}

TEST_F(DatabaseBackendTest, RotationOverlapValidation) {
  Config();
  auto w = [&](Json body) { return Do(Operation::kUpdate, "static-roles/app", body); };
  auto r = w({{"db_name", "pg"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "1h"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rotation_overlap must be shorter than rotation_period"), std::string::npos);
  r = w({{"db_name", "pg"}, {"username", std::string(60, 'u')}, {"rotation_period", "1h"}, {"rotation_overlap", "1m"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("63-byte"), std::string::npos);
  // A role of the twin's name that Sealbox did not create.
  db_.role_comment["app_prev"] = "";
  r = w({{"db_name", "pg"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "1m"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not created by Sealbox"), std::string::npos);
}

TEST_F(DatabaseBackendTest, RotationOverlapCreatesAndExpiresTwin) {
  Config();
  ASSERT_TRUE(Do(Operation::kUpdate, "static-roles/app",
                 {{"db_name", "pg"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "30s"}})
                  .ok());
  auto c1 = Do(Operation::kRead, "static-creds/app");
  ASSERT_TRUE(c1.ok());
  EXPECT_FALSE(c1->data->contains("previous_username"));  // the first rotation has no previous password
  std::string p1 = (*c1->data)["password"];
  auto role = Do(Operation::kRead, "static-roles/app");
  EXPECT_EQ((*role->data)["rotation_overlap"], 30);

  ASSERT_TRUE(Do(Operation::kUpdate, "rotate-role/app").ok());
  auto c2 = Do(Operation::kRead, "static-creds/app");
  ASSERT_TRUE(c2.ok());
  std::string p2 = (*c2->data)["password"];
  EXPECT_NE(p1, p2);
  EXPECT_EQ((*c2->data)["previous_username"], "app_prev");
  EXPECT_EQ((*c2->data)["previous_password_valid_until"], FormatRfc3339(clock_.NowSeconds() + 30));
  EXPECT_FALSE(c2->data->contains("previous_password"));
  const std::string all = db_.All();
  EXPECT_NE(all.find("ALTER ROLE \"app\" WITH PASSWORD '" + p2 + "'"), std::string::npos) << all;
  EXPECT_NE(all.find("CREATE ROLE \"app_prev\" WITH LOGIN PASSWORD '" + p1 + "' VALID UNTIL '"), std::string::npos)
      << all;
  EXPECT_NE(all.find("IN ROLE \"app\""), std::string::npos);
  EXPECT_NE(all.find("COMMENT ON ROLE \"app_prev\" IS 'sealbox rotation_overlap twin of app'"), std::string::npos);
  // The fake database now holds the twin, with the marker.
  db_.role_comment["app_prev"] = "sealbox rotation_overlap twin of app";

  // After the overlap the background check drops it (polled with a deadline).
  clock_.AdvanceSeconds(31);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (db_.All().find("DROP ROLE IF EXISTS \"app_prev\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(db_.All().find("DROP ROLE IF EXISTS \"app_prev\""), std::string::npos);
  EXPECT_NE(db_.All().find("REASSIGN OWNED BY \"app_prev\" TO \"app\""), std::string::npos);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto raw = storage_->Get("static-roles/app");
    if (raw.ok() && *raw && Json::parse(**raw).contains("twin_username") == false) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto c3 = Do(Operation::kRead, "static-creds/app");
  EXPECT_FALSE(c3->data->contains("previous_username"));
}

TEST_F(DatabaseBackendTest, ForeignTwinNeverDropped) {
  Config();
  ASSERT_TRUE(Do(Operation::kUpdate, "static-roles/app",
                 {{"db_name", "pg"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "30s"}})
                  .ok());
  db_.role_comment["app_prev"] = "somebody else's role";
  auto r = Do(Operation::kUpdate, "rotate-role/app");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not created by Sealbox"), std::string::npos);
  EXPECT_EQ(db_.All().find("DROP ROLE IF EXISTS \"app_prev\""), std::string::npos);
}

TEST_F(DatabaseBackendTest, DeleteStaticRoleDropsTwin) {
  Config();
  ASSERT_TRUE(Do(Operation::kUpdate, "static-roles/app",
                 {{"db_name", "pg"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "30s"}})
                  .ok());
  ASSERT_TRUE(Do(Operation::kUpdate, "rotate-role/app").ok());
  db_.role_comment["app_prev"] = "sealbox rotation_overlap twin of app";
  ASSERT_TRUE(Do(Operation::kDelete, "static-roles/app").ok());
  EXPECT_NE(db_.All().find("DROP ROLE IF EXISTS \"app_prev\""), std::string::npos);
  auto raw = storage_->Get("static-roles/app");
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(raw->has_value());
}

// max_open_connections bounds the sessions: with 2 allowed and 5 concurrent
// creds requests, never more than 2 are open, the others wait for one and all
// succeed; idle sessions are reused, not reopened.
TEST_F(DatabaseBackendTest, PoolHonoursMaxOpenConnections) {
  Config({{"max_open_connections", 2}, {"max_connection_lifetime", "1h"}});
  auto cfg = Do(Operation::kRead, "config/pg");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ((*cfg->data)["connection_details"]["max_open_connections"], 2);
  EXPECT_FALSE((*cfg->data)["connection_details"].contains("max_idle_connections"));  // not written
  EXPECT_EQ((*cfg->data)["connection_details"]["max_connection_lifetime"], "1h0m0s");
  ASSERT_TRUE(Do(Operation::kUpdate, "roles/ro",
                 {{"db_name", "pg"}, {"creation_statements", "CREATE ROLE \"{{name}}\" PASSWORD '{{password}}';"}})
                  .ok());
  int opened_before = 0;  // config/pg's verify_connection opened one
  {
    std::lock_guard l(db_.mu);
    db_.hold = true;
    opened_before = db_.opened;
  }
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 5; ++i)
    clients.emplace_back([&] {
      if (Do(Operation::kRead, "creds/ro").ok()) ++ok;
    });
  // Bounded wait until both allowed sessions are busy in a transaction.
  auto busy = [&] {
    std::lock_guard l(db_.mu);
    return db_.open == 2;
  };
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       !busy() && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::yield();
  {
    std::lock_guard l(db_.mu);
    EXPECT_EQ(db_.open, 2);
    db_.hold = false;
  }
  db_.cv.notify_all();
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 5);
  std::lock_guard l(db_.mu);
  EXPECT_LE(db_.max_open_seen, 2);
  EXPECT_LE(db_.opened - opened_before, 2);  // the waiters reused the sessions
}

// Unwritten pool settings keep Vault's defaults and are not shown: a read
// returns the connection details as written, as Vault's does.
TEST_F(DatabaseBackendTest, PoolDefaultsAreVaults) {
  Config();
  auto cfg = Do(Operation::kRead, "config/pg");
  ASSERT_TRUE(cfg.ok());
  const Json& details = (*cfg->data)["connection_details"];
  for (const char* k : {"max_open_connections", "max_idle_connections", "max_connection_lifetime"})
    EXPECT_FALSE(details.contains(k)) << k;
  EXPECT_FALSE(Do(Operation::kUpdate, "config/pg",
                  {{"plugin_name", "postgresql-database-plugin"}, {"connection_url", "postgresql://x"},
                   {"max_idle_connections", -1}})
                   .ok());
}

}  // namespace
}  // namespace sealbox::engines::database
