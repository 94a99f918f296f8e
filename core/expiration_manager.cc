#include "core/expiration_manager.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "base/crypto.h"
#include "base/log.h"
#include "base/saturating.h"
#include "metrics/registry.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {


std::string TimeKey(int64_t expire_ns, const std::string& hash) {
  char bucket[32], ns[32];
  std::snprintf(bucket, sizeof bucket, "%012lld", static_cast<long long>(expire_ns / (60 * kNanosPerSecond)));
  std::snprintf(ns, sizeof ns, "%020lld", static_cast<long long>(expire_ns));
  return std::string("time/") + bucket + "/" + ns + "|" + hash;
}

}  // namespace

Json LeaseEntry::ToJson() const {
  Json j{{"lease_id", lease_id},   {"path", path},         {"mount", mount},
              {"token_hash", token_hash}, {"issue_ns", issue_ns}, {"expire_ns", expire_ns},
              {"last_renew_ns", last_renew_ns}, {"max_ttl", max_ttl}, {"ttl", ttl}, {"renewable", renewable},
              {"internal", internal},   {"attempts", attempts}, {"irrevocable", irrevocable},
              {"last_error", last_error}, {"time_key", time_key}};
  if (quota_exempt) j["quota_exempt"] = true;
  return j;
}

LeaseEntry LeaseEntry::FromJson(const Json& j) {
  LeaseEntry e;
  e.lease_id = j.value("lease_id", "");
  e.path = j.value("path", "");
  e.mount = j.value("mount", "");
  e.token_hash = j.value("token_hash", "");
  e.issue_ns = j.value("issue_ns", int64_t{0});
  e.expire_ns = j.value("expire_ns", int64_t{0});
  e.last_renew_ns = j.value("last_renew_ns", int64_t{0});
  e.max_ttl = j.value("max_ttl", int64_t{0});
  e.ttl = j.value("ttl", int64_t{0});
  e.renewable = j.value("renewable", false);
  e.internal = j.value("internal", Json(nullptr));
  e.attempts = j.value("attempts", 0);
  e.irrevocable = j.value("irrevocable", false);
  e.last_error = j.value("last_error", "");
  e.time_key = j.value("time_key", "");
  e.quota_exempt = j.value("quota_exempt", false);
  return e;
}

std::string ExpirationManager::Hash(const std::string& lease_id) {
  return crypto::HexEncode(crypto::Sha256(lease_id)).substr(0, 32);
}

void ExpirationManager::AppendSave(LeaseEntry& e, bool reschedule, std::vector<WriteOp>& ops) {
  if (reschedule) {
    if (!e.time_key.empty()) ops.push_back(WriteOp::Delete(e.time_key));
    e.time_key = e.irrevocable ? "" : TimeKey(e.expire_ns, Hash(e.lease_id));
    if (!e.time_key.empty()) ops.push_back(WriteOp::Put(e.time_key, e.lease_id));
  }
  ops.push_back(WriteOp::Put("id/" + e.lease_id, e.ToJson().dump()));
  if (!e.token_hash.empty()) ops.push_back(WriteOp::Put("token/" + e.token_hash + "/" + Hash(e.lease_id), e.lease_id));
}

void ExpirationManager::AppendDelete(const LeaseEntry& e, std::vector<WriteOp>& ops) {
  ops.push_back(WriteOp::Delete("id/" + e.lease_id));
  if (!e.time_key.empty()) ops.push_back(WriteOp::Delete(e.time_key));
  if (!e.token_hash.empty()) ops.push_back(WriteOp::Delete("token/" + e.token_hash + "/" + Hash(e.lease_id)));
}

Status ExpirationManager::Save(LeaseEntry& e, bool reschedule) {
  std::vector<WriteOp> ops;
  AppendSave(e, reschedule, ops);
  return view_->Batch(ops);
}

Status ExpirationManager::Delete(const LeaseEntry& e) {
  std::vector<WriteOp> ops;
  AppendDelete(e, ops);
  SB_RETURN_IF_ERROR(view_->Batch(ops));
  if (deleted_) deleted_(e.lease_id);
  return Status::Ok();
}

Result<std::string> ExpirationManager::Register(const std::string& path, const std::string& mount,
                                                const std::string& token_hash, const logical::Secret& secret,
                                                bool quota_exempt) {
  LeaseEntry e;
  std::string base = path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  e.lease_id = base + "/" + crypto::RandomBase62(24);
  e.path = path;
  e.mount = mount;
  e.token_hash = token_hash;
  e.issue_ns = clock_->NowNanos();
  e.expire_ns = AddSeconds(e.issue_ns, secret.ttl);
  e.ttl = secret.ttl;
  e.max_ttl = secret.max_ttl;
  e.renewable = secret.renewable;
  e.internal = secret.internal_data;
  e.quota_exempt = quota_exempt;
  std::lock_guard l(mu_);
  SB_RETURN_IF_ERROR(Save(e, true));
  wake_.notify_all();
  return e.lease_id;
}

Result<std::optional<LeaseEntry>> ExpirationManager::Lookup(const std::string& lease_id) {
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("id/" + lease_id));
  if (!raw) return std::optional<LeaseEntry>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("lease entry malformed");
  return std::optional<LeaseEntry>(LeaseEntry::FromJson(j));
}

Result<int64_t> ExpirationManager::Renew(const std::string& lease_id, int64_t increment,
                                         std::vector<std::string>* warnings) {
  std::lock_guard l(mu_);
  SB_ASSIGN_OR_RETURN(auto e, Lookup(lease_id));
  if (!e) return InvalidArgument("lease not found");
  if (e->irrevocable) return InvalidArgument("lease is expired and has failed previous revocation attempts");
  const int64_t now = clock_->NowNanos();
  if (e->expire_ns <= now) return InvalidArgument("lease expired");
  if (!e->renewable) return InvalidArgument("lease is not renewable");
  // No increment: the backend's TTL again (Vault's LeaseExtend with the
  // role's default), not whatever the last renewal granted.
  int64_t ttl = increment > 0 ? increment : (e->ttl > 0 ? e->ttl : (e->expire_ns - e->issue_ns) / kNanosPerSecond);
  if (e->max_ttl > 0) {
    int64_t limit_ns = AddSeconds(e->issue_ns, e->max_ttl);
    if (limit_ns <= now) return InvalidArgument("past the max TTL, cannot renew");
    int64_t left = (limit_ns - now) / kNanosPerSecond;
    if (ttl > left) {
      warnings->push_back("TTL of \"" + std::to_string(ttl) + "s\" exceeded the effective max_ttl of \"" +
                          std::to_string(left) + "s\"; TTL value is capped accordingly");
      ttl = left;
    }
  }
  if (renew_) SB_RETURN_IF_ERROR(renew_(*e, ttl));
  e->expire_ns = AddSeconds(now, ttl);
  e->last_renew_ns = now;
  SB_RETURN_IF_ERROR(Save(*e, true));
  wake_.notify_all();
  return ttl;
}

Status ExpirationManager::TryRevoke(LeaseEntry& e) {
  Status s = revoke_ ? revoke_(e) : Status::Ok();
  if (s.ok()) return Delete(e);
  return s;
}

Status ExpirationManager::Revoke(const std::string& lease_id) {
  static metrics::Histogram& timer =
      metrics::DefaultRegistry().GetHistogram("vault.expire.revoke", "Time to revoke a lease by id (ms)");
  metrics::ScopedTimer t(&timer);
  std::lock_guard l(mu_);
  SB_ASSIGN_OR_RETURN(auto e, Lookup(lease_id));
  if (!e) return Status::Ok();
  Status s = TryRevoke(*e);
  if (!s.ok()) return InvalidArgument("failed to revoke entry: " + s.message());
  return Status::Ok();
}

Result<std::vector<std::string>> ExpirationManager::List(const std::string& prefix) {
  return view_->List("id/" + prefix);
}

Status ExpirationManager::RevokePrefix(const std::string& prefix, bool force) {
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*view_, "id/" + prefix));
  for (const auto& k : keys) {
    std::string id = k.substr(3);
    std::lock_guard l(mu_);
    SB_ASSIGN_OR_RETURN(auto e, Lookup(id));
    if (!e) continue;
    Status s = TryRevoke(*e);
    if (!s.ok()) {
      if (!force) return InvalidArgument("failed to revoke " + id + ": " + s.message());
      log::Warn("expiration: force-revoking a lease whose backend revoke failed: " + s.message());
      SB_RETURN_IF_ERROR(Delete(*e));
    }
  }
  return Status::Ok();
}

Result<size_t> ExpirationManager::MovePrefix(const std::string& from, const std::string& to) {
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*view_, "id/" + from));
  size_t moved = 0;
  for (const auto& k : keys) {
    std::lock_guard l(mu_);
    SB_ASSIGN_OR_RETURN(auto old, Lookup(k.substr(3)));
    if (!old) continue;
    LeaseEntry e = *old;
    e.lease_id = to + old->lease_id.substr(from.size());
    if (e.path.rfind(from, 0) == 0) e.path = to + e.path.substr(from.size());
    e.mount = to;
    std::vector<WriteOp> ops;
    AppendDelete(*old, ops);
    e.time_key.clear();  // the old index key is deleted above
    AppendSave(e, true, ops);
    SB_RETURN_IF_ERROR(view_->Batch(ops));
    ++moved;
  }
  return moved;
}

void ExpirationManager::RevokeByToken(const std::string& token_hash) {
  if (token_hash.empty()) return;
  auto ids = view_->List("token/" + token_hash + "/");
  if (!ids.ok()) return;
  for (const auto& h : *ids) {
    auto raw = view_->Get("token/" + token_hash + "/" + h);
    if (!raw.ok() || !*raw) continue;
    std::lock_guard l(mu_);
    auto e = Lookup(**raw);
    if (!e.ok() || !*e) continue;
    if (!TryRevoke(**e).ok()) {
      // Leave it to the scheduler's retries: due now.
      (*e)->expire_ns = clock_->NowNanos();
      Save(**e, true).IgnoreError();
    }
  }
  wake_.notify_all();
}

Status ExpirationManager::ForEach(const std::function<void(const LeaseEntry&)>& visit) {
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*view_, "id/"));
  for (const auto& k : keys) {
    SB_ASSIGN_OR_RETURN(auto e, Lookup(k.substr(3)));
    if (e) visit(*e);
  }
  return Status::Ok();
}

Result<std::vector<LeaseEntry>> ExpirationManager::Irrevocable(size_t limit) {
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(*view_, "id/"));
  std::vector<LeaseEntry> out;
  for (const auto& k : keys) {
    SB_ASSIGN_OR_RETURN(auto e, Lookup(k.substr(3)));
    if (e && e->irrevocable) out.push_back(*e);
    if (limit && out.size() >= limit) break;
  }
  return out;
}

void ExpirationManager::Tick() {
  const int64_t now = clock_->NowNanos();
  auto buckets = view_->List("time/");
  if (!buckets.ok()) return;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  for (const auto& b : *buckets) {
    auto entries = view_->List("time/" + b);
    if (!entries.ok()) return;
    for (const auto& name : *entries) {
      if (name.size() < 20) continue;
      int64_t due = std::stoll(name.substr(0, 20));
      if (due > now) return;  // sorted: nothing later is due
      if (stopping_.load()) return;  // seal in progress: leave the rest for later
      auto raw = view_->Get("time/" + b + name);
      if (!raw.ok() || !*raw) continue;
      std::lock_guard l(mu_);
      auto e = Lookup(**raw);
      if (!e.ok()) continue;
      if (!*e) {  // stale index entry
        view_->Delete("time/" + b + name).IgnoreError();
        continue;
      }
      LeaseEntry& lease = **e;
      Status s = TryRevoke(lease);
      if (s.ok()) continue;
      lease.attempts++;
      lease.last_error = s.message();
      if (lease.attempts >= kMaxAttempts) {
        lease.irrevocable = true;
        log::Error("expiration: lease " + lease.lease_id + " is irrevocable after " +
                   std::to_string(lease.attempts) + " attempts: " + s.message());
      } else {
        // Jittered exponential backoff: 1, 2, 4, 8, 16 s (±25%).
        int64_t base = (int64_t{1} << (lease.attempts - 1)) * kNanosPerSecond;
        int64_t jitter = static_cast<int64_t>(std::uniform_real_distribution<double>(-0.25, 0.25)(rng) * base);
        lease.expire_ns = now + base + jitter;
        log::Warn("expiration: revoking lease " + lease.lease_id + " failed (attempt " +
                  std::to_string(lease.attempts) + "), retrying: " + s.message());
      }
      Save(lease, true).IgnoreError();
    }
  }
}

void ExpirationManager::Start() {
  if (running_.exchange(true)) return;
  stopping_.store(false);
  thread_ = std::thread([this] {
    while (running_.load()) {
      Tick();
      std::unique_lock l(wake_mu_);
      wake_.wait_for(l, std::chrono::milliseconds(250), [this] { return !running_.load(); });
    }
  });
}

void ExpirationManager::Stop() {
  stopping_.store(true);
  if (!running_.exchange(false)) return;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sealbox::core
