#include "etcd/etcd_ha.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "base/log.h"
#include "etcd/etcd_client.h"
#include "etcd/etcd_fence.h"
#include "etcd/etcd_plan.h"

namespace sealbox::etcd {
namespace {

using Clock = std::chrono::steady_clock;

// How often a campaigning node looks whether it now leads, and how often the
// active node refreshes the node list: a bound on failover beyond the TTL.
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kRetryAfterError = std::chrono::milliseconds(500);

class EtcdHaLock final : public HaLock {
 public:
  EtcdHaLock(std::shared_ptr<EtcdClient> client, std::shared_ptr<EtcdFence> fence, const EtcdOptions& o)
      : client_(std::move(client)),
        fence_(std::move(fence)),
        prefix_(Keyspace(o.path).ToEtcd("core/leader/")),
        // etcd's lease TTLs are whole seconds, at least its own minimum.
        ttl_seconds_(std::max<int64_t>(2, (o.lock_timeout_ms + 999) / 1000)) {}

  ~EtcdHaLock() override { Release(); }

  Result<bool> Acquire(const std::string& advert) override {
    while (!Interrupted()) {
      Status s = CampaignOnce(advert);
      if (!s.ok()) {
        log::Warn("ha: campaign step failed: " + s.message());
        ForgetLease();
        Wait(kRetryAfterError);
        continue;
      }
      if (Leads()) {
        fence_->Arm(my_key_, my_revision_);
        return true;
      }
      Wait(kPollInterval);
    }
    return false;
  }

  void HoldUntilLost() override {
    while (!Interrupted()) {
      if (fence_->Breached() || lease_ == 0) break;
      if (!Renew()) break;
      auto nodes = ReadNodes();
      if (nodes.ok() && !Leads()) break;  // our key is gone or another node leads
      Wait(kPollInterval * 5);
    }
    if (!Interrupted()) ForgetLease();
  }

  void Release() override { ForgetLease(); }

  void Interrupt() override {
    std::lock_guard l(mu_);
    interrupted_ = true;
    cv_.notify_all();
  }

  void Resume() override {
    std::lock_guard l(mu_);
    interrupted_ = false;
  }

  std::vector<HaNode> Nodes() const override {
    std::lock_guard l(mu_);
    return nodes_;
  }

  Status Observe() override { return ReadNodes().status(); }

 private:
  // One step: a lease and key if we have none, the keep-alive when due, and
  // a fresh look at who leads.
  Status CampaignOnce(const std::string& advert) {
    if (lease_ == 0) {
      etcdserverpb::LeaseGrantRequest grant;
      grant.set_ttl(ttl_seconds_);
      SB_ASSIGN_OR_RETURN(auto granted, client_->LeaseGrant(grant));
      if (!granted.error().empty() || granted.id() == 0) return Unavailable("etcd refused the lease");
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(granted.id()));
      etcdserverpb::PutRequest put;
      put.set_key(prefix_ + hex);
      put.set_value(advert);
      put.set_lease(granted.id());
      SB_ASSIGN_OR_RETURN(auto written, client_->Put(put));
      std::lock_guard l(mu_);
      lease_ = granted.id();
      my_key_ = put.key();
      my_revision_ = written.header().revision();  // a new key: its create revision
      renewed_at_ = Clock::now();
    }
    if (!Renew()) return Unavailable("the election lease expired");
    return ReadNodes().status();
  }

  // Keeps the lease alive (every third of the TTL). False once it is lost:
  // etcd says so, or no renewal succeeded within the TTL.
  bool Renew() {
    const auto now = Clock::now();
    const auto ttl = std::chrono::seconds(ttl_seconds_);
    if (now - renewed_at_ < ttl / 3) return true;
    auto left = client_->LeaseKeepAliveOnce(lease_);
    if (left.ok() && *left > 0) {
      renewed_at_ = now;
      return true;
    }
    if (left.ok()) return false;  // the lease is gone
    return now - renewed_at_ < ttl;
  }

  Result<bool> ReadNodes() {
    etcdserverpb::RangeRequest range;
    range.set_key(prefix_);
    range.set_range_end(PrefixEnd(prefix_));
    range.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    range.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    range.set_limit(64);
    SB_ASSIGN_OR_RETURN(auto resp, client_->Range(range));
    std::vector<HaNode> nodes;
    for (const auto& kv : resp.kvs())
      nodes.push_back({kv.value(), nodes.empty(), kv.key() == my_key_ && kv.create_revision() == my_revision_});
    std::lock_guard l(mu_);
    nodes_ = std::move(nodes);
    return true;
  }

  bool Leads() const {
    std::lock_guard l(mu_);
    return !nodes_.empty() && nodes_.front().self;
  }

  // Revokes the lease (best effort: unrevoked, it expires within the TTL).
  void ForgetLease() {
    int64_t lease;
    {
      std::lock_guard l(mu_);
      lease = lease_;
      lease_ = 0;
      // Our key goes with the lease: by the election's rule the next
      // oldest key leads (until the next look says otherwise).
      std::erase_if(nodes_, [](const HaNode& n) { return n.self; });
      if (!nodes_.empty()) nodes_.front().active = true;
    }
    if (lease == 0) return;
    etcdserverpb::LeaseRevokeRequest revoke;
    revoke.set_id(lease);
    if (!client_->LeaseRevoke(revoke).ok()) log::Warn("ha: could not revoke the election lease; it expires with its TTL");
  }

  bool Interrupted() {
    std::lock_guard l(mu_);
    return interrupted_;
  }

  void Wait(Clock::duration d) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, d, [&] { return interrupted_; });
  }

  const std::shared_ptr<EtcdClient> client_;
  const std::shared_ptr<EtcdFence> fence_;
  const std::string prefix_;
  const int64_t ttl_seconds_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
  std::vector<HaNode> nodes_;
  int64_t lease_ = 0;
  std::string my_key_;
  int64_t my_revision_ = 0;
  Clock::time_point renewed_at_;
};

}  // namespace

std::unique_ptr<HaLock> NewEtcdHaLock(std::shared_ptr<EtcdClient> client, std::shared_ptr<EtcdFence> fence,
                                      const EtcdOptions& options) {
  return std::make_unique<EtcdHaLock>(std::move(client), std::move(fence), options);
}

}  // namespace sealbox::etcd
