// Router: longest-prefix routing of API paths to mounted backends.
//
// Each RouteEntry owns the backend and its private storage view, so one mount
// cannot read another's keys. Entries are handed out as shared_ptr so an
// unmount never frees a backend a request is still using.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/logical/backend.h"
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
  // Longest mount prefix of `path` (also tries path + "/"). nullptr if none.
  std::shared_ptr<RouteEntry> Match(const std::string& path) const;
  std::shared_ptr<RouteEntry> Get(const std::string& route_path) const;
  // Mount whose route path conflicts with `route_path` (equal, parent or child).
  std::string Conflict(const std::string& route_path) const;
  std::vector<std::shared_ptr<RouteEntry>> All() const;
  void Clear();

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<RouteEntry>> routes_;  // guarded by mu_
};

}  // namespace sealbox::core
