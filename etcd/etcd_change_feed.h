// The change feed of storage "etcd" (storage/change_feed.h): a watch on the
// vault's prefix, and the write index (etcd/etcd_write_index.h) as the point
// a standby must reach before it answers a read.
//
// WaitCaughtUp reads the write index (a linearizable read: every write
// acknowledged before it is at or below the revision it returns) and waits
// until the watch has delivered that revision. Callers are served in rounds,
// as etcd serves its own ReadIndex: one read of the index serves every
// caller that arrived before it was sent, so a standby under load makes one
// etcd call per round, not per request.
#pragma once

#include <memory>

#include "etcd/etcd_options.h"
#include "storage/change_feed.h"

namespace sealbox::etcd {

class EtcdClient;

std::unique_ptr<ChangeFeed> NewEtcdChangeFeed(std::shared_ptr<EtcdClient> client, const EtcdOptions& options);

}  // namespace sealbox::etcd
