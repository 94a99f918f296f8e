// CachingStorage: a read cache in front of a physical store (Vault's
// physical cache; `cache_size` entries, `disable_cache` turns it off).
//
// It holds what the store holds, ciphertext under the barrier, never
// plaintext. It is only correct while every write to the store goes through
// it (one node on RocksDB, or the active node under HA), or is reported to it
// through Invalidate (a standby following the active's writes). Becoming
// active or a standby starts from an empty cache. Reads that miss go
// to the store; absent keys are cached too. A read that raced with a write to
// its shard is not cached, so a stale value can never be inserted after the
// write that replaced it. Sharded LRU; thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/storage.h"

namespace sealbox {

class CachingStorage final : public Storage {
 public:
  static constexpr size_t kDefaultEntries = 131072;  // Vault's default cache_size

  CachingStorage(Storage* store, size_t max_entries);

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Batch(const std::vector<WriteOp>& ops) override;
  bool SupportsSnapshots() const override { return store_->SupportsSnapshots(); }
  Status ScanConsistent(const ScanVisitor& visit) override { return store_->ScanConsistent(visit); }
  // Empties the cache before and after: every key may change.
  Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) override;
  Status FinishInterruptedReplace() override;

  // A key another node wrote (a standby following the active's writes,
  // storage/change_feed.h): dropped, and a read racing with this call is
  // not cached.
  void Invalidate(std::string_view key) { Forget(key); }
  void InvalidateAll() { ClearAll(); }
  // Off: every call goes to the store and the cache is emptied. On: starts
  // from an empty cache.
  void SetEnabled(bool enabled);
  bool enabled() const { return enabled_.load(); }

 private:
  struct Shard {
    std::mutex mu;
    uint64_t generation = 0;  // bumped by every write to a key of the shard
    std::list<std::pair<std::string, std::optional<std::string>>> lru;  // front: most recent
    std::unordered_map<std::string_view, decltype(lru)::iterator> index;
  };
  static constexpr size_t kShards = 16;

  Shard& ShardOf(std::string_view key);
  // After a write (or a failed one: the store may hold either value).
  void Forget(std::string_view key);
  void Insert(Shard& s, std::string_view key, std::optional<std::string> value);
  void ClearAll();

  Storage* const store_;  // not owned
  const size_t per_shard_;
  std::atomic<bool> enabled_{true};
  std::array<Shard, kShards> shards_;
};

}  // namespace sealbox
