// HA: the election thread of an unsealed node (core/core_impl.h).
//
// A standby loads its tables and serves reads itself, following the active
// node's writes (core/standby.cc), but runs no background work; anything
// else goes to the active node (api/). Winning the lock drops the standby's
// tables and loads everything from storage again (Activate, as an unseal
// does on one node); losing it tears the active tables down (PreSeal) and
// loads the standby's before the node campaigns again.
#include <unistd.h>

#include "base/log.h"
#include "core/core_impl.h"
#include "storage/ha_lock.h"

namespace sealbox::core {
namespace {

// After a step-down the node waits this long before campaigning again, so
// another node takes over (Vault waits 10 s too).
constexpr auto kStepDownPause = std::chrono::seconds(10);
// After a failed activation (storage unreachable): before trying again.
constexpr auto kActivationRetry = std::chrono::seconds(1);

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::string CoreImpl::Advert() const {
  return Json{{"api_addr", options_.api_addr}, {"cluster_addr", options_.cluster_addr}, {"hostname", Hostname()}}
      .dump();
}

void CoreImpl::EnterStandby() {
  standby_.store(true);
  if (cache_) cache_->SetEnabled(false);
  active_since_.store(0);
  BecomeReadingStandby();
  if (ha_thread_.joinable()) return;
  ha_stop_.store(false);
  options_.ha_lock->Resume();
  ha_thread_ = std::thread([this] { RunHa(); });
}

void CoreImpl::BecomeReadingStandby() {
  Status s = LoadStandby();
  if (!s.ok()) log::Warn("core: this standby forwards every request: it could not load its tables: " + s.message());
}

void CoreImpl::StopHa() {
  if (!ha_thread_.joinable()) return;
  ha_stop_.store(true);
  options_.ha_lock->Interrupt();
  state_mu_.wake();
  {
    std::lock_guard l(ha_mu_);
    ha_cv_.notify_all();
  }
  ha_thread_.join();
}

void CoreImpl::WaitHa(std::chrono::milliseconds d) {
  std::unique_lock l(ha_mu_);
  ha_cv_.wait_for(l, d, [&] { return ha_stop_.load(); });
}

void CoreImpl::RunHa() {
  HaLock& lock = *options_.ha_lock;
  while (!ha_stop_.load()) {
    auto won = lock.Acquire(Advert());
    if (!won.ok() || !*won) break;  // interrupted: sealing or shutting down
    if (!state_mu_.lock_unless(ha_stop_)) break;
    UnloadStandby();
    Status s = Activate();
    if (s.ok()) {
      active_since_.store(options_.clock->NowSeconds());
      standby_.store(false);
      NotifyStateChange();
      log::Info("core: this node is now the active node");
    } else {
      PreSeal();
      if (cache_) cache_->SetEnabled(false);
      BecomeReadingStandby();
    }
    state_mu_.unlock();
    if (!s.ok()) {
      log::Error("core: could not become the active node: " + s.message());
      lock.Release();
      WaitHa(kActivationRetry);
      continue;
    }
    lock.HoldUntilLost();
    if (ha_stop_.load()) break;  // SealLocked tears down and releases
    if (!state_mu_.lock_unless(ha_stop_)) break;
    standby_.store(true);
    active_since_.store(0);
    PreSeal();
    if (cache_) cache_->SetEnabled(false);
    BecomeReadingStandby();
    NotifyStateChange();
    state_mu_.unlock();
    lock.Release();
    if (step_down_.exchange(false)) {
      log::Info("core: stepped down; campaigning again in 10 s");
      const auto until = std::chrono::steady_clock::now() + kStepDownPause;
      while (!ha_stop_.load() && std::chrono::steady_clock::now() < until) {
        lock.Observe().IgnoreError();  // stays able to send clients to the new active
        WaitHa(std::chrono::milliseconds(250));
      }
    } else {
      log::Warn("core: lost the active role (lease lost or write fenced); now a standby");
    }
    lock.Resume();
  }
}

void CoreImpl::StepDown() {
  if (!options_.ha_lock || standby_.load()) return;
  step_down_.store(true);
  options_.ha_lock->Interrupt();
}

HaStatus CoreImpl::GetHaStatus() {
  HaStatus h;
  h.enabled = options_.ha_lock != nullptr;
  if (sealed_.load()) return h;
  h.active = !standby_.load();
  if (!h.enabled) return h;
  h.active_since = active_since_.load();
  for (const HaNode& n : options_.ha_lock->Nodes()) {
    Json j = Json::parse(n.advert, nullptr, false);
    if (!j.is_object()) continue;
    HaStatus::Node node{j.value("hostname", ""), j.value("api_addr", ""), j.value("cluster_addr", ""), n.active};
    if (n.active) {
      h.leader_api_addr = node.api_addr;
      h.leader_cluster_addr = node.cluster_addr;
    }
    h.nodes.push_back(std::move(node));
  }
  if (h.active && h.leader_api_addr.empty()) {
    h.leader_api_addr = options_.api_addr;
    h.leader_cluster_addr = options_.cluster_addr;
  }
  return h;
}

}  // namespace sealbox::core
