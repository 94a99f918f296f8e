// AuditBroker: every routed request and response, recorded by every enabled
// audit device as one JSON line with secrets HMAC'd (contract §6).
//
// Fail closed: with at least one device enabled, an entry that no device
// could record is an error; the core then refuses the request (request
// entry) or withholds the response (response entry). One failing device does
// not block another that works.
//
// Tamper evidence (beyond Vault): each line carries "chain", the hex
// HMAC-SHA256 under a per-device key of the previous line's chain value and
// this line without the field; `sealbox audit verify` recomputes it. A file
// reopened after rotation starts from the last chain value, so verifying the
// rotated files in order still links them.
//
// Thread-safety: all methods may be called concurrently. Entries are
// written as text and hashed outside any lock (audit/entry_format.h); each
// device serialises only the chain step and its file writes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "audit/entry_format.h"
#include "base/json_util.h"
#include "base/status.h"
#include "core/logical/request.h"

namespace sealbox {
class Storage;
}

namespace sealbox::audit {

class Device;

struct DeviceConfig {
  std::string path;  // "file/"
  std::string type;  // "file" | "socket"
  std::string description;
  Json options = Json::object();  // string values
  bool local = false;
};

class AuditBroker {
 public:
  AuditBroker();
  ~AuditBroker();

  // Loads and opens the devices persisted in `view` (the barrier under
  // "core/audit-devices/"). REQUIRES: barrier unsealed.
  Status Setup(Storage* view);
  // Closes every device (on seal) and drops keys from memory.
  void Teardown();

  // Enables a device after checking it can write; persists it.
  Status Enable(DeviceConfig cfg);
  // Disables and forgets a device; missing is OK.
  Status Disable(const std::string& path);
  // sys/audit listing data.
  Json List() const;
  bool Empty() const;
  // sys/audit-hash: the HMAC of `input` under that device's salt.
  Result<std::string> Hash(const std::string& path, const std::string& input) const;
  // The device's chain key (hex), for offline `audit verify`.
  Result<std::string> ChainKey(const std::string& path) const;
  // True if a device fsyncs every batch (then even reads may block).
  bool AnyBlocking() const;

  // error: "" for success, else the error the client gets.
  Status LogRequest(const logical::Request& req, const MountInfo& mount, const std::string& error);
  Status LogResponse(const logical::Request& req, const MountInfo& mount, const logical::Response* resp,
                     const std::string& error);

  // SIGHUP: reopen every file device.
  void Reopen();

 private:
  struct Entry;
  Status Log(const char* type, const logical::Request& req, const MountInfo& mount, const logical::Response* resp,
             const std::string& error);
  Status Persist();  // REQUIRES: mu_ held exclusively

  Storage* view_ = nullptr;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Device>> devices_;  // guarded by mu_
};

// Verifies a file's hash chain with the device's chain key. Writes a report
// to `out`; returns 0 when intact, 1 at the first altered, dropped or
// reordered line (named by its line number), 2 on usage errors.
int VerifyFile(const std::string& file, const std::string& key_hex, const std::string& prefix, std::string* out);

}  // namespace sealbox::audit
