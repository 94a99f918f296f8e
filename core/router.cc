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

void BoundRoute::Apply(logical::Request& req) const {
  const MountEntry& m = entry->mount;
  req.path = relative_path;
  req.mount_point = m.RoutePath();
  req.mount_type = m.type;
  req.mount_accessor = m.accessor;
  req.mount_class = m.auth ? "auth" : "secret";
  req.storage = entry->view.get();
}

BoundRequestScope::BoundRequestScope(const BoundRoute& route, logical::Request& req)
    : req_(req), full_path_(req.path) {
  route.Apply(req);
}

BoundRequestScope::~BoundRequestScope() { req_.path = std::move(full_path_); }

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
  generation_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

Status Router::Replace(const std::string& route_path, std::shared_ptr<RouteEntry> entry) {
  std::unique_lock l(mu_);
  auto it = routes_.find(route_path);
  if (it == routes_.end()) return InvalidArgument("no mount at " + route_path);
  it->second = std::move(entry);
  generation_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

std::shared_ptr<RouteEntry> Router::Unmount(const std::string& route_path) {
  std::unique_lock l(mu_);
  auto it = routes_.find(route_path);
  if (it == routes_.end()) return nullptr;
  auto e = it->second;
  routes_.erase(it);
  tainted_.erase(route_path);
  generation_.fetch_add(1, std::memory_order_release);
  return e;
}

BoundRoute Router::Route(const std::string& path) const {
  std::shared_lock l(mu_);
  BoundRoute bound;
  bound.generation = generation_.load(std::memory_order_acquire);
  // Longest '/'-terminated prefix first; only then the path plus '/' (as Vault).
  auto it = routes_.end();
  for (size_t i = path.size(); i-- > 0 && it == routes_.end();) {
    if (path[i] == '/') it = routes_.find(path.substr(0, i + 1));
  }
  if (it == routes_.end()) it = routes_.find(path + "/");
  // A tainted mount answers as if absent (the set is empty but for the
  // moments a disable or remount runs).
  if (it == routes_.end() || (!tainted_.empty() && tainted_.count(it->first))) return bound;
  bound.entry = it->second;
  bound.relative_path = path.substr(std::min(path.size(), it->first.size()));
  return bound;
}

BoundRoute Router::RouteTo(const std::string& route_path, const std::string& path) const {
  std::shared_lock l(mu_);
  BoundRoute bound;
  bound.generation = generation_.load(std::memory_order_acquire);
  auto it = routes_.find(route_path);
  if (it == routes_.end()) return bound;
  bound.entry = it->second;
  bound.relative_path = path.rfind(route_path, 0) == 0 ? path.substr(route_path.size()) : path;
  return bound;
}

std::shared_ptr<RouteEntry> Router::Match(const std::string& path) const { return Route(path).entry; }

void Router::Taint(const std::string& route_path, bool tainted) {
  std::unique_lock l(mu_);
  if (tainted) {
    tainted_.insert(route_path);
  } else {
    tainted_.erase(route_path);
  }
  generation_.fetch_add(1, std::memory_order_release);
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
  tainted_.clear();
  generation_.fetch_add(1, std::memory_order_release);
}

}  // namespace sealbox::core
