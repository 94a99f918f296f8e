// EtcdFence: what makes a deposed active node's writes fail. Once armed
// with the election key and its create revision, every write the storage
// sends is a transaction guarded by If(create_revision(key) == revision):
// the key vanishes with the lease, so after a lost lease (a pause, a
// partition, a step-down) no write can land, even one already in flight.
// It stays armed until the node wins again with a new key. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "etcd/proto/rpc.pb.h"

namespace sealbox::etcd {

class EtcdFence {
 public:
  void Arm(std::string key, int64_t create_revision) {
    std::lock_guard l(mu_);
    key_ = std::move(key);
    revision_ = create_revision;
    breached_.store(false);
  }
  // Adds the guard to `txn` (no-op while unarmed: no HA, or never active).
  void Guard(etcdserverpb::TxnRequest& txn) const {
    std::lock_guard l(mu_);
    if (revision_ == 0) return;
    etcdserverpb::Compare* c = txn.add_compare();
    c->set_key(key_);
    c->set_target(etcdserverpb::Compare::CREATE);
    c->set_result(etcdserverpb::Compare::EQUAL);
    c->set_create_revision(revision_);
  }
  bool Armed() const {
    std::lock_guard l(mu_);
    return revision_ != 0;
  }
  // A guarded write failed its compare: the lock is lost.
  void MarkBreached() { breached_.store(true); }
  bool Breached() const { return breached_.load(); }

 private:
  mutable std::mutex mu_;
  std::string key_;
  int64_t revision_ = 0;
  std::atomic<bool> breached_{false};
};

}  // namespace sealbox::etcd
