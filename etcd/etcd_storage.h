// etcd physical storage: Sealbox's barrier-encrypted entries in an etcd v3
// cluster, under one key prefix (`path`). The scale-out backend; RocksDB
// stays the embedded default for one node.
//
// A write returns OK once etcd committed it (a Raft majority synced it), so
// it survives the loss of any minority of members. Batches are etcd
// transactions, split only where atomicity does not matter (etcd/etcd_plan.h).
// Reads are linearizable. With ha_enabled, writes are fenced by the
// election (etcd/etcd_fence.h). Nothing here includes gRPC. Thread-safe.
#pragma once

#include <memory>

#include "etcd/etcd_options.h"
#include "storage/change_feed.h"
#include "storage/ha_lock.h"
#include "storage/storage.h"

namespace sealbox::etcd {

struct EtcdBackend {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<HaLock> ha;  // with ha_enabled; its fence guards storage's writes
  std::unique_ptr<ChangeFeed> feed;  // with ha_enabled: what a standby follows
};

// Connects and makes one read, so that an unreachable cluster or refused
// credentials stop the start with a clear error (bounded by
// endpoints × request_timeout) instead of surfacing at the first request.
Result<EtcdBackend> OpenEtcd(const EtcdOptions& options);

}  // namespace sealbox::etcd
