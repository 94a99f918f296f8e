#include "core/snapshot_scheduler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "storage/snapshot_directory.h"

namespace sealbox::core {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class SnapshotSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sb-sched-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  AutoSnapshotConfig Config(const std::string& name, int64_t interval, int retain) {
    AutoSnapshotConfig c;
    c.name = name;
    c.interval_s = interval;
    c.retain = retain;
    c.path_prefix = dir_ + "/" + name;
    return c;
  }
  size_t Files(const std::string& name) {
    auto f = snapshot::ListSnapshotFiles(dir_ + "/" + name, "vault-snapshot");
    return f.ok() ? f->size() : 0;
  }

  std::string dir_;
  std::unique_ptr<Storage> store_ = NewInMemStorage();
  FakeClock clock_;
  int takes_ = 0;
  bool fail_ = false;
  SnapshotScheduler sched_{store_.get(), &clock_, [this](const std::atomic<bool>&) -> Result<std::string> {
                             ++takes_;
                             if (fail_) return Unavailable("storage unreachable");
                             return std::string("archive");
                           }};
};

TEST_F(SnapshotSchedulerTest, TakesWhatIsDueAndKeepsRetain) {
  ASSERT_TRUE(sched_.Write(Config("a", 10, 2)).ok());
  const int64_t t0 = clock_.NowNanos();
  EXPECT_EQ(sched_.RunDue(t0 + 9 * kSecond), t0 + 10 * kSecond);  // not yet due
  EXPECT_EQ(takes_, 0);
  for (int i = 1; i <= 4; ++i) sched_.RunDue(t0 + i * 10 * kSecond);
  EXPECT_EQ(takes_, 4);
  EXPECT_EQ(Files("a"), 2u);
  auto st = sched_.GetStatus("a");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->consecutive_errors, 0);
  EXPECT_EQ(st->last_start_ns, t0 + 40 * kSecond);
  EXPECT_EQ(st->next_start_ns, t0 + 50 * kSecond);
  EXPECT_EQ(st->last_url, "file://" + dir_ + "/a/vault-snapshot-" + std::to_string(t0 + 40 * kSecond) + ".snap");
  EXPECT_EQ(st->ToJson()["snapshot_start"], "0001-01-01T00:00:00Z");
}

TEST_F(SnapshotSchedulerTest, FailuresCountUntilASuccess) {
  ASSERT_TRUE(sched_.Write(Config("a", 1, 1)).ok());
  const int64_t t0 = clock_.NowNanos();
  fail_ = true;
  sched_.RunDue(t0 + kSecond);
  sched_.RunDue(t0 + 2 * kSecond);
  EXPECT_EQ(sched_.GetStatus("a")->consecutive_errors, 2);
  EXPECT_EQ(sched_.GetStatus("a")->last_error, "storage unreachable");
  EXPECT_EQ(Files("a"), 0u);
  fail_ = false;
  sched_.RunDue(t0 + 3 * kSecond);
  EXPECT_EQ(sched_.GetStatus("a")->consecutive_errors, 0);
  EXPECT_EQ(sched_.GetStatus("a")->last_error, "");
  EXPECT_EQ(Files("a"), 1u);
}

TEST_F(SnapshotSchedulerTest, ConfigurationsPersistAndAreValidated) {
  ASSERT_TRUE(sched_.Write(Config("a", 60, 3)).ok());
  AutoSnapshotConfig cloud = Config("b", 60, 1);
  cloud.storage_type = "aws-s3";
  EXPECT_EQ(sched_.Write(cloud).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sched_.Write(Config("c", 0, 1)).code(), StatusCode::kInvalidArgument);
  // A fresh scheduler over the same storage (the next activation) loads it.
  SnapshotScheduler again(store_.get(), &clock_, [](const std::atomic<bool>&) { return Result<std::string>("x"); });
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.List(), std::vector<std::string>{"a"});
  EXPECT_EQ(again.Read("a")->retain, 3);
  again.Stop();
  EXPECT_TRUE(again.List().empty());  // stopped: forgotten until the next start
  ASSERT_TRUE(sched_.Delete("a").ok());
  EXPECT_FALSE(sched_.Read("a"));
  EXPECT_EQ(sched_.RunDue(clock_.NowNanos() + 3600 * kSecond), 0);
}

}  // namespace
}  // namespace sealbox::core
