#include "storage/caching_storage.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sealbox {
namespace {

// An in-memory store that counts reads, can fail writes, and can hold a read
// of one key until released (to interleave a write with it).
class ProbeStore final : public Storage {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    ++gets;
    auto value = inner_->Get(key);
    if (key == hold_key) {
      std::unique_lock l(mu_);
      held_ = true;
      cv_.notify_all();
      cv_.wait(l, [&] { return released_; });
    }
    return value;
  }
  Status Put(std::string_view key, std::string_view value) override {
    if (fail_writes) return IOError("disk says no");
    return inner_->Put(key, value);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override { return inner_->List(prefix); }
  Status Batch(const std::vector<WriteOp>& ops) override {
    if (fail_writes) return IOError("disk says no");
    return inner_->Batch(ops);
  }

  void WaitHeld() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return held_; });
  }
  void Release() {
    std::lock_guard l(mu_);
    released_ = true;
    cv_.notify_all();
  }

  int gets = 0;
  bool fail_writes = false;
  std::string hold_key;

 private:
  std::unique_ptr<Storage> inner_ = NewInMemStorage();
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, released_ = false;
};

std::optional<std::string> Read(Storage& s, std::string_view key) {
  auto v = s.Get(key);
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : std::nullopt;
}

TEST(CachingStorageTest, RepeatedReadsAndAbsentKeysComeFromTheCache) {
  ProbeStore store;
  ASSERT_TRUE(store.Put("a", "1").ok());
  CachingStorage cache(&store, 1024);
  EXPECT_EQ(Read(cache, "a"), "1");
  EXPECT_EQ(Read(cache, "a"), "1");
  EXPECT_EQ(Read(cache, "missing"), std::nullopt);
  EXPECT_EQ(Read(cache, "missing"), std::nullopt);
  EXPECT_EQ(store.gets, 2);
}

TEST(CachingStorageTest, WritesThroughItAreSeenAtOnce) {
  ProbeStore store;
  CachingStorage cache(&store, 1024);
  EXPECT_EQ(Read(cache, "k"), std::nullopt);
  ASSERT_TRUE(cache.Put("k", "v1").ok());
  EXPECT_EQ(Read(cache, "k"), "v1");
  ASSERT_TRUE(cache.Batch({WriteOp::Put("k", "v2"), WriteOp::Put("j", "x")}).ok());
  EXPECT_EQ(Read(cache, "k"), "v2");
  EXPECT_EQ(Read(cache, "j"), "x");
  ASSERT_TRUE(cache.Delete("k").ok());
  EXPECT_EQ(Read(cache, "k"), std::nullopt);
}

TEST(CachingStorageTest, AFailedWriteLeavesNothingCachedForTheKey) {
  ProbeStore store;
  ASSERT_TRUE(store.Put("k", "old").ok());
  CachingStorage cache(&store, 1024);
  EXPECT_EQ(Read(cache, "k"), "old");
  store.fail_writes = true;
  EXPECT_FALSE(cache.Put("k", "new").ok());
  const int before = store.gets;
  EXPECT_EQ(Read(cache, "k"), "old");
  EXPECT_EQ(store.gets, before + 1);  // asked the store again
}

TEST(CachingStorageTest, EvictsBeyondItsSize) {
  ProbeStore store;
  CachingStorage cache(&store, 16);  // one entry per shard
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(cache.Put("k" + std::to_string(i), "v").ok());
  for (int i = 0; i < 200; ++i) Read(cache, "k" + std::to_string(i));
  const int before = store.gets;
  for (int i = 0; i < 200; ++i) EXPECT_EQ(Read(cache, "k" + std::to_string(i)), "v");
  EXPECT_GE(store.gets - before, 200 - 16);
}

TEST(CachingStorageTest, DisabledGoesToTheStoreAndReenablingStartsEmpty) {
  ProbeStore store;
  ASSERT_TRUE(store.Put("a", "1").ok());
  CachingStorage cache(&store, 1024);
  EXPECT_EQ(Read(cache, "a"), "1");
  cache.SetEnabled(false);
  ASSERT_TRUE(store.Put("a", "2").ok());  // another writer, as under HA
  EXPECT_EQ(Read(cache, "a"), "2");
  EXPECT_EQ(Read(cache, "a"), "2");
  EXPECT_EQ(store.gets, 3);
  cache.SetEnabled(true);
  ASSERT_TRUE(store.Put("a", "3").ok());
  EXPECT_EQ(Read(cache, "a"), "3");
}

TEST(CachingStorageTest, AReadRacingAWriteNeverCachesTheOldValue) {
  ProbeStore store;
  ASSERT_TRUE(store.Put("k", "old").ok());
  store.hold_key = "k";
  CachingStorage cache(&store, 1024);
  std::optional<std::string> raced;
  std::thread reader([&] { raced = Read(cache, "k"); });
  store.WaitHeld();  // the read has fetched "old" and not yet returned
  ASSERT_TRUE(cache.Put("k", "new").ok());
  store.Release();
  reader.join();
  EXPECT_EQ(raced, "old");
  store.hold_key.clear();
  EXPECT_EQ(Read(cache, "k"), "new");
}

}  // namespace
}  // namespace sealbox
