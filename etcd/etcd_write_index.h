// The write index (HA): one etcd key, "<path>core/ha-index", that every
// write transaction of an HA node also puts. Its mod revision is therefore
// the revision of the vault's latest write, so a standby that has applied
// its watch up to that revision has seen every write acknowledged so far
// (etcd/etcd_change_feed.h, read-your-writes on standbys). The value stays
// empty: only the revision matters. Like the election's keys it is never in
// a snapshot, and a restore's wipe leaves it (etcd/etcd_snapshot.cc).
#pragma once

#include <string>
#include <string_view>

#include "etcd/etcd_plan.h"
#include "etcd/proto/rpc.pb.h"

namespace sealbox::etcd {

inline constexpr std::string_view kWriteIndexKey = "core/ha-index";

// Adds the index's put to `txn` (its last op).
inline void MarkWrite(etcdserverpb::TxnRequest& txn, const Keyspace& keys) {
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(keys.ToEtcd(kWriteIndexKey));
}

}  // namespace sealbox::etcd
