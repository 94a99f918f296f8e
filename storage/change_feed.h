// ChangeFeed: how a standby learns what the active node writes (HA), so it
// can serve reads from its own tables and cache. Implemented by storage
// "etcd" (etcd/etcd_change_feed.h, a watch on the vault's prefix);
// RocksDB, one node's store, has none.
//
// Two halves:
//   - Start delivers, on the feed's own thread and in commit order, the key
//     of every entry written or deleted after Start began, until Stop.
//     If the feed cannot tell what it missed (the store compacted history
//     it had not read), it calls on_reset instead: drop everything cached.
//   - WhenCaughtUp calls back once every write acknowledged before it was
//     called has been delivered (and its callback has returned). A standby
//     that waits for it before each read answers as the active would at
//     that moment: reads on standbys are linearizable, not just
//     read-your-writes. Nothing blocks: the caller suspends until called.
// Thread-safe.
#pragma once

#include <functional>
#include <string_view>

#include "base/status.h"

namespace sealbox {

class ChangeFeed {
 public:
  using OnChange = std::function<void(std::string_view key)>;  // a storage key
  using OnReset = std::function<void()>;
  using Done = std::function<void(Status)>;

  virtual ~ChangeFeed() = default;
  // Returns once the feed's starting point is fixed: any write that commits
  // after Start returned is delivered. Errors: the store is unreachable.
  virtual Status Start(OnChange on_change, OnReset on_reset) = 0;
  // Stops delivering; returns once no callback runs. Callers waiting in
  // WhenCaughtUp get Unavailable.
  virtual void Stop() = 0;
  // Calls `done` once caught up (OK), or with Unavailable when the feed is
  // stopped or cannot catch up within the store's own bounds. Called on the
  // feed's thread, or at once on the caller's: `done` must be quick.
  virtual void WhenCaughtUp(Done done) = 0;
};

}  // namespace sealbox
