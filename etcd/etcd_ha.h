// The HA election on etcd (etcd's own recipe): each node grants a lease
// with TTL lock_timeout and puts <path>core/leader/<lease id> holding its
// advert, attached to the lease; the key with the lowest create revision
// is the active node. Keep-alives every third of the TTL; a node that cannot
// renew within the TTL has lost (its key is gone for everyone else by then).
// Winning arms the fence (etcd/etcd_fence.h) with the node's own key.
#pragma once

#include <memory>

#include "etcd/etcd_options.h"
#include "storage/ha_lock.h"

namespace sealbox::etcd {

class EtcdClient;
class EtcdFence;

std::unique_ptr<HaLock> NewEtcdHaLock(std::shared_ptr<EtcdClient> client, std::shared_ptr<EtcdFence> fence,
                                      const EtcdOptions& options);

}  // namespace sealbox::etcd
