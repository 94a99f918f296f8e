#include <gtest/gtest.h>

#include <atomic>

#include <string>
#include <thread>
#include <vector>

#include "core/quota_manager.h"
#include "core/rate_limiter.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(RateLimiterTest, AllowsRateThenRefusesWithRetryAfter) {
  RateLimiter rl(3, 10 * kSec, 0);
  for (int i = 0; i < 3; ++i) {
    RateDecision d = rl.Take("10.0.0.1", 0);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_EQ(d.limit, 3);
  }
  RateDecision d = rl.Take("10.0.0.1", 0);
  EXPECT_FALSE(d.allowed);
  // One token comes back every 10/3 s.
  EXPECT_EQ(d.retry_after, 4);
  EXPECT_EQ(d.reset_secs, 10);
}

TEST(RateLimiterTest, RefillsOverTimeAndKeysAreIndependent) {
  RateLimiter rl(2, 1 * kSec, 0);
  EXPECT_TRUE(rl.Take("a", 0).allowed);
  EXPECT_TRUE(rl.Take("a", 0).allowed);
  EXPECT_FALSE(rl.Take("a", 0).allowed);
  EXPECT_TRUE(rl.Take("b", 0).allowed);  // another client has its own bucket
  EXPECT_FALSE(rl.Take("a", kSec / 4).allowed);
  EXPECT_TRUE(rl.Take("a", kSec / 2).allowed);  // half an interval: one token
  EXPECT_FALSE(rl.Take("a", kSec / 2).allowed);
}

TEST(RateLimiterTest, BlockIntervalRefusesForItsWholeLength) {
  RateLimiter rl(1, 1 * kSec, 30 * kSec);
  EXPECT_TRUE(rl.Take("a", 0).allowed);
  RateDecision d = rl.Take("a", 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 30);
  // Long after the bucket refilled, still blocked.
  d = rl.Take("a", 10 * kSec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 20);
  EXPECT_TRUE(rl.Take("a", 30 * kSec).allowed);
}

TEST(RateLimiterTest, MemoryIsBoundedUnderManyClients) {
  RateLimiter rl(5, 1 * kSec, 0);
  const size_t clients = RateLimiter::kShards * RateLimiter::kMaxPerShard * 2;
  for (size_t i = 0; i < clients; ++i) rl.Take("client-" + std::to_string(i), static_cast<int64_t>(i));
  EXPECT_LE(rl.Size(), RateLimiter::kShards * RateLimiter::kMaxPerShard);
}

TEST(RateLimiterTest, ConcurrentTakesNeverOverspend) {
  RateLimiter rl(1000, 3600 * kSec, 0);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (rl.Take("same", 0).allowed) allowed++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(QuotaMatchTest, PathBeatsRoleBeatsMountBeatsGlobal) {
  QuotaScope global{"g", "", "", ""};
  QuotaScope mount{"m", "kv/", "kv/", ""};
  QuotaScope path{"p", "kv/team", "kv/", ""};
  QuotaScope longer{"p2", "kv/team/a", "kv/", ""};
  QuotaScope auth_mount{"am", "auth/approle/", "auth/approle/", ""};
  QuotaScope role{"r", "auth/approle/", "auth/approle/", "web"};
  std::vector<const QuotaScope*> all = {&global, &mount, &path, &longer, &auth_mount, &role};
  auto pick = [&](std::string_view p, std::string_view m, std::string_view r = "") {
    int i = MostSpecific(all, QuotaRequest{p, m, r, "1.2.3.4"});
    return i < 0 ? std::string("none") : all[i]->name;
  };
  EXPECT_EQ(pick("kv/team/a/x", "kv/"), "p2");
  EXPECT_EQ(pick("kv/team/b", "kv/"), "p");
  EXPECT_EQ(pick("kv/other", "kv/"), "m");
  EXPECT_EQ(pick("secret/x", "secret/"), "g");
  EXPECT_EQ(pick("auth/approle/login", "auth/approle/", "web"), "r");
  EXPECT_EQ(pick("auth/approle/login", "auth/approle/", "db"), "am");
  std::vector<const QuotaScope*> only_mount = {&mount};
  EXPECT_EQ(MostSpecific(only_mount, QuotaRequest{"secret/x", "secret/", "", ""}), -1);
}

TEST(QuotaManagerTest, LeaseCountRefusesPastMaxAndReleases) {
  std::unique_ptr<Storage> store = NewInMemStorage();
  FakeClock clock(0);
  QuotaManager qm(&clock);
  ASSERT_TRUE(qm.Load(store.get()).ok());
  ASSERT_TRUE(qm.WriteLeaseCount(LeaseCountQuota{{"l", "db/", "db/", ""}, 2, nullptr}).ok());
  QuotaRequest r{"db/creds/ro", "db/", "", "1.2.3.4"};
  auto a = qm.AcquireLease(r);
  auto b = qm.AcquireLease(r);
  ASSERT_TRUE(a.ok() && *a && b.ok() && *b);
  const uint64_t before = QuotaRejections(QuotaKind::kLeaseCount);
  auto c = qm.AcquireLease(r);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kRateLimited);
  EXPECT_NE(c.status().message().find("lease count quota exceeded"), std::string::npos);
  EXPECT_EQ(QuotaRejections(QuotaKind::kLeaseCount), before + 1);
  QuotaManager::Release(*a);
  EXPECT_TRUE(qm.AcquireLease(r).ok());
  // Another mount is not counted.
  auto other = qm.AcquireLease(QuotaRequest{"kv/x", "kv/", "", ""});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, nullptr);
}

// The recount after an unseal: past max_leases if that many leases exist,
// each counted against the most specific quota, and then refusing.
TEST(QuotaManagerTest, RecountCountsExistingLeasesPastTheMax) {
  std::unique_ptr<Storage> store = NewInMemStorage();
  FakeClock clock(0);
  QuotaManager qm(&clock);
  ASSERT_TRUE(qm.Load(store.get()).ok());
  ASSERT_TRUE(qm.WriteLeaseCount(LeaseCountQuota{{"mount", "db/", "db/", ""}, 1, nullptr}).ok());
  ASSERT_TRUE(qm.WriteLeaseCount(LeaseCountQuota{{"ro", "db/creds/ro", "db/", ""}, 5, nullptr}).ok());
  auto stale = *qm.AcquireLease(QuotaRequest{"db/creds/rw", "db/", "", ""});
  qm.ResetLeaseCounts();
  EXPECT_EQ((*qm.Read(QuotaKind::kLeaseCount, "mount"))["counter"], 0);
  const QuotaRequest rw{"db/creds/rw", "db/", "", ""};
  auto a = qm.CountExisting(rw);
  auto b = qm.CountExisting(rw);
  auto c = qm.CountExisting(QuotaRequest{"db/creds/ro", "db/", "", ""});
  EXPECT_EQ(qm.CountExisting(QuotaRequest{"kv/x", "kv/", "", ""}), nullptr);
  ASSERT_TRUE(a && a == b && c && c != a);
  EXPECT_NE(a, stale);  // a lease released later does not touch the new count
  EXPECT_EQ((*qm.Read(QuotaKind::kLeaseCount, "mount"))["counter"], 2);
  EXPECT_EQ((*qm.Read(QuotaKind::kLeaseCount, "ro"))["counter"], 1);
  EXPECT_FALSE(qm.AcquireLease(rw).ok());
}

TEST(QuotaManagerTest, PersistsAndRefusesDuplicates) {
  std::unique_ptr<Storage> store = NewInMemStorage();
  FakeClock clock(0);
  {
    QuotaManager qm(&clock);
    ASSERT_TRUE(qm.Load(store.get()).ok());
    ASSERT_TRUE(qm.WriteRateLimit(RateLimitQuota{{"a", "kv/", "kv/", ""}, 5, 1, 0, nullptr}).ok());
    Status dup = qm.WriteRateLimit(RateLimitQuota{{"b", "kv/", "kv/", ""}, 5, 1, 0, nullptr});
    EXPECT_EQ(dup.message(), "quota rule with similar properties exists under the name \"a\"");
  }
  QuotaManager again(&clock);
  ASSERT_TRUE(again.Load(store.get()).ok());
  EXPECT_EQ(again.List(QuotaKind::kRateLimit), std::vector<std::string>{"a"});
  auto j = again.Read(QuotaKind::kRateLimit, "a");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["rate"], 5.0);
  EXPECT_EQ((*j)["path"], "kv/");
}

}  // namespace
}  // namespace sealbox::core
