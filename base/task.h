// Task<T>: a lazy C++20 coroutine, so that the request path can suspend on
// an audit write instead of blocking a thread, without Asio in core/ or
// audit/. A Task starts when awaited (or Start()ed) and resumes its awaiter
// by symmetric transfer when it returns.
//
// Who resumes a suspended coroutine is a Resumer: the server gives one that
// posts onto its I/O threads. Code called without a Resumer (the worker
// pool, tests) never suspends: its awaitables complete before they return,
// blocking if they must, and RunSync() returns the result.
#pragma once

#include <coroutine>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace sealbox {

class Resumer {
 public:
  virtual ~Resumer() = default;
  // Runs fn later on one of the resumer's threads, never inline.
  virtual void Post(std::function<void()> fn) = 0;
};

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> continuation = std::noop_coroutine();

    Task get_return_object() { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation;
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    template <typename U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() { error = std::current_exception(); }
  };

  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    h_.promise().continuation = awaiter;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return std::move(*h_.promise().value);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

namespace task_internal {
// A coroutine nobody awaits: it runs at once and frees itself at the end.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::abort(); }  // done() must not throw
  };
};
}  // namespace task_internal

// Runs `task` now, on this thread, up to its first suspension; calls
// done(value, nullptr) or done(nullptr, exception) where it ends, possibly
// on another thread.
template <typename T, typename Done>
void Start(Task<T> task, Done done) {
  [](Task<T> t, Done d) -> task_internal::Detached {
    std::optional<T> v;
    std::exception_ptr e;
    try {
      v.emplace(co_await std::move(t));
    } catch (...) {
      e = std::current_exception();
    }
    d(v ? &*v : nullptr, e);
  }(std::move(task), std::move(done));
}

// Runs a task that cannot suspend (it was given no Resumer) and returns its
// value; rethrows what it threw.
template <typename T>
T RunSync(Task<T> task) {
  std::optional<T> out;
  std::exception_ptr err;
  Start(std::move(task), [&](T* v, std::exception_ptr e) {
    if (v) out.emplace(std::move(*v));
    err = e;
  });
  if (err) std::rethrow_exception(err);
  if (!out) std::abort();  // suspended without a Resumer: a bug, never a hang
  return std::move(*out);
}

}  // namespace sealbox
