// Backend: anything mountable (a secrets engine, an auth method, sys/).
//
// HandleRequest may be called concurrently from the worker pool;
// implementations lock internally. req.path has the mount prefix stripped and
// req.storage is this mount's private view.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "logical/request.h"

namespace sealbox {
class Storage;
}

namespace sealbox::logical {

// Paths with special handling, as patterns: an entry ending in '*' is a
// prefix, otherwise exact. Relative to the mount.
struct SpecialPaths {
  std::vector<std::string> root;             // also need the sudo capability
  std::vector<std::string> unauthenticated;  // no token needed (login)
};

// Mount-level settings a backend may consult (effective values).
class MountView {
 public:
  virtual ~MountView() = default;
  virtual int64_t DefaultLeaseTtl() const = 0;
  virtual int64_t MaxLeaseTtl() const = 0;
  virtual size_t MaxEntrySize() const = 0;
};

// A password from the named password policy (sys/policies/password), as
// Vault's SystemView.GeneratePasswordFromPolicy; NotFound if the policy does
// not exist. Thread-safe.
using PasswordGenerator = std::function<Result<std::string>(const std::string& policy_name)>;

struct BackendConfig {
  Storage* storage = nullptr;  // the mount's view; outlives the backend
  std::string type;            // "kv", "database", "kubernetes"...
  std::string mount_path;      // "secret/" or "auth/kubernetes/"
  std::string uuid;
  std::string accessor;
  Json options = nullptr;      // mount options (strings), e.g. {"version":"2"}
  const Clock* clock = nullptr;
  const MountView* mount = nullptr;
  PasswordGenerator generate_password;  // empty when no core is present (tests)
};

// How a request runs, which decides the thread the server gives it:
// kNonBlocking touches memory and the local store only (served on the I/O
// thread, no hop), kComputes may block briefly (a small pool sized to the
// cores), kWaits waits on a remote service or a synced write (a large pool
// sized for waiting, so it neither queues behind nor crowds out the rest).
enum class RunMode { kNonBlocking, kComputes, kWaits };

class Backend {
 public:
  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  virtual ~Backend() = default;

  // A Response (Response::Empty() for 204) or a non-OK Status mapped by api/.
  virtual Result<Response> HandleRequest(Request& req) = 0;
  // For create/update: whether the target exists; nullopt when the path has
  // no existence check (then the operation stays "update").
  virtual Result<std::optional<bool>> ExistenceCheck(Request& req) { return std::optional<bool>(); }
  virtual const SpecialPaths& special_paths() const {
    static const SpecialPaths kNone;
    return kNone;
  }
  // How a request to `path` (relative to the mount) with `op` runs; the
  // server schedules by it. The default: reads compute, writes wait (each
  // write is a synced batch).
  virtual RunMode RunModeFor(std::string_view path, Operation op) const {
    return op == Operation::kRead || op == Operation::kList ? RunMode::kComputes : RunMode::kWaits;
  }
  // HA: true if a standby may serve a request to `path` with `op` itself:
  // it only reads the store and acts on nothing outside it. A standby
  // forwards everything else to the active node, and forwards a request
  // that tries to write anyway. Default: none.
  virtual bool ServesOnStandby(std::string_view path, Operation op) const { return false; }
  // True for the token store's backend, whose auth blocks carry tokens it
  // issued itself; any other backend's auth block is a login the core
  // completes (creates the token).
  virtual bool IssuesTokens() const { return false; }
  // The role a login request names, for quotas bound to a role (Vault's
  // ResolveRoleOperation); "" when the method has no roles or the request
  // names none. Called with the request bound to the mount, body parsed.
  virtual Result<std::string> QuotaRole(Request& req) { return std::string(); }
  // Called on unmount or seal: drop caches and stop background work.
  virtual void Cleanup() {}
};

using BackendFactory = std::function<Result<std::unique_ptr<Backend>>(const BackendConfig&)>;

// True if `path` matches one of the SpecialPaths patterns.
bool MatchesSpecial(const std::vector<std::string>& patterns, std::string_view path);

}  // namespace sealbox::logical
