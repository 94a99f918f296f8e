#include "storage/caching_storage.h"

#include <functional>

namespace sealbox {

CachingStorage::CachingStorage(Storage* store, size_t max_entries)
    : store_(store), per_shard_(std::max<size_t>(1, max_entries / kShards)) {}

CachingStorage::Shard& CachingStorage::ShardOf(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

Result<std::optional<std::string>> CachingStorage::Get(std::string_view key) {
  if (!enabled_.load()) return store_->Get(key);
  Shard& s = ShardOf(key);
  uint64_t generation;
  {
    std::lock_guard l(s.mu);
    auto it = s.index.find(key);
    if (it != s.index.end()) {
      s.lru.splice(s.lru.begin(), s.lru, it->second);
      return it->second->second;
    }
    generation = s.generation;
  }
  SB_ASSIGN_OR_RETURN(auto value, store_->Get(key));
  std::lock_guard l(s.mu);
  // A write to the shard since the read began may have replaced the value.
  if (s.generation == generation && enabled_.load()) Insert(s, key, value);
  return value;
}

void CachingStorage::Insert(Shard& s, std::string_view key, std::optional<std::string> value) {
  if (s.index.count(key)) return;
  s.lru.emplace_front(std::string(key), std::move(value));
  s.index.emplace(s.lru.front().first, s.lru.begin());
  if (s.lru.size() > per_shard_) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
  }
}

void CachingStorage::Forget(std::string_view key) {
  Shard& s = ShardOf(key);
  std::lock_guard l(s.mu);
  ++s.generation;
  auto it = s.index.find(key);
  if (it == s.index.end()) return;
  auto node = it->second;
  s.index.erase(it);
  s.lru.erase(node);
}

Status CachingStorage::Put(std::string_view key, std::string_view value) {
  // Forgotten before and after: a read between the two may only cache what
  // the store held then, and the second bump keeps it out.
  Forget(key);
  Status st = store_->Put(key, value);
  Forget(key);
  return st;
}

Status CachingStorage::Delete(std::string_view key) {
  Forget(key);
  Status st = store_->Delete(key);
  Forget(key);
  return st;
}

Result<std::vector<std::string>> CachingStorage::List(std::string_view prefix) { return store_->List(prefix); }

Status CachingStorage::Batch(const std::vector<WriteOp>& ops) {
  for (const auto& op : ops) Forget(op.key);
  Status st = store_->Batch(ops);
  for (const auto& op : ops) Forget(op.key);
  return st;
}

Status CachingStorage::ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) {
  ClearAll();
  Status st = store_->ReplaceAll(entries);
  ClearAll();
  return st;
}

Status CachingStorage::FinishInterruptedReplace() {
  Status st = store_->FinishInterruptedReplace();
  ClearAll();
  return st;
}

void CachingStorage::ClearAll() {
  for (Shard& s : shards_) {
    std::lock_guard l(s.mu);
    ++s.generation;
    s.index.clear();
    s.lru.clear();
  }
}

void CachingStorage::SetEnabled(bool enabled) {
  enabled_.store(enabled);
  ClearAll();
}

}  // namespace sealbox
