#include "core/router.h"

#include <mutex>

namespace sealbox::core {

int64_t EntryMountView::DefaultLeaseTtl() const {
  int64_t v = e_->config.default_lease_ttl ? e_->config.default_lease_ttl : sys_default_;
  return std::min(v, MaxLeaseTtl());
}
int64_t EntryMountView::MaxLeaseTtl() const {
  return e_->config.max_lease_ttl ? e_->config.max_lease_ttl : sys_max_;
}

std::string Router::Conflict(const std::string& route_path) const {
  std::shared_lock l(mu_);
  for (const auto& [p, e] : routes_) {
    if (p.rfind(route_path, 0) == 0 || route_path.rfind(p, 0) == 0) return p;
  }
  return "";
}

Status Router::Mount(std::shared_ptr<RouteEntry> entry) {
  std::string p = entry->mount.RoutePath();
  std::unique_lock l(mu_);
  for (const auto& [q, e] : routes_) {
    if (q.rfind(p, 0) == 0 || p.rfind(q, 0) == 0) return InvalidArgument("path is already in use at " + q);
  }
  routes_[p] = std::move(entry);
  return Status::Ok();
}

Status Router::Replace(const std::string& route_path, std::shared_ptr<RouteEntry> entry) {
  std::unique_lock l(mu_);
  auto it = routes_.find(route_path);
  if (it == routes_.end()) return InvalidArgument("no mount at " + route_path);
  it->second = std::move(entry);
  return Status::Ok();
}

std::shared_ptr<RouteEntry> Router::Unmount(const std::string& route_path) {
  std::unique_lock l(mu_);
  auto it = routes_.find(route_path);
  if (it == routes_.end()) return nullptr;
  auto e = it->second;
  routes_.erase(it);
  return e;
}

std::shared_ptr<RouteEntry> Router::Match(const std::string& path) const {
  std::shared_lock l(mu_);
  // Longest '/'-terminated prefix first; only then the path plus '/' (as Vault).
  for (size_t i = path.size(); i-- > 0;) {
    if (path[i] != '/') continue;
    auto it = routes_.find(path.substr(0, i + 1));
    if (it != routes_.end()) return it->second;
  }
  auto it = routes_.find(path + "/");
  return it == routes_.end() ? nullptr : it->second;
}

std::shared_ptr<RouteEntry> Router::Get(const std::string& route_path) const {
  std::shared_lock l(mu_);
  auto it = routes_.find(route_path);
  return it == routes_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<RouteEntry>> Router::All() const {
  std::shared_lock l(mu_);
  std::vector<std::shared_ptr<RouteEntry>> out;
  for (const auto& [p, e] : routes_) out.push_back(e);
  return out;
}

void Router::Clear() {
  std::unique_lock l(mu_);
  routes_.clear();
}

}  // namespace sealbox::core
