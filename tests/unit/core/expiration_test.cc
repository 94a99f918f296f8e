#include "core/expiration_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/saturating.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

struct Fixture {
  std::unique_ptr<Storage> store = NewInMemStorage();
  FakeClock clock;
  std::set<std::string> revoked;  // usernames
  bool fail = false;
  std::unique_ptr<ExpirationManager> m;

  Fixture() { Reset(); }
  void Reset() {
    m = std::make_unique<ExpirationManager>(store.get(), &clock);
    m->SetCallbacks(
        [this](const LeaseEntry& e) -> Status {
          if (fail) return Unavailable("database down");
          revoked.insert(e.internal.value("username", ""));
          return Status::Ok();
        },
        [](const LeaseEntry&, int64_t) { return Status::Ok(); });
  }
  std::string Reg(const std::string& user, int64_t ttl, const std::string& token = "tok", int64_t max_ttl = 0) {
    logical::Secret s;
    s.ttl = ttl;
    s.max_ttl = max_ttl;
    s.renewable = true;
    s.internal_data = {{"username", user}};
    return *m->Register("database/creds/ro", "database/", token, s);
  }
};

TEST(ExpirationTest, ExpiresInOrderOnlyWhenDue) {
  Fixture f;
  std::string a = f.Reg("a", 10), b = f.Reg("b", 100);
  EXPECT_EQ(a.rfind("database/creds/ro/", 0), 0u);
  EXPECT_EQ(a.size(), std::string("database/creds/ro/").size() + 24);
  f.m->Tick();
  EXPECT_TRUE(f.revoked.empty());
  f.clock.AdvanceSeconds(11);
  f.m->Tick();
  EXPECT_EQ(f.revoked, (std::set<std::string>{"a"}));
  EXPECT_FALSE(f.m->Lookup(a)->has_value());
  EXPECT_TRUE(f.m->Lookup(b)->has_value());
}

// The lease-count quotas' recount reads every stored lease, with whether a
// root caller made it.
TEST(ExpirationTest, ForEachVisitsEveryStoredLease) {
  Fixture f;
  std::string a = f.Reg("a", 100);
  logical::Secret s;
  s.ttl = 100;
  s.internal_data = {{"username", "b"}};
  std::string b = *f.m->Register("database/creds/rw", "database/", "root-tok", s, /*quota_exempt=*/true);
  std::map<std::string, bool> seen;
  ASSERT_TRUE(f.m->ForEach([&](const LeaseEntry& e) { seen[e.lease_id] = e.quota_exempt; }).ok());
  EXPECT_EQ(seen, (std::map<std::string, bool>{{a, false}, {b, true}}));
}

// A TTL as long as Go allows: issue + ttl once wrapped into the past and the
// lease was revoked at the next tick.
TEST(ExpirationTest, TheLongestTtlSaturatesInsteadOfExpiring) {
  Fixture f;
  std::string a = f.Reg("a", kMaxDurationSeconds, "tok", kMaxDurationSeconds);
  f.clock.AdvanceSeconds(3600);
  f.m->Tick();
  EXPECT_TRUE(f.revoked.empty());
  std::vector<std::string> w;
  auto ttl = f.m->Renew(a, kMaxDurationSeconds, &w);
  ASSERT_TRUE(ttl.ok()) << ttl.status().message();
  EXPECT_GT(*ttl, 0);
  f.m->Tick();
  EXPECT_TRUE(f.revoked.empty());
  EXPECT_GT((*f.m->Lookup(a))->expire_ns, AddSeconds(f.clock.NowNanos(), int64_t{200} * 365 * 86400));
}

TEST(ExpirationTest, SurvivesARestartWithoutLoadingAnything) {
  Fixture f;
  f.Reg("a", 10);
  f.Reset();  // a new manager over the same storage, as after unseal
  f.clock.AdvanceSeconds(60);
  f.m->Tick();
  EXPECT_EQ(f.revoked, (std::set<std::string>{"a"}));
}

TEST(ExpirationTest, BackoffThenIrrevocableThenForce) {
  Fixture f;
  std::string a = f.Reg("a", 1);
  f.fail = true;
  for (int i = 0; i < 40 && !(*f.m->Irrevocable(10)).size(); ++i) {
    f.clock.AdvanceSeconds(30);
    f.m->Tick();
  }
  auto irr = *f.m->Irrevocable(10);
  ASSERT_EQ(irr.size(), 1u);
  EXPECT_EQ(irr[0].attempts, ExpirationManager::kMaxAttempts);
  EXPECT_EQ(irr[0].last_error, "database down");
  std::vector<std::string> w;
  EXPECT_FALSE(f.m->Renew(a, 10, &w).ok());
  EXPECT_FALSE(f.m->RevokePrefix("database/creds/", false).ok());
  EXPECT_TRUE(f.m->RevokePrefix("database/creds/", true).ok());
  EXPECT_TRUE(f.m->Irrevocable(10)->empty());
}

TEST(ExpirationTest, RenewCapsAtMaxTtlWithWarning) {
  Fixture f;
  std::string a = f.Reg("a", 60, "tok", 100);
  std::vector<std::string> w;
  EXPECT_EQ(*f.m->Renew(a, 50, &w), 50);
  EXPECT_TRUE(w.empty());
  f.clock.AdvanceSeconds(40);
  EXPECT_EQ(*f.m->Renew(a, 500, &w), 60);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("capped"), std::string::npos);
  f.clock.AdvanceSeconds(61);
  EXPECT_FALSE(f.m->Renew(a, 10, &w).ok());
}

// A renewal without increment grants the TTL of issue again (Vault's
// LeaseExtend with the backend's default), not what the last renewal granted.
TEST(ExpirationTest, RenewWithoutIncrementGrantsTheIssueTtl) {
  Fixture f;
  std::string a = f.Reg("a", 60);
  std::vector<std::string> w;
  EXPECT_EQ(*f.m->Renew(a, 20, &w), 20);
  f.clock.AdvanceSeconds(10);
  EXPECT_EQ(*f.m->Renew(a, 0, &w), 60);
  EXPECT_EQ(*f.m->Renew(a, 0, &w), 60);
}

TEST(ExpirationTest, RevokeByTokenOnlyTouchesThatToken) {
  Fixture f;
  f.Reg("a", 100, "t1");
  f.Reg("b", 100, "t1");
  f.Reg("c", 100, "t2");
  f.m->RevokeByToken("t1");
  EXPECT_EQ(f.revoked, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(f.m->List("database/creds/ro/")->size(), 1u);
}

TEST(ExpirationTest, MovePrefixCarriesLeasesWithTheirScheduleAndOwner) {
  Fixture f;
  std::string a = f.Reg("a", 10, "t1"), b = f.Reg("b", 100, "t2");
  ASSERT_EQ(*f.m->MovePrefix("database/", "db2/"), 2u);
  std::string moved_a = "db2/" + a.substr(std::string("database/").size());
  EXPECT_FALSE(f.m->Lookup(a)->has_value());
  auto e = *f.m->Lookup(moved_a);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->mount, "db2/");
  EXPECT_EQ(e->path, "db2/creds/ro");
  // Still expires on time, still dies with its token, and the old index is gone.
  f.clock.AdvanceSeconds(11);
  f.m->Tick();
  EXPECT_EQ(f.revoked, (std::set<std::string>{"a"}));
  f.m->RevokeByToken("t2");
  EXPECT_EQ(f.revoked, (std::set<std::string>{"a", "b"}));
  EXPECT_TRUE(f.m->List("db2/creds/ro/")->empty());
  EXPECT_TRUE(f.m->List("database/creds/ro/")->empty());
}

}  // namespace
}  // namespace sealbox::core
