// HaLock: the election among the nodes that share one store (HA). The node
// holding the lock is the active node; the others are standbys. Implemented
// by storage "etcd" (etcd/etcd_ha.h); RocksDB, one node's store, has none.
//
// Fencing is the lock's other half: once Acquire succeeded, every write the
// store takes from this node is refused as soon as the lock is lost, so a
// node that was paused past its lease can never write over its successor.
// Thread-safe; Acquire and HoldUntilLost are called from one thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox {

// One node as the others see it: what it advertised when it campaigned.
struct HaNode {
  std::string advert;  // opaque to the lock (core writes JSON: api_addr, cluster_addr, hostname)
  bool active = false;
  bool self = false;
};

class HaLock {
 public:
  virtual ~HaLock() = default;
  // Campaigns with `advert` until this node holds the lock (true) or
  // Interrupt() is called (false).
  virtual Result<bool> Acquire(const std::string& advert) = 0;
  // Returns once the lock is lost (lease expired, fenced write, Release) or
  // Interrupt() is called. Writes stay fenced afterwards.
  virtual void HoldUntilLost() = 0;
  // Gives the lock up at once (step-down, seal): another node may take over.
  // Only while neither Acquire nor HoldUntilLost runs (after Interrupt()).
  virtual void Release() = 0;
  // Wakes Acquire or HoldUntilLost, which then return.
  virtual void Interrupt() = 0;
  // Clears an Interrupt() so the next Acquire campaigns again.
  virtual void Resume() = 0;
  // Every campaigning node, the active one first, as last seen by Acquire,
  // HoldUntilLost or Observe (no storage call).
  virtual std::vector<HaNode> Nodes() const = 0;
  // Looks at the campaigning nodes once, without campaigning (a node that
  // stepped down and waits still knows where the active node is).
  virtual Status Observe() = 0;
};

}  // namespace sealbox
