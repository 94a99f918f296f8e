#include "engines/database/postgres/pool.h"

#include <algorithm>

namespace sealbox::engines::database::postgres {

size_t PoolLimits::IdleCap() const {
  int64_t cap = max_idle > 0 ? max_idle : max_open;
  if (max_open > 0) cap = std::min(cap, max_open);
  return cap > 0 ? static_cast<size_t>(cap) : 32;
}

void Pool::Release::operator()(Connection* c) const {
  if (auto p = pool.lock()) p->Forget(c);
  delete c;
}

Result<Pool::Handle> Pool::Get(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock l(mu_);
  while (true) {
    if (Handle h = TakeIdle()) return h;
    if (limits_.max_open <= 0 || open_ < limits_.max_open) break;
    if (cv_.wait_until(l, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= limits_.max_open)
      return Unavailable("timed out waiting for a free database connection (max_open_connections is " +
                         std::to_string(limits_.max_open) + ")");
  }
  return Open(l);
}

// Called with mu_ held.
Pool::Handle Pool::TakeIdle() {
  while (!idle_.empty()) {
    Idle i = std::move(idle_.back());
    idle_.pop_back();
    if (Expired(i.born) || !i.conn->Healthy()) {
      --open_;
      continue;  // closed as i goes
    }
    born_[i.conn.get()] = i.born;
    return Handle(i.conn.release(), Release{weak_from_this()});
  }
  return Handle(nullptr, Release{});
}

// Called with mu_ held and a slot free; connects outside the lock.
Result<Pool::Handle> Pool::Open(std::unique_lock<std::mutex>& l) {
  ++open_;
  l.unlock();
  auto c = connect_(dsn_);
  l.lock();
  if (!c.ok()) {
    --open_;
    cv_.notify_one();
    return c.status();
  }
  born_[c->get()] = clock_->NowSeconds();
  return Handle(c->release(), Release{weak_from_this()});
}

void Pool::Put(Handle h) {
  std::unique_ptr<Connection> c(h.release());
  std::unique_lock l(mu_);
  auto it = born_.find(c.get());
  const int64_t born = it == born_.end() ? 0 : it->second;
  if (it != born_.end()) born_.erase(it);
  if (c->Healthy() && !Expired(born) && idle_.size() < limits_.IdleCap()) {
    idle_.push_back({std::move(c), born});
  } else {
    --open_;
  }
  cv_.notify_one();
  l.unlock();  // c, if still held, closes outside the lock
}

bool Pool::Expired(int64_t born) const {
  return limits_.max_lifetime > 0 && clock_->NowSeconds() - born >= limits_.max_lifetime;
}

void Pool::Forget(Connection* c) {
  std::lock_guard l(mu_);
  if (born_.erase(c)) --open_;
  cv_.notify_one();
}

}  // namespace sealbox::engines::database::postgres
