// The change feed of storage "etcd" (storage/change_feed.h): a watch on the
// vault's prefix, and the write index (etcd/etcd_write_index.h) as the point
// a standby must reach before it answers a read.
//
// WhenCaughtUp reads the write index (a linearizable read: every write
// acknowledged before it is at or below the revision it returns) and calls
// back once the watch has delivered that revision. Callers are served in
// rounds on the feed's own thread, as etcd serves its own ReadIndex: one
// read of the index serves every caller that queued before it was sent, so a
// standby under load makes one etcd call per round, not per request, and no
// request holds a thread while it waits. A round is bounded by the etcd
// client's timeouts (the read) and the request timeout (the catch-up).
#pragma once

#include <memory>

#include "etcd/etcd_options.h"
#include "storage/change_feed.h"

namespace sealbox::etcd {

class EtcdClient;

std::unique_ptr<ChangeFeed> NewEtcdChangeFeed(std::shared_ptr<EtcdClient> client, const EtcdOptions& options);

}  // namespace sealbox::etcd
