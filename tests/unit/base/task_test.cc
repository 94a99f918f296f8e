#include "base/task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/unit/base/queue_resumer.h"

namespace sealbox {
namespace {

// Suspends until Fire() posts the resumption through the resumer.
struct Gate {
  Resumer* resumer;
  std::coroutine_handle<> waiting;
  void Fire() { resumer->Post([h = waiting] { h.resume(); }); }
  auto Wait() {
    struct Awaiter {
      Gate& g;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { g.waiting = h; }
      int await_resume() const noexcept { return 7; }
    };
    return Awaiter{*this};
  }
};

Task<int> Leaf(int v) { co_return v * 2; }
Task<std::string> Nested(int v) {
  int a = co_await Leaf(v);
  int b = co_await Leaf(a);
  co_return std::to_string(b);
}
Task<int> Throws() {
  throw std::runtime_error("boom");
  co_return 0;
}
Task<int> Suspends(Gate& g, int* stage) {
  *stage = 1;
  int v = co_await g.Wait();
  *stage = 2;
  int w = co_await Leaf(v);
  co_return w;
}

TEST(TaskTest, RunSyncReturnsTheValueThroughNestedTasks) {
  EXPECT_EQ(RunSync(Nested(3)), "12");
}

TEST(TaskTest, RunSyncRethrows) {
  EXPECT_THROW(RunSync(Throws()), std::runtime_error);
}

TEST(TaskTest, LazyUntilStarted) {
  Gate g;
  int stage = 0;
  {
    Task<int> t = Suspends(g, &stage);
    EXPECT_EQ(stage, 0);
  }  // destroyed without running
  EXPECT_EQ(stage, 0);
}

TEST(TaskTest, StartRunsToTheFirstSuspensionAndTheResumerFinishesIt) {
  QueueResumer r;
  Gate g{&r, {}};
  int stage = 0;
  int result = -1;
  bool done = false;
  Start(Suspends(g, &stage), [&](int* v, std::exception_ptr e) {
    ASSERT_FALSE(e);
    result = *v;
    done = true;
  });
  EXPECT_EQ(stage, 1);
  EXPECT_FALSE(done);
  EXPECT_EQ(r.RunAll(), 0u);  // nothing to run until the gate fires
  g.Fire();
  EXPECT_FALSE(done);  // resumption is posted, never inline
  EXPECT_EQ(r.RunAll(), 1u);
  EXPECT_TRUE(done);
  EXPECT_EQ(stage, 2);
  EXPECT_EQ(result, 14);
}

TEST(TaskTest, StartReportsAnException) {
  std::exception_ptr err;
  int* value = reinterpret_cast<int*>(1);
  Start(Throws(), [&](int* v, std::exception_ptr e) {
    value = v;
    err = e;
  });
  EXPECT_EQ(value, nullptr);
  EXPECT_TRUE(err);
}

TEST(TaskTest, ResumesOnAnotherThread) {
  QueueResumer r;
  Gate g{&r, {}};
  int stage = 0;
  std::atomic<bool> done{false};
  Start(Suspends(g, &stage), [&](int* v, std::exception_ptr) { done = v && *v == 14; });
  g.Fire();
  std::thread t([&] { r.RunAll(); });
  t.join();
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace sealbox
