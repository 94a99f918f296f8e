#include "storage/rocksdb_storage.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace sealbox {
namespace {

class RocksDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealbox-rocks-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RocksDbTest, PutGetDeletePersist) {
  {
    auto s = OpenRocksDbStorage(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Put("a/b", "1").ok());
    ASSERT_TRUE((*s)->Put("a/c", "2").ok());
    ASSERT_TRUE((*s)->Delete("a/c").ok());
    ASSERT_TRUE((*s)->Delete("never-there").ok());
  }
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(**(*s)->Get("a/b"), "1");
  EXPECT_FALSE((*s)->Get("a/c")->has_value());
}

TEST_F(RocksDbTest, ListCollapsesFolders) {
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  for (const char* k : {"p/a", "p/b/1", "p/b/2", "p/b/c/3", "p/c", "p0", "q/x", "p/d/"})
    ASSERT_TRUE((*s)->Put(k, "v").ok());
  auto l = (*s)->List("p/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<std::string>{"a", "b/", "c", "d/"}));
  auto all = ListRecursive(**s, "p/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{"p/a", "p/b/1", "p/b/2", "p/b/c/3", "p/c", "p/d/"}));
  ASSERT_TRUE(DeletePrefix(**s, "p/b/").ok());
  EXPECT_EQ(*(*s)->List("p/"), (std::vector<std::string>{"a", "c", "d/"}));
}

TEST_F(RocksDbTest, ConcurrentBatchesAllSurviveAReopen) {
  constexpr int kThreads = 8, kEach = 40;
  {
    auto s = OpenRocksDbStorage(dir_);
    ASSERT_TRUE(s.ok());
    Storage& st = **s;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string n = std::to_string(t * kEach + i);
          ASSERT_TRUE(st.Batch({WriteOp::Put("a/" + n, n), WriteOp::Put("b/" + n, n)}).ok());
          // Read-after-acknowledged-write, from the writer's own thread.
          ASSERT_EQ(**st.Get("b/" + n), n);
        }
      });
    for (auto& th : threads) th.join();
  }
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->List("a/")->size(), size_t{kThreads * kEach});
  EXPECT_EQ((*s)->List("b/")->size(), size_t{kThreads * kEach});
}

TEST_F(RocksDbTest, BatchIsAtomicAndVisible) {
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Put("x", "old").ok());
  ASSERT_TRUE((*s)->Batch({WriteOp::Put("y", "1"), WriteOp::Delete("x"), WriteOp::Put("z", "2")}).ok());
  EXPECT_FALSE((*s)->Get("x")->has_value());
  EXPECT_EQ(**(*s)->Get("y"), "1");
  EXPECT_EQ(**(*s)->Get("z"), "2");
}

TEST_F(RocksDbTest, OpenFailsOnUnusablePath) {
  auto s = OpenRocksDbStorage("/proc/sealbox-cannot-create-here");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace sealbox

namespace sealbox {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries ScanAll(Storage& s) {
  Entries out;
  EXPECT_TRUE(s.ScanConsistent([&](std::string_view k, std::string_view v) {
                 out.emplace_back(k, v);
                 return Status::Ok();
               }).ok());
  return out;
}

TEST_F(RocksDbTest, ScanSeesOnePointInTimeWhileWritesGoOn) {
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  Storage& db = **s;
  ASSERT_TRUE(db.SupportsSnapshots());
  ASSERT_TRUE(db.Put("b", "1").ok());
  ASSERT_TRUE(db.Put("a", "0").ok());
  Entries seen;
  // A write during the scan (from the visitor itself) is not seen by it.
  ASSERT_TRUE(db.ScanConsistent([&](std::string_view k, std::string_view v) {
                  if (seen.empty()) {
                    EXPECT_TRUE(db.Put("c", "late").ok());
                  }
                  seen.emplace_back(k, v);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(seen, (Entries{{"a", "0"}, {"b", "1"}}));
  EXPECT_EQ(ScanAll(db).size(), 3u);
}

TEST_F(RocksDbTest, ReplaceAllSwapsTheWholeContentDurably) {
  {
    auto s = OpenRocksDbStorage(dir_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Put("old/1", "x").ok());
    ASSERT_TRUE((*s)->Put("keep", "old").ok());
    ASSERT_TRUE((*s)->ReplaceAll({{"keep", "new"}, {"new/1", "y"}}).ok());
  }
  auto s = OpenRocksDbStorage(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ScanAll(**s), (Entries{{"keep", "new"}, {"new/1", "y"}}));
}

TEST(InMemStorage, ScanAndReplaceAll) {
  auto s = NewInMemStorage();
  ASSERT_TRUE(s->Put("z", "1").ok());
  ASSERT_TRUE(s->ReplaceAll({{"a", "2"}}).ok());
  EXPECT_EQ(ScanAll(*s), (Entries{{"a", "2"}}));
}

}  // namespace
}  // namespace sealbox
