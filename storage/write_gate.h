// WriteGate: a store whose writes can be shut off. A standby (HA) reads the
// shared store to serve reads itself, but only the active node writes: while
// the gate is closed every write answers NotActive, before it reaches the
// store, and the request that tried it goes to the active node instead
// (api/). So a request a standby took for a read can never change state
// there, whatever its backend does. Thread-safe.
#pragma once

#include <atomic>

#include "storage/storage.h"

namespace sealbox {

class WriteGate final : public Storage {
 public:
  explicit WriteGate(Storage* store) : store_(store) {}

  // Closed: writes refused. Opened by default.
  void SetOpen(bool open) { open_.store(open); }
  bool open() const { return open_.load(); }

  Result<std::optional<std::string>> Get(std::string_view key) override { return store_->Get(key); }
  Status Put(std::string_view key, std::string_view value) override {
    return open() ? store_->Put(key, value) : Refused();
  }
  Status Delete(std::string_view key) override { return open() ? store_->Delete(key) : Refused(); }
  Result<std::vector<std::string>> List(std::string_view prefix) override { return store_->List(prefix); }
  Status Batch(const std::vector<WriteOp>& ops) override { return open() ? store_->Batch(ops) : Refused(); }
  bool SupportsSnapshots() const override { return store_->SupportsSnapshots(); }
  Status ScanConsistent(const ScanVisitor& visit) override { return store_->ScanConsistent(visit); }
  Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) override {
    return open() ? store_->ReplaceAll(entries) : Refused();
  }
  Status FinishInterruptedReplace() override { return open() ? store_->FinishInterruptedReplace() : Refused(); }

 private:
  static Status Refused() { return NotActive("node not active: a standby does not write"); }

  Storage* const store_;  // not owned
  std::atomic<bool> open_{true};
};

}  // namespace sealbox
