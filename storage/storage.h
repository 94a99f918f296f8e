// Storage: the key/value interface every layer stores through.
//
// The same interface serves physical backends (RocksDB, in-memory: bytes at
// rest) and the barrier and its prefix views (plaintext above, ciphertext
// below), so a backend cannot tell which it holds. Keys are '/'-separated
// paths. Implementations are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sealbox {

struct WriteOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;  // kPut only

  static WriteOp Put(std::string k, std::string v) { return {Kind::kPut, std::move(k), std::move(v)}; }
  static WriteOp Delete(std::string k) { return {Kind::kDelete, std::move(k), {}}; }
};

class Storage {
 public:
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  virtual ~Storage() = default;

  // The value, or nullopt when the key is absent.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Durable when it returns OK (physical backends sync their log).
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  // Deleting a missing key is OK.
  virtual Status Delete(std::string_view key) = 0;
  // Immediate children of `prefix` (which ends in '/' or is empty), sorted:
  // leaf names as-is, deeper keys collapsed to "dir/" once.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;
  // Applies every op atomically and durably.
  virtual Status Batch(const std::vector<WriteOp>& ops) = 0;

  // Snapshots (docs/operations.md). Physical backends that support them
  // override the three; the defaults answer kUnsupportedOperation.
  virtual bool SupportsSnapshots() const { return false; }
  //
  // Calls `visit` for every key, in key order, as of one point in time:
  // writes that land meanwhile are neither seen nor blocked. Stops at the
  // first error `visit` returns.
  using ScanVisitor = std::function<Status(std::string_view key, std::string_view value)>;
  virtual Status ScanConsistent(const ScanVisitor& visit);
  // Replaces the whole content by `entries` in one atomic, durable write: a
  // crash leaves either the old content or the new, never a mix. A backend
  // that cannot write it at once (etcd) answers Corruption when it failed
  // half-way, and finishes the replacement in FinishInterruptedReplace.
  virtual Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries);
  // Finishes a ReplaceAll that a failure or a crash interrupted half-way, on
  // this node or another sharing the store; OK when there is none. Called
  // before a node serves from the store (unseal, becoming the active node).
  virtual Status FinishInterruptedReplace() { return Status::Ok(); }
};

// Every key under `prefix` (full keys, sorted), visiting folders recursively.
// Stops after `limit` keys when limit > 0.
Result<std::vector<std::string>> ListRecursive(Storage& s, std::string_view prefix, size_t limit = 0);

// Deletes every key under `prefix`.
Status DeletePrefix(Storage& s, std::string_view prefix);

// A view of `parent` under a fixed key prefix ("logical/<uuid>/"). The view
// never reaches keys outside its prefix: keys with "..", or that would escape,
// cannot be formed because the prefix is always prepended verbatim.
class PrefixView final : public Storage {
 public:
  PrefixView(Storage* parent, std::string prefix) : parent_(parent), prefix_(std::move(prefix)) {}
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Batch(const std::vector<WriteOp>& ops) override;
  const std::string& prefix() const { return prefix_; }

 private:
  std::string Full(std::string_view key) const { return prefix_ + std::string(key); }
  Storage* parent_;  // not owned
  std::string prefix_;
};

// In-memory physical storage for tests and fuzzing.
std::unique_ptr<Storage> NewInMemStorage();

}  // namespace sealbox
