// Barrier: the AES-256-GCM encryption layer between every logical entry and
// physical storage.
//
// Stored value layout (docs/storage-format.md):
//   term (4 bytes, big endian) | version (1 byte, 0x02) | nonce (12) | ciphertext | tag (16)
// The full storage key is the AEAD associated data, so a ciphertext copied to
// another key fails to open. Term 0 is the root key (used only for the keyring
// entry); terms 1.. are keyring keys, and Rotate() adds a term without
// rewriting old entries.
//
// Security invariants: keys live only in SecureBytes; Seal() wipes them. Every
// operation on a sealed barrier returns kSealed. Thread-safe: the keyring is
// guarded by a shared mutex (readers: Get/Put/...; writers: unseal, seal,
// rotate).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>

#include "base/secure_bytes.h"
#include "storage/storage.h"

namespace sealbox {

struct KeyStatus {
  uint32_t term = 0;
  int64_t install_time_nanos = 0;
  uint64_t encryptions = 0;
};

class Barrier final : public Storage {
 public:
  static constexpr const char* kKeyringPath = "core/keyring";

  explicit Barrier(Storage* physical) : physical_(physical) {}
  ~Barrier() override { Seal(); }

  // True once a keyring exists in physical storage.
  Result<bool> Initialized();
  // Creates the keyring (term 1) under `root_key` and leaves the barrier
  // unsealed. REQUIRES: root_key.size() == 32 and not yet initialised.
  Status Initialize(const SecureBytes& root_key, int64_t now_nanos);
  // Loads the keyring with `root_key`. A wrong key: PermissionDenied("invalid key").
  Status Unseal(const SecureBytes& root_key);
  // Wipes all key material.
  void Seal();
  bool Sealed() const { return sealed_.load(std::memory_order_acquire); }
  // Snapshot restore: loads the keyring now in physical storage with the
  // root key already held (the store under it was replaced). Fails, and
  // leaves the barrier sealed, if that root key does not open it.
  Status Reload();
  // Encrypts or opens a value kept outside this storage (a snapshot's
  // checksums) under the active term, `path` as associated data.
  Result<std::string> SealValue(std::string_view path, std::string_view plaintext);
  Result<std::string> OpenValue(std::string_view path, std::string_view sealed);
  // Adds a new active term and persists the keyring.
  Status Rotate(int64_t now_nanos);
  KeyStatus ActiveKeyStatus();

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Batch(const std::vector<WriteOp>& ops) override;

  // Exposed for tests and the storage-format doc.
  static Result<std::string> EncryptWith(uint32_t term, const SecureBytes& key, std::string_view path,
                                         std::string_view plaintext);

 private:
  struct TermKey {
    SecureBytes key;
    int64_t install_time_nanos = 0;
  };
  Result<std::string> Encrypt(std::string_view path, std::string_view plaintext);  // REQUIRES: mu_ held
  Result<std::string> Decrypt(std::string_view path, std::string_view sealed);     // REQUIRES: mu_ held
  SecureBytes SerializeKeyring() const;                                           // REQUIRES: mu_ held
  Status PersistKeyring();                                                         // REQUIRES: mu_ held (exclusive)

  Storage* physical_;  // not owned
  std::shared_mutex mu_;
  std::atomic<bool> sealed_{true};
  SecureBytes root_key_;                 // guarded by mu_
  std::map<uint32_t, TermKey> terms_;    // guarded by mu_
  uint32_t active_term_ = 0;             // guarded by mu_
  std::atomic<uint64_t> encryptions_{0};
};

}  // namespace sealbox
