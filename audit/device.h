// One audit device: its configuration, salt, hash chain, filter and sink,
// and how an entry's text becomes a line in it. AuditBroker holds the
// devices (audit/audit_broker.h); the sinks are audit/file_sink.h and
// audit/socket_sink.h; batching is audit/group_writer.h.
//
// Thread-safety: all public methods may be called concurrently; the device
// serialises the chain step and its writes under its lock.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "audit/audit_broker.h"
#include "audit/audit_filter.h"
#include "audit/entry_format.h"
#include "audit/group_writer.h"
#include "audit/hash_chain.h"
#include "audit/sink.h"
#include "base/crypto.h"
#include "base/secure_bytes.h"

namespace sealbox::audit {

class Device final : public std::enable_shared_from_this<Device> {
 public:
  Device(DeviceConfig cfg, std::string salt, SecureBytes chain_key, FileDeviceLimits limits,
         std::unique_ptr<Sink> sink);
  // No request is writing here: each holds a reference while it writes.
  ~Device();

  const DeviceConfig& config() const { return cfg_; }
  const EntryOptions& entry_options() const { return entry_options_; }
  // Null when the device records everything.
  const AuditFilter* filter() const { return filter_.get(); }
  const SecureBytes& chain_key() const { return chain_key_; }
  // Lines chained since the device opened.
  uint64_t ChainPosition() const { return chain_.position(); }
  const crypto::HmacSha256Key& salt_key() const { return salt_key_; }
  std::string Hash(std::string_view v) const { return HashValue(salt_key_, v); }

  // Appends the chain field to an entry's text ("{...}") and writes it as one
  // line. The chain is computed under the device's lock so the chain order
  // is the file order; the text is built before it, so concurrent requests
  // serialise only on one HMAC.
  Status WriteEntry(std::string_view body);

  // The same for the entries of one AuditWrite, without blocking where the
  // device allows it: the lines join the open batch and `w` is completed
  // when its write is done, from a flush posted on `resumer`.
  void Submit(std::span<const std::string> bodies, AuditWrite* w, Resumer* resumer);

  // True when Submit never blocks: a local file without fsync, or discard.
  bool Suspends() const { return sink_->Suspends(); }

  // SIGHUP: closes and reopens the sink (after the write in progress).
  void Reopen();

 private:
  // Settles a stuck write, refuses while stalled, opens lazily.
  Status Ready();  // REQUIRES: mu_ held
  Status Open();   // REQUIRES: mu_ held
  void Close();    // REQUIRES: mu_ held
  // A flush posted by Submit, or handed off by a writer that stopped.
  void Flush();
  void HandOff();  // REQUIRES: mu_ held

  const FileDeviceLimits limits_;
  const DeviceConfig cfg_;
  const SecureBytes chain_key_;
  const crypto::HmacSha256Key salt_key_;  // the salt, absorbed once
  EntryOptions entry_options_;
  bool fsync_ = false;
  std::string prefix_;
  std::shared_ptr<const AuditFilter> filter_;

  std::mutex mu_;
  const std::unique_ptr<Sink> sink_;  // guarded by mu_
  HashChain chain_;                   // guarded by mu_
  GroupWriter writer_;                // guarded by mu_
  bool opened_ = false;               // guarded by mu_
};

// A device for `cfg`: InvalidArgument for a bad filter, a missing or
// relative file_path, a missing address or an unknown socket_type or type.
// Not opened yet.
Result<std::shared_ptr<Device>> MakeDevice(DeviceConfig cfg, std::string salt, SecureBytes key,
                                           const FileDeviceLimits& limits);

// What the server configuration refuses in a device's options (the file
// itself is checked when it is opened). Checked on enable; a device
// persisted before the configuration changed fails closed instead.
Status CheckLimits(const DeviceConfig& cfg, const FileDeviceLimits& limits);

}  // namespace sealbox::audit
