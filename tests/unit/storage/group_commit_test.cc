#include "storage/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sealbox {
namespace {

// A store behind the commit function: applies each group whole, records the
// groups it saw, and can hold a commit until the test opens its gate.
class FakeStore {
 public:
  Status Commit(const std::vector<const std::vector<WriteOp>*>& group) {
    std::unique_lock l(mu_);
    const int index = ++entered_;
    changed_.notify_all();
    changed_.wait(l, [&] { return open_; });
    group_sizes_.push_back(group.size());
    if (fail_from_ > 0 && index >= fail_from_) return IOError("disk on fire");
    for (const auto* ops : group)
      for (const auto& op : *ops) {
        if (op.kind == WriteOp::Kind::kPut) data_[op.key] = op.value;
        else data_.erase(op.key);
      }
    return Status::Ok();
  }
  void Close() {
    std::lock_guard l(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard l(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // Commits from the n-th on (1-based) fail.
  void FailFrom(int n) {
    std::lock_guard l(mu_);
    fail_from_ = n;
  }
  // Waits (bounded) until `n` commits have started.
  bool AwaitEntered(int n) {
    std::unique_lock l(mu_);
    return changed_.wait_for(l, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }
  std::map<std::string, std::string> data() {
    std::lock_guard l(mu_);
    return data_;
  }
  std::vector<size_t> group_sizes() {
    std::lock_guard l(mu_);
    return group_sizes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = true;
  int fail_from_ = 0;
  int entered_ = 0;
  std::vector<size_t> group_sizes_;
  std::map<std::string, std::string> data_;
};

GroupCommitter::CommitFn To(FakeStore& store) {
  return [&store](const auto& group) { return store.Commit(group); };
}

// Polls (bounded) until `n` writers wait in the queue.
bool AwaitQueued(const GroupCommitter& c, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (c.queued() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

std::vector<WriteOp> Pair(int i) {
  return {WriteOp::Put("a/" + std::to_string(i), "v" + std::to_string(i)),
          WriteOp::Put("b/" + std::to_string(i), "v" + std::to_string(i))};
}

TEST(GroupCommitTest, ConcurrentWritersAllLandWhole) {
  FakeStore store;
  constexpr int kThreads = 8, kEach = 200;
  {
    GroupCommitter c(To(store));
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i)
          if (!c.Commit(Pair(t * kEach + i)).ok()) ++failed;
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failed.load(), 0);
  }
  auto data = store.data();
  ASSERT_EQ(data.size(), 2u * kThreads * kEach);
  for (int i = 0; i < kThreads * kEach; ++i) {
    EXPECT_EQ(data["a/" + std::to_string(i)], "v" + std::to_string(i));
    EXPECT_EQ(data["b/" + std::to_string(i)], "v" + std::to_string(i));
  }
}

TEST(GroupCommitTest, WritersQueuedDuringACommitShareTheNextOne) {
  FakeStore store;
  GroupCommitter c(To(store));
  store.Close();
  std::thread first([&] { EXPECT_TRUE(c.Commit(Pair(0)).ok()); });
  ASSERT_TRUE(store.AwaitEntered(1));
  std::vector<std::thread> rest;
  for (int i = 1; i <= 5; ++i) rest.emplace_back([&, i] { EXPECT_TRUE(c.Commit(Pair(i)).ok()); });
  ASSERT_TRUE(AwaitQueued(c, 5));
  store.Open();
  first.join();
  for (auto& th : rest) th.join();
  EXPECT_EQ(store.group_sizes(), (std::vector<size_t>{1, 5}));
  EXPECT_EQ(store.data().size(), 12u);
}

TEST(GroupCommitTest, AnErrorReachesEveryWriterOfTheGroup) {
  FakeStore store;
  store.FailFrom(2);
  GroupCommitter c(To(store));
  store.Close();
  std::thread first([&] { EXPECT_TRUE(c.Commit(Pair(0)).ok()); });
  ASSERT_TRUE(store.AwaitEntered(1));
  std::vector<Status> results(4, Status::Ok());
  std::vector<std::thread> rest;
  for (int i = 0; i < 4; ++i) rest.emplace_back([&, i] { results[i] = c.Commit(Pair(i + 1)); });
  ASSERT_TRUE(AwaitQueued(c, 4));
  store.Open();
  first.join();
  for (auto& th : rest) th.join();
  for (const Status& s : results) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), IOError("x").code());
  }
  EXPECT_EQ(store.data().size(), 2u);  // only the first, committed before the failure
}

TEST(GroupCommitTest, ShutdownAnswersEveryQueuedWriter) {
  FakeStore store;
  auto c = std::make_unique<GroupCommitter>(To(store));
  store.Close();
  std::thread first([&] { EXPECT_TRUE(c->Commit(Pair(0)).ok()); });
  ASSERT_TRUE(store.AwaitEntered(1));
  std::vector<std::thread> rest;
  for (int i = 1; i <= 3; ++i) rest.emplace_back([&, i] { EXPECT_TRUE(c->Commit(Pair(i)).ok()); });
  ASSERT_TRUE(AwaitQueued(*c, 3));
  // The destructor waits for the commit in flight and the queued group.
  std::thread closer([&] { c.reset(); });
  store.Open();
  closer.join();
  first.join();
  for (auto& th : rest) th.join();
  EXPECT_EQ(store.data().size(), 8u);
}

}  // namespace
}  // namespace sealbox
