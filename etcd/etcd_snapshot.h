// Snapshots on etcd (storage/storage.h's ScanConsistent and ReplaceAll).
//
// A snapshot is every key under the vault's prefix read at one etcd
// revision, in pages, so writes go on meanwhile and none is half seen.
//
// A restore cannot be one etcd transaction (--max-txn-ops,
// --max-request-bytes), so it is made restartable instead:
//   1. Staging. The state key core/snapshot-restore/state is set to
//      "staging" (its mod revision now owns the restore) and the snapshot's
//      entries are written under core/snapshot-restore/staged/. A failure
//      here leaves the vault's keys untouched; the staged copy is dropped.
//   2. Swap. The state becomes "swapping"; the vault's keys are deleted (one
//      transaction), the staged entries copied over them (as many as etcd's
//      limits need), then the staged copy and the state deleted (one). This
//      is where atomicity is lost: a failure or a crash here leaves the state
//      key, and the next unseal (or takeover) of any node on this path
//      finishes the swap from the staged copy (FinishInterruptedRestore)
//      before it reads the vault.
// Every write of a restore compares the state's mod revision (and the HA
// fence), so a node that takes an interrupted restore over stops the one
// that began it. Keys never in a snapshot nor touched by a restore: the HA
// election's (core/leader/), the write index (core/ha-index) and the
// restore's own (core/snapshot-restore/).
// Thread-safe as EtcdClient; one restore at a time (the core ensures it).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "etcd/etcd_plan.h"
#include "storage/storage.h"

namespace sealbox::etcd {

class EtcdClient;
class EtcdFence;

struct EtcdSnapshotTarget {
  EtcdClient& client;
  const EtcdFence& fence;
  const Keyspace& keys;
  const TxnLimits& limits;
  bool mark_writes = false;  // HA: each transaction also puts the write index
};

// Keys under the path that are not the vault's data: the election's, the
// write index and a restore's own.
bool IsNodeLocalKey(std::string_view key);

Status ScanAtOneRevision(const EtcdSnapshotTarget& t, const Storage::ScanVisitor& visit);

// Replaces the vault's keys by `entries` (node-local keys among them are
// ignored). Errors: TooLarge (an entry cannot fit in a request) and others
// before the swap, with the old keys intact; Corruption once the swap has
// begun, with the keys half replaced until FinishInterruptedRestore runs.
Status ReplaceVaultKeys(const EtcdSnapshotTarget& t, const std::vector<std::pair<std::string, std::string>>& entries);

// Before a node reads the vault (unseal, takeover): drops a restore
// interrupted while staging, finishes one interrupted while swapping. OK
// when there is none.
Status FinishInterruptedRestore(const EtcdSnapshotTarget& t);

}  // namespace sealbox::etcd
