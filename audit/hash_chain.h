// The hash chain of one audit device (tamper evidence, beyond Vault): each
// line carries "chain", the hex HMAC-SHA256 under the device's chain key of
// the previous line's chain value, a newline, and this line without the
// field. The first line of a file carries "chain_start", the chain value it
// follows, so that a file reopened after rotation still links to the one
// before it. `sealbox audit verify` (VerifyFile) recomputes the chain.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/crypto.h"

namespace sealbox::audit {

// Thread-compatible: the device serialises its use under its lock, so that
// the chain order is the file order.
class HashChain {
 public:
  explicit HashChain(std::string_view key) : hmac_(key) {}

  // Appends the line for `body` ("{...}"), chained after the last committed
  // value and led by `prefix`, to `out`, and returns where its chain value
  // (hex) is in `out`. Appending in place keeps an audited request free of
  // per-line allocations.
  size_t Append(std::string_view prefix, std::string_view body, std::string& out) const;
  // Makes the line appended at `chain_at` the last one, once it is queued or
  // written.
  void Commit(std::string_view out, size_t chain_at);

  // The next line starts a file (or a connection): it carries chain_start.
  void Restart() { starting_ = true; }
  // The next line is appended to a file whose last line's chain value is
  // `last` ("" when that line was torn: the chain goes on from ours).
  void Resume(const std::string& last);

  // Lines committed since the device opened (any thread may read it: the
  // audit chain position that sys/metrics reports).
  uint64_t position() const { return position_.load(std::memory_order_relaxed); }

 private:
  crypto::HmacSha256Key hmac_;
  std::string prev_;      // the last line's chain value (hex), "" before the first
  bool starting_ = true;  // next line is the first of its file
  std::atomic<uint64_t> position_{0};
};

// Verifies a file's hash chain with the device's chain key. Writes a report
// to `out`; returns 0 when intact, 1 at the first altered, dropped or
// reordered line (named by its line number), 2 on usage errors.
int VerifyFile(const std::string& file, const std::string& key_hex, const std::string& prefix, std::string* out);

}  // namespace sealbox::audit
