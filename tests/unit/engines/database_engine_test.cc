// Unit tests of the database engine over a fake DatabasePlugin: the engine's
// lease, role and rotation logic without PostgreSQL (what it asks the plugin,
// what it stores, what it answers), and the one RotationScheduler its mounts
// share.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "base/clock.h"
#include "engines/database/database_engine.h"
#include "engines/database/rotation_scheduler.h"
#include "logical/backend.h"
#include "storage/storage.h"

namespace sealbox::engines::database {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

// What the engine asked of the fake database, and how it answers.
struct FakeDatabase {
  std::mutex mu;
  std::vector<NewUser> created;
  std::vector<std::pair<std::string, int64_t>> renewed;  // username, expiration
  std::vector<std::string> revoked;
  std::vector<PasswordChange> changes;
  std::set<std::thread::id> change_threads;
  std::vector<std::string> dropped;  // previous logins
  int opened = 0;
  Status create_status;  // returned by CreateUser
  Status change_status;  // returned by SetPassword once the change ran

  template <typename F>
  auto Locked(F f) {
    std::lock_guard l(mu);
    return f();
  }
};

class FakePlugin final : public DatabasePlugin {
 public:
  explicit FakePlugin(FakeDatabase* db) : db_(db) {}
  Status Verify() override { return Status::Ok(); }
  Status CreateUser(const NewUser& user) override {
    std::lock_guard l(db_->mu);
    db_->created.push_back(user);
    return db_->create_status;
  }
  Status RenewUser(const std::string& user, const std::vector<std::string>&, int64_t expiration) override {
    std::lock_guard l(db_->mu);
    db_->renewed.emplace_back(user, expiration);
    return Status::Ok();
  }
  Status RevokeUser(const std::string& user, const std::vector<std::string>&) override {
    std::lock_guard l(db_->mu);
    db_->revoked.push_back(user);
    return Status::Ok();
  }
  Status RotateRoot(const std::string&) override { return Status::Ok(); }
  PasswordChangeResult SetPassword(const PasswordChange& change) override {
    std::lock_guard l(db_->mu);
    PasswordChangeResult r;
    if (change.replace_previous_login) {
      db_->dropped.push_back(PreviousLogin(change.username));
      r.previous_login_dropped = true;
    }
    db_->changes.push_back(change);
    db_->change_threads.insert(std::this_thread::get_id());
    r.change_attempted = true;
    r.status = db_->change_status;
    return r;
  }
  std::string PreviousLogin(const std::string& user) const override { return user + "_old"; }
  Status CheckPreviousLoginFree(const std::string&) override { return Status::Ok(); }
  Status DropPreviousLogin(const std::string& user) override {
    std::lock_guard l(db_->mu);
    db_->dropped.push_back(PreviousLogin(user));
    return Status::Ok();
  }

 private:
  FakeDatabase* db_;
};

PluginType FakeType(FakeDatabase* db) {
  PluginType t;
  t.name = "fake-database-plugin";
  t.check_username = [](const std::string& name) {
    return name.size() <= 20 ? Status::Ok() : InvalidArgument("the username is too long for the fake");
  };
  t.open = [db](const ConnectionConfig&, const Clock*) -> std::unique_ptr<DatabasePlugin> {
    db->Locked([&] { ++db->opened; });
    return std::make_unique<FakePlugin>(db);
  };
  return t;
}

// Waits (bounded) until `done` holds.
template <typename F>
bool Eventually(F done) {
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(10)))
    if (done()) return true;
  return done();
}

class Mount {
 public:
  Mount(const logical::BackendFactory& factory, FakeClock* clock) : storage_(NewInMemStorage()) {
    logical::BackendConfig cfg;
    cfg.storage = storage_.get();
    cfg.type = "database";
    cfg.clock = clock;
    auto b = factory(cfg);
    EXPECT_TRUE(b.ok());
    backend_ = std::move(*b);
  }
  ~Mount() { backend_->Cleanup(); }

  Result<Response> Do(Operation op, const std::string& path, Json data = Json::object()) {
    Request r;
    r.op = op;
    r.path = path;
    r.data = std::move(data);
    r.storage = storage_.get();
    logical::TokenInfo t;
    t.display_name = "tok";
    r.token = t;
    return backend_->HandleRequest(r);
  }
  void Config() {
    auto r = Do(Operation::kUpdate, "config/db",
                {{"plugin_name", "fake-database-plugin"}, {"connection_url", "fake://"}, {"allowed_roles", "*"},
                 {"username_template", "{{ printf \"u-%s\" .RoleName }}"}});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  Storage* storage() { return storage_.get(); }
  logical::Backend& backend() { return *backend_; }

 private:
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<logical::Backend> backend_;
};

class DatabaseEngineTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeDatabase db_;
  logical::BackendFactory factory_ = Factory({FakeType(&db_)});
};

TEST_F(DatabaseEngineTest, UnknownPluginRefused) {
  Mount m(factory_, &clock_);
  auto r = m.Do(Operation::kUpdate, "config/db", {{"plugin_name", "postgresql-database-plugin"},
                                                  {"connection_url", "x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unsupported plugin");
}

TEST_F(DatabaseEngineTest, CredsLeaseCarriesWhatRenewAndRevokeNeed) {
  Mount m(factory_, &clock_);
  m.Config();
  ASSERT_TRUE(m.Do(Operation::kUpdate, "roles/ro",
                   {{"db_name", "db"}, {"creation_statements", "CREATE {{name}}"},
                    {"revocation_statements", "DROP {{name}}"}, {"default_ttl", "1h"}, {"max_ttl", "2h"}})
                  .ok());
  auto r = m.Do(Operation::kRead, "creds/ro");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r->data)["username"], "u-ro");
  ASSERT_TRUE(r->secret.has_value());
  EXPECT_EQ(r->secret->ttl, 3600);
  EXPECT_EQ(r->secret->max_ttl, 7200);
  const Json lease = r->secret->internal_data;
  EXPECT_EQ(lease["username"], "u-ro");
  EXPECT_EQ(lease["db_name"], "db");
  EXPECT_EQ(lease["revocation_statements"], Json::array({"DROP {{name}}"}));
  {
    std::lock_guard l(db_.mu);
    ASSERT_EQ(db_.created.size(), 1u);
    EXPECT_EQ(db_.created[0].username, "u-ro");
    EXPECT_EQ(db_.created[0].password, (*r->data)["password"]);
    EXPECT_EQ(db_.created[0].expiration_unix, clock_.NowSeconds() + 3600 + 5);
    EXPECT_EQ(db_.created[0].statements, std::vector<std::string>{"CREATE {{name}}"});
  }
  // The expiration manager sends the lease data back, with the new TTL.
  Json renew = lease;
  renew["ttl"] = 600;
  ASSERT_TRUE(m.Do(Operation::kRenew, "creds/ro", renew).ok());
  ASSERT_TRUE(m.Do(Operation::kRevoke, "creds/ro", lease).ok());
  std::lock_guard l(db_.mu);
  ASSERT_EQ(db_.renewed.size(), 1u);
  EXPECT_EQ(db_.renewed[0], std::make_pair(std::string("u-ro"), clock_.NowSeconds() + 600 + 5));
  EXPECT_EQ(db_.revoked, std::vector<std::string>{"u-ro"});
  EXPECT_EQ(db_.opened, 2);  // verify_connection's, then one kept for the config
}

TEST_F(DatabaseEngineTest, PluginErrorsBecomeVaultsAnswers) {
  Mount m(factory_, &clock_);
  m.Config();
  ASSERT_TRUE(m.Do(Operation::kUpdate, "roles/ro", {{"db_name", "db"}, {"creation_statements", "CREATE"}}).ok());
  ASSERT_TRUE(m.Do(Operation::kUpdate, "roles/a-role-name-too-long", {{"db_name", "db"}, {"creation_statements", "C"}})
                  .ok());
  auto r = m.Do(Operation::kRead, "creds/a-role-name-too-long");  // the plugin's username check
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unable to generate username: the username is too long for the fake");
  db_.Locked([&] { db_.create_status = InvalidArgument("the value of {{name}} cannot be placed"); });
  r = m.Do(Operation::kRead, "creds/ro");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot build the creation statements: the value of {{name}} cannot be placed");
  db_.Locked([&] { db_.create_status = Unavailable("ERROR: permission denied"); });
  r = m.Do(Operation::kRead, "creds/ro");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), "failed to create credentials");
}

TEST_F(DatabaseEngineTest, StaticRotationHandsThePreviousPasswordOver) {
  Mount m(factory_, &clock_);
  m.Config();
  ASSERT_TRUE(m.Do(Operation::kUpdate, "static-roles/app",
                   {{"db_name", "db"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "1m"}})
                  .ok());
  const std::string p1 = (*m.Do(Operation::kRead, "static-creds/app")->data)["password"];
  ASSERT_TRUE(m.Do(Operation::kUpdate, "rotate-role/app").ok());
  auto creds = m.Do(Operation::kRead, "static-creds/app");
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ((*creds->data)["previous_username"], "app_old");
  std::lock_guard l(db_.mu);
  ASSERT_EQ(db_.changes.size(), 2u);
  EXPECT_TRUE(db_.changes[0].previous_password.empty());  // the first rotation knows no previous password
  EXPECT_EQ(db_.changes[1].previous_password, p1);
  EXPECT_EQ(db_.changes[1].password, (*creds->data)["password"]);
  EXPECT_EQ(db_.changes[1].previous_valid_until_unix, clock_.NowSeconds() + 60);
}

TEST_F(DatabaseEngineTest, FailedRotationRecordsTheDroppedTwin) {
  Mount m(factory_, &clock_);
  m.Config();
  ASSERT_TRUE(m.Do(Operation::kUpdate, "static-roles/app",
                   {{"db_name", "db"}, {"username", "app"}, {"rotation_period", "1h"}, {"rotation_overlap", "1m"}})
                  .ok());
  ASSERT_TRUE(m.Do(Operation::kUpdate, "rotate-role/app").ok());
  const std::string p2 = (*m.Do(Operation::kRead, "static-creds/app")->data)["password"];
  db_.Locked([&] { db_.change_status = Unavailable("connection refused"); });
  auto r = m.Do(Operation::kUpdate, "rotate-role/app");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "failed to rotate the static role's password");
  auto creds = m.Do(Operation::kRead, "static-creds/app");
  EXPECT_EQ((*creds->data)["password"], p2);  // unchanged
  EXPECT_FALSE(creds->data->contains("previous_username"));  // dropped before the change failed
}

// All mounts of one factory rotate on one scheduler thread, not the caller's.
TEST_F(DatabaseEngineTest, MountsShareOneRotationThread) {
  Mount a(factory_, &clock_), b(factory_, &clock_);
  for (Mount* m : {&a, &b}) {
    m->Config();
    ASSERT_TRUE(m->Do(Operation::kUpdate, "static-roles/app",
                      {{"db_name", "db"}, {"username", "app"}, {"rotation_period", "10s"}})
                    .ok());
  }
  db_.Locked([&] { db_.change_threads.clear(); });
  clock_.AdvanceSeconds(10);
  ASSERT_TRUE(Eventually([&] { return db_.Locked([&] { return db_.changes.size() >= 4; }); }));
  std::lock_guard l(db_.mu);
  EXPECT_EQ(db_.change_threads.size(), 1u);
  EXPECT_EQ(db_.change_threads.count(std::this_thread::get_id()), 0u);
}

TEST(RotationSchedulerTest, CancelWaitsForTheTickAndStopsTheJob) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  const std::atomic<bool>* cancel_flag = nullptr;  // the first job's, once its tick runs
  std::atomic<int> first_ticks{0}, second_ticks{0};
  RotationScheduler scheduler(std::chrono::milliseconds(5));
  // Whatever happens, the blocked tick is let go before the scheduler joins.
  struct Release {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& release;
    void operator()() {
      std::lock_guard l(mu);
      release = true;
      cv.notify_all();
    }
    ~Release() { (*this)(); }
  } releaser{mu, cv, release};
  const uint64_t first = scheduler.Add([&](const std::atomic<bool>& cancelled) {
    ++first_ticks;
    std::unique_lock l(mu);
    cancel_flag = &cancelled;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  });
  scheduler.Add([&](const std::atomic<bool>&) { ++second_ticks; });
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return cancel_flag != nullptr; }));
  }
  std::atomic<bool> cancel_returned{false};
  std::thread canceller([&] {
    scheduler.Cancel(first);
    cancel_returned = true;
  });
  // The tick sees the cancellation; Cancel cannot return while the tick runs.
  EXPECT_TRUE(Eventually([&] { return cancel_flag->load(); }));
  EXPECT_FALSE(cancel_returned.load());
  releaser();
  canceller.join();
  EXPECT_TRUE(cancel_returned.load());
  // Two rounds of the other job later, the cancelled one never ran again.
  const int seen = second_ticks.load();
  ASSERT_TRUE(Eventually([&] { return second_ticks.load() >= seen + 2; }));
  EXPECT_EQ(first_ticks.load(), 1);
}

}  // namespace
}  // namespace sealbox::engines::database
