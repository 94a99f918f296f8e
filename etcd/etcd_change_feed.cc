#include "etcd/etcd_change_feed.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "etcd/etcd_client.h"
#include "etcd/etcd_plan.h"
#include "etcd/etcd_write_index.h"

namespace sealbox::etcd {
namespace {

// After a broken watch stream, before the next member is tried.
constexpr auto kWatchRetry = std::chrono::milliseconds(250);

class EtcdChangeFeed final : public ChangeFeed {
 public:
  EtcdChangeFeed(std::shared_ptr<EtcdClient> client, const EtcdOptions& o)
      : client_(std::move(client)), keys_(o.path), request_timeout_(o.request_timeout_ms) {}
  ~EtcdChangeFeed() override { Stop(); }

  Status Start(OnChange on_change, OnReset on_reset) override {
    Stop();
    SB_ASSIGN_OR_RETURN(int64_t now, CurrentRevision());
    {
      std::lock_guard l(mu_);
      on_change_ = std::move(on_change);
      on_reset_ = std::move(on_reset);
      delivered_ = now;
      stopped_ = false;
    }
    cancel_.Reset();
    watch_thread_ = std::thread([this] { WatchLoop(); });
    round_thread_ = std::thread([this] { RoundLoop(); });
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard l(mu_);
      stopped_ = true;
      cv_.notify_all();
    }
    cancel_.Cancel();
    if (watch_thread_.joinable()) watch_thread_.join();
    if (round_thread_.joinable()) round_thread_.join();
    std::vector<Done> left;
    {
      std::lock_guard l(mu_);
      left.swap(next_round_);
    }
    for (auto& done : left) done(NotFollowing());
  }

  void WhenCaughtUp(Done done) override {
    std::unique_lock l(mu_);
    if (stopped_) {
      l.unlock();
      done(NotFollowing());
      return;
    }
    // Served by the next round to start: its read of the index is sent after this call.
    next_round_.push_back(std::move(done));
    cv_.notify_all();
  }

 private:
  static Status NotFollowing() { return Unavailable("this standby is not following the active node's writes"); }

  Result<int64_t> CurrentRevision() {
    etcdserverpb::RangeRequest req;
    req.set_key(keys_.ToEtcd(kWriteIndexKey));
    req.set_count_only(true);
    SB_ASSIGN_OR_RETURN(auto resp, client_->Range(req));
    return resp.header().revision();
  }

  // The revision of the vault's latest write (0: none since the index began).
  Result<int64_t> WriteIndex() {
    etcdserverpb::RangeRequest req;
    req.set_key(keys_.ToEtcd(kWriteIndexKey));
    req.set_keys_only(true);
    SB_ASSIGN_OR_RETURN(auto resp, client_->Range(req));
    return resp.kvs_size() == 0 ? int64_t{0} : resp.kvs(0).mod_revision();
  }

  void Delivered(int64_t revision) {
    std::lock_guard l(mu_);
    if (revision > delivered_) delivered_ = revision;
    cv_.notify_all();
  }

  bool Stopped() {
    std::lock_guard l(mu_);
    return stopped_;
  }

  void WatchLoop() {
    while (!Stopped()) {
      etcdserverpb::WatchCreateRequest create;
      create.set_key(keys_.prefix());
      create.set_range_end(PrefixEnd(keys_.prefix()));
      {
        std::lock_guard l(mu_);
        create.set_start_revision(delivered_ + 1);
      }
      bool compacted = false;
      Status s = client_->Watch(create, cancel_, [&](const etcdserverpb::WatchResponse& r) {
        if (r.canceled()) {
          compacted = r.compact_revision() > 0;
          return false;
        }
        if (r.created() && r.events_size() == 0) return true;
        int64_t last = r.header().revision();  // a progress notice: all up to it is delivered
        for (const auto& ev : r.events()) {
          std::string_view key = keys_.FromEtcd(ev.kv().key());
          if (key != kWriteIndexKey) on_change_(key);
          last = ev.kv().mod_revision();
        }
        Delivered(last);
        return !Stopped();
      });
      if (Stopped()) return;
      if (compacted) {
        Resync();
        continue;
      }
      if (!s.ok()) log::Warn("ha: the standby's watch on etcd broke (" + s.message() + "); watching again");
      std::unique_lock l(mu_);
      cv_.wait_for(l, kWatchRetry, [&] { return stopped_; });
    }
  }

  // The history the watch needed is gone: everything cached may be stale.
  void Resync() {
    auto now = CurrentRevision();
    if (!now.ok()) return;  // the loop tries again
    log::Warn("ha: etcd compacted changes this standby had not seen; reloading its tables");
    on_reset_();
    std::lock_guard l(mu_);
    delivered_ = *now;
    cv_.notify_all();
  }

  // One round at a time: take every caller queued so far, read the index
  // once, wait (bounded by the request timeout) until the watch delivered
  // it, answer them all.
  void RoundLoop() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return !next_round_.empty() || stopped_; });
      if (stopped_) return;  // Stop answers whoever is queued
      std::vector<Done> round;
      round.swap(next_round_);
      l.unlock();
      auto index = WriteIndex();
      l.lock();
      Status s = index.status();
      if (index.ok()) {
        const bool caught_up = cv_.wait_for(l, request_timeout_, [&] { return delivered_ >= *index || stopped_; });
        if (stopped_) s = NotFollowing();
        else if (!caught_up)
          s = Unavailable("this standby's watch is " + std::to_string(*index - delivered_) +
                          " revisions behind the active node's writes");
      }
      l.unlock();
      for (auto& done : round) done(s);
      l.lock();
    }
  }

  std::shared_ptr<EtcdClient> client_;
  const Keyspace keys_;
  const std::chrono::milliseconds request_timeout_;
  WatchCancel cancel_;
  std::thread watch_thread_, round_thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  OnChange on_change_;  // set by Start, called by the watch thread only
  OnReset on_reset_;
  bool stopped_ = true;     // guarded by mu_
  int64_t delivered_ = 0;   // guarded by mu_: every event up to here has been handled
  std::vector<Done> next_round_;  // guarded by mu_: callers for the next round
};

}  // namespace

std::unique_ptr<ChangeFeed> NewEtcdChangeFeed(std::shared_ptr<EtcdClient> client, const EtcdOptions& options) {
  return std::make_unique<EtcdChangeFeed>(std::move(client), options);
}

}  // namespace sealbox::etcd
