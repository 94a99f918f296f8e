// Router: longest-prefix routing of API paths to mounted backends.
//
// Each RouteEntry owns the backend and its private storage view, so one mount
// cannot read another's keys. Entries are handed out as shared_ptr so an
// unmount never frees a backend a request is still using.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "logical/backend.h"
#include "metrics/histogram.h"
#include "core/mount_table.h"
#include "storage/storage.h"

namespace sealbox::core {

class EntryMountView final : public logical::MountView {
 public:
  EntryMountView(const MountEntry* e, int64_t sys_default, int64_t sys_max, size_t max_entry)
      : e_(e), sys_default_(sys_default), sys_max_(sys_max), max_entry_(max_entry) {}
  int64_t DefaultLeaseTtl() const override;
  int64_t MaxLeaseTtl() const override;
  size_t MaxEntrySize() const override { return max_entry_; }

 private:
  const MountEntry* e_;
  int64_t sys_default_, sys_max_;
  size_t max_entry_;
};

struct RouteEntry {
  MountEntry mount;
  std::unique_ptr<PrefixView> view;
  std::unique_ptr<EntryMountView> mount_view;
  std::unique_ptr<logical::Backend> backend;
  // vault.route.<op>.<mount> timers by operation, looked up on first use.
  std::array<std::atomic<metrics::Histogram*>, logical::kOperationCount> route_timers{};
};

// A request's mount, matched once on its decoded path. The pipeline, the
// scheduler (through Core::Route), lease operations and auth renewal all
// work from it. Holding it keeps the backend alive through an unmount.
struct BoundRoute {
  std::shared_ptr<RouteEntry> entry;  // nullptr: no mount serves the path
  std::string relative_path;          // the path inside the mount
  uint64_t generation = 0;            // the router's when bound (see Router::generation)

  explicit operator bool() const { return entry != nullptr; }
  // Points `req` at the mount: relative path, mount fields, storage view.
  void Apply(logical::Request& req) const;
};

// While alive, `req` is bound to `route` (BoundRoute::Apply); on destruction
// the request gets back the path it came with, so what follows the backend
// (leases, audit, the response) sees the full path.
class BoundRequestScope {
 public:
  BoundRequestScope(const BoundRoute& route, logical::Request& req);
  ~BoundRequestScope();
  BoundRequestScope(const BoundRequestScope&) = delete;
  BoundRequestScope& operator=(const BoundRequestScope&) = delete;

 private:
  logical::Request& req_;
  std::string full_path_;
};

class Router {
 public:
  // Adds an entry under mount.RoutePath(). Conflict if that path is taken, or
  // nests inside / contains another mount.
  Status Mount(std::shared_ptr<RouteEntry> entry);
  // Swaps the entry at `route_path` for `entry` in one step (tune, upgrade):
  // requests see either the old or the new one, never neither.
  Status Replace(const std::string& route_path, std::shared_ptr<RouteEntry> entry);
  // Removes and returns the entry (nullptr if none).
  std::shared_ptr<RouteEntry> Unmount(const std::string& route_path);
  // The mount serving `path` (longest prefix; also tries path + "/"), bound:
  // empty if none, or if that mount is tainted.
  BoundRoute Route(const std::string& path) const;
  // The mount at exactly `route_path` (a lease's or token's issuing mount),
  // bound to `path` inside it; tainted mounts too, so what they granted can
  // still be revoked while they are disabled.
  BoundRoute RouteTo(const std::string& route_path, const std::string& path) const;
  // The mount entry serving `path` (Route(path).entry): for sys/ handlers that
  // look up another mount by path (tune), not for routing a request.
  std::shared_ptr<RouteEntry> Match(const std::string& path) const;
  // Changes whenever the table does: a route bound under an older generation
  // may name a mount since replaced (tune, seal) and is bound again.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // A tainted mount is being disabled or moved: requests no longer reach it,
  // while its leases are still revoked through Get. Untaint on failure.
  void Taint(const std::string& route_path, bool tainted);
  std::shared_ptr<RouteEntry> Get(const std::string& route_path) const;
  // Mount whose route path conflicts with `route_path` (equal, parent or child).
  std::string Conflict(const std::string& route_path) const;
  std::vector<std::shared_ptr<RouteEntry>> All() const;
  void Clear();

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<RouteEntry>> routes_;  // guarded by mu_
  std::set<std::string> tainted_;                               // guarded by mu_
  std::atomic<uint64_t> generation_{1};                         // bumped under mu_ (unique)
};

}  // namespace sealbox::core
