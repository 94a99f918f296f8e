// HA: what a standby serves itself (core/core_impl.h).
//
// A standby loads the same tables an active node does (mounts, policies,
// audit devices, quotas, the keyring), starts none of the background work,
// and closes its write gate: every write it could attempt answers NotActive
// before reaching the store. It follows the active node's writes through the
// store's change feed (storage/change_feed.h):
//   - every changed key leaves the read cache;
//   - a changed table is reloaded (mounts, auth methods, audit devices,
//     quotas, the keyring) under the state lock, so no request sees half;
//   - a changed policy drops the compiled ACLs.
// Before a read it serves, it waits until the feed has delivered every write
// acknowledged so far (WaitCaughtUp): reads on standbys are linearizable.
// What a standby serves is decided once per request, from its bound route
// (logical::Backend::ServesOnStandby); everything else, and any read that
// tries to write (a limited-use token's use, an expired token's cleanup), is
// forwarded to the active node.
#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <optional>

#include "base/log.h"
#include "core/core_impl.h"

namespace sealbox::core {
namespace {

enum class StandbyTable { kNone, kMounts, kPolicies, kAudit, kQuotas, kKeyring };

StandbyTable TableOf(std::string_view key) {
  if (key == "core/mounts" || key == "core/auth") return StandbyTable::kMounts;
  if (key.starts_with("sys/policy/")) return StandbyTable::kPolicies;
  if (key.starts_with("core/audit-devices/")) return StandbyTable::kAudit;
  if (key.starts_with("sys/quotas/")) return StandbyTable::kQuotas;
  if (key == Barrier::kKeyringPath) return StandbyTable::kKeyring;
  return StandbyTable::kNone;
}

}  // namespace

Status CoreImpl::LoadStandby() {
  gate_->SetOpen(false);
  if (!options_.change_feed) return Status::Ok();  // forwards everything
  feed_stop_.store(false);
  // The feed first: whatever the tables and the cache read from here on,
  // a later write reaches them.
  SB_RETURN_IF_ERROR(options_.change_feed->Start([this](std::string_view key) { OnStandbyChange(key); },
                                                 [this] { OnStandbyReset(); }));
  if (cache_) cache_->SetEnabled(true);
  Status s = LoadStandbyTables();
  if (!s.ok()) {
    UnloadStandby();
    return s;
  }
  standby_reads_.store(true);
  return Status::Ok();
}

Status CoreImpl::LoadStandbyTables() {
  SB_RETURN_IF_ERROR(barrier_->Reload());
  SB_RETURN_IF_ERROR(tokens_->Setup());
  SB_RETURN_IF_ERROR(policies_->Setup());
  SB_RETURN_IF_ERROR(SetupMounts());
  SB_RETURN_IF_ERROR(audit_.Setup(audit_view_.get()));
  return quotas_->Load(quota_view_.get());
}

void CoreImpl::UnloadStandby() {
  standby_reads_.store(false);
  if (options_.change_feed) {
    feed_stop_.store(true);
    state_mu_.wake();  // a reload waiting for the state lock gives up
    options_.change_feed->Stop();
  }
  PreSeal();
  if (cache_) cache_->SetEnabled(false);
}

void CoreImpl::OnStandbyChange(std::string_view key) {
  if (cache_) cache_->Invalidate(key);
  const StandbyTable table = TableOf(key);
  if (table == StandbyTable::kNone) return;
  if (table == StandbyTable::kPolicies) {
    policies_->Reset();  // compiled ACLs are rebuilt from storage on next use
    return;
  }
  if (!state_mu_.lock_unless(feed_stop_)) return;
  std::unique_lock l(state_mu_, std::adopt_lock);
  if (feed_stop_.load()) return;
  Status s;
  switch (table) {
    case StandbyTable::kMounts:
      for (auto& e : router_.All()) e->backend->Cleanup();
      s = SetupMounts();
      break;
    case StandbyTable::kAudit:
      audit_.Teardown();
      s = audit_.Setup(audit_view_.get());
      break;
    case StandbyTable::kQuotas:
      quotas_->Reset();
      s = quotas_->Load(quota_view_.get());
      break;
    case StandbyTable::kKeyring: s = barrier_->Reload(); break;
    case StandbyTable::kPolicies:
    case StandbyTable::kNone: break;
  }
  StandbyReloaded(s);
}

void CoreImpl::OnStandbyReset() {
  if (!state_mu_.lock_unless(feed_stop_)) return;
  std::unique_lock l(state_mu_, std::adopt_lock);
  if (feed_stop_.load()) return;
  if (cache_) cache_->InvalidateAll();
  for (auto& e : router_.All()) e->backend->Cleanup();
  audit_.Teardown();
  quotas_->Reset();
  policies_->Reset();
  StandbyReloaded(LoadStandbyTables());
}

void CoreImpl::StandbyReloaded(const Status& s) {
  // A standby whose tables may be wrong serves nothing itself until the next reload works.
  if (!s.ok()) log::Error("core: this standby could not reload its tables (" + s.message() + "); forwarding every request");
  standby_reads_.store(s.ok());
}

bool CoreImpl::ServesOnStandby(const RoutedRequest& r) {
  if (!standby_.load() || !standby_reads_.load() || !r.route || !*r.route) return false;
  // A wrapped response is a new token: a write.
  if (r.request.wrap_ttl > 0) return false;
  return r.route->entry->backend->ServesOnStandby(r.route->relative_path, r.request.op);
}

namespace {

// Waits for the change feed to catch up: suspended with a resumer (the
// request's loop serves others meanwhile), blocking without one.
class CaughtUp {
 public:
  CaughtUp(ChangeFeed& feed, Resumer* resumer) : feed_(feed), resumer_(resumer) {}

  bool await_ready() {
    if (resumer_) return false;
    struct Wait {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<Status> status;
    } w;
    feed_.WhenCaughtUp([&w](Status s) {
      std::lock_guard l(w.mu);  // notified under the lock: `w` outlives it
      w.status = std::move(s);
      w.cv.notify_one();
    });
    std::unique_lock l(w.mu);
    w.cv.wait(l, [&] { return w.status.has_value(); });
    status_ = std::move(*w.status);
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    feed_.WhenCaughtUp([this, h](Status s) {
      status_ = std::move(s);
      resumer_->Post([h] { h.resume(); });
    });
  }
  Status await_resume() { return std::move(status_); }

 private:
  ChangeFeed& feed_;
  Resumer* resumer_;
  Status status_;
};

}  // namespace

Task<Status> CoreImpl::CatchUpForStandbyRead(Resumer* resumer) {
  if (!options_.change_feed) co_return NotActive();
  Status s = co_await CaughtUp(*options_.change_feed, resumer);
  if (s.ok()) co_return s;
  log::Warn("core: a read goes to the active node: " + s.message());
  co_return NotActive();
}

}  // namespace sealbox::core
