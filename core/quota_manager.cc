#include "core/quota_manager.h"

#include <algorithm>

namespace sealbox::core {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

const char* KindName(QuotaKind kind) { return kind == QuotaKind::kRateLimit ? "rate-limit" : "lease-count"; }

Json ScopeJson(const QuotaScope& s, QuotaKind kind) {
  return Json{{"name", s.name}, {"path", s.path}, {"role", s.role}, {"type", KindName(kind)}, {"inheritable", false}};
}

QuotaScope ScopeFromJson(const Json& j) {
  return QuotaScope{j.value("name", ""), j.value("path", ""), j.value("mount", ""), j.value("role", "")};
}

Json RateJson(const RateLimitQuota& q) {
  Json j = ScopeJson(q.scope, QuotaKind::kRateLimit);
  j["rate"] = q.rate;
  j["interval"] = q.interval_secs;
  j["block_interval"] = q.block_interval_secs;
  return j;
}

Json LeaseJson(const LeaseCountQuota& q) {
  Json j = ScopeJson(q.scope, QuotaKind::kLeaseCount);
  j["max_leases"] = q.max_leases;
  return j;
}

std::shared_ptr<RateLimiter> NewLimiter(const RateLimitQuota& q) {
  return std::make_shared<RateLimiter>(q.rate, q.interval_secs * kNanos, q.block_interval_secs * kNanos);
}

template <typename Q>
std::vector<const QuotaScope*> Scopes(const std::vector<Q>& qs) {
  std::vector<const QuotaScope*> out;
  out.reserve(qs.size());
  for (const Q& q : qs) out.push_back(&q.scope);
  return out;
}

// Another quota of the same kind with the same path and role.
template <typename Q>
Status CheckUnique(const std::vector<Q>& qs, const QuotaScope& s) {
  for (const Q& q : qs) {
    if (q.scope.name != s.name && q.scope.path == s.path && q.scope.role == s.role)
      return InvalidArgument("quota rule with similar properties exists under the name \"" + q.scope.name + "\"");
  }
  return Status::Ok();
}

template <typename Q>
void Upsert(std::vector<Q>& qs, Q q) {
  auto it = std::find_if(qs.begin(), qs.end(), [&](const Q& e) { return e.scope.name == q.scope.name; });
  if (it == qs.end()) qs.push_back(std::move(q));
  else *it = std::move(q);
}

template <typename Q>
const Q* Find(const std::vector<Q>& qs, const std::string& name) {
  for (const Q& q : qs)
    if (q.scope.name == name) return &q;
  return nullptr;
}

}  // namespace

std::vector<std::string> QuotaConfig::DefaultExemptPaths() {
  return {"sys/generate-recovery-token/attempt", "sys/generate-recovery-token/update", "sys/generate-root/attempt",
          "sys/generate-root/update", "sys/health", "sys/seal-status", "sys/unseal"};
}

int MostSpecific(const std::vector<const QuotaScope*>& scopes, const QuotaRequest& r) {
  int best = -1, best_rank = 0;
  size_t best_len = 0;
  for (size_t i = 0; i < scopes.size(); ++i) {
    const QuotaScope& s = *scopes[i];
    int rank = 0;
    if (s.IsPathRule()) {
      if (r.path.substr(0, s.path.size()) == s.path) rank = 4;
    } else if (!s.mount.empty()) {
      if (s.mount == r.mount) rank = s.role.empty() ? 2 : (s.role == r.role ? 3 : 0);
    } else {
      rank = 1;
    }
    // Among path rules, the longest prefix.
    if (rank > best_rank || (rank == 4 && best_rank == 4 && s.path.size() > best_len)) {
      best = static_cast<int>(i);
      best_rank = rank;
      best_len = s.path.size();
    }
  }
  return best;
}

QuotaManager::QuotaManager(const Clock* clock) : clock_(clock), live_(std::make_unique<Snapshot>()) {
  current_.store(live_.get());
}

void QuotaManager::Install(std::unique_ptr<Snapshot> next) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(retired_, [&](const Retired& r) { return now - r.at > kGrace; });
  current_.store(next.get(), std::memory_order_release);
  retired_.push_back(Retired{std::move(live_), now});
  live_ = std::move(next);
}

QuotaManager::~QuotaManager() = default;

Status QuotaManager::Load(Storage* view) {
  auto next = std::make_unique<Snapshot>();
  auto read = [&](const std::string& key) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(auto raw, view->Get(key));
    if (!raw) return Json();
    Json j = Json::parse(*raw, nullptr, false);
    if (!j.is_object()) return Corruption("quota entry malformed: " + key);
    return j;
  };
  SB_ASSIGN_OR_RETURN(Json cfg, read("config"));
  if (cfg.is_object()) {
    next->config.audit_logging = cfg.value("enable_rate_limit_audit_logging", false);
    next->config.response_headers = cfg.value("enable_rate_limit_response_headers", false);
    next->config.exempt_paths = cfg.value("rate_limit_exempt_paths", QuotaConfig::DefaultExemptPaths());
  }
  SB_ASSIGN_OR_RETURN(auto rate_names, view->List("rate-limit/"));
  for (const std::string& name : rate_names) {
    SB_ASSIGN_OR_RETURN(Json j, read("rate-limit/" + name));
    if (!j.is_object()) continue;
    RateLimitQuota q{ScopeFromJson(j), j.value("rate", 0.0), j.value("interval", int64_t{1}),
                     j.value("block_interval", int64_t{0}), nullptr};
    if (q.rate <= 0 || q.interval_secs <= 0) return Corruption("rate-limit quota malformed: " + name);
    q.limiter = NewLimiter(q);
    next->rate.push_back(std::move(q));
  }
  SB_ASSIGN_OR_RETURN(auto lease_names, view->List("lease-count/"));
  for (const std::string& name : lease_names) {
    SB_ASSIGN_OR_RETURN(Json j, read("lease-count/" + name));
    if (!j.is_object()) continue;
    next->lease.push_back(LeaseCountQuota{ScopeFromJson(j), j.value("max_leases", int64_t{0}),
                                          std::make_shared<std::atomic<int64_t>>(0)});
  }
  std::lock_guard l(write_mu_);
  view_ = view;
  Install(std::move(next));
  return Status::Ok();
}

void QuotaManager::Reset() {
  std::lock_guard l(write_mu_);
  view_ = nullptr;
  Install(std::make_unique<Snapshot>());
}

bool QuotaManager::Exempt(const Snapshot& s, std::string_view path) const {
  for (const std::string& p : s.config.exempt_paths)
    if (path == p) return true;
  return false;
}

RateLimitOutcome QuotaManager::ApplyRateLimit(const QuotaRequest& r) {
  const Snapshot& s = Current();
  RateLimitOutcome out;
  if (s.rate.empty() || Exempt(s, r.path)) return out;
  int i = MostSpecific(Scopes(s.rate), r);
  if (i < 0) return out;
  const RateLimitQuota& q = s.rate[i];
  out.applies = true;
  out.send_headers = s.config.response_headers;
  out.decision = q.limiter->Take(r.client_addr, clock_->NowNanos());
  if (!out.decision.allowed) NoteQuotaRejection(QuotaKind::kRateLimit, q.scope.name);
  return out;
}

bool QuotaManager::NeedsRole(std::string_view mount) const {
  const Snapshot& s = Current();
  auto named = [&](const QuotaScope& q) { return !q.role.empty() && q.mount == mount; };
  return std::any_of(s.rate.begin(), s.rate.end(), [&](const auto& q) { return named(q.scope); }) ||
         std::any_of(s.lease.begin(), s.lease.end(), [&](const auto& q) { return named(q.scope); });
}

Result<std::shared_ptr<std::atomic<int64_t>>> QuotaManager::AcquireLease(const QuotaRequest& r) {
  const Snapshot& s = Current();
  if (s.lease.empty()) return std::shared_ptr<std::atomic<int64_t>>();
  int i = MostSpecific(Scopes(s.lease), r);
  if (i < 0) return std::shared_ptr<std::atomic<int64_t>>();
  const LeaseCountQuota& q = s.lease[i];
  int64_t n = q.counter->load();
  do {
    if (n >= q.max_leases) {
      NoteQuotaRejection(QuotaKind::kLeaseCount, q.scope.name);
      // Vault Enterprise's shape: a one-error multierror, login or not.
      return RateLimited("1 error occurred:\n\t* request path \"" + std::string(r.path) +
                         "\": lease count quota exceeded\n\n");
    }
  } while (!q.counter->compare_exchange_weak(n, n + 1));
  return q.counter;
}

void QuotaManager::Release(const std::shared_ptr<std::atomic<int64_t>>& counter) {
  if (!counter) return;
  int64_t n = counter->load();
  while (n > 0 && !counter->compare_exchange_weak(n, n - 1)) {
  }
}

void QuotaManager::ResetLeaseCounts() {
  std::lock_guard l(write_mu_);
  if (Current().lease.empty()) return;
  auto next = std::make_unique<Snapshot>(Current());
  for (LeaseCountQuota& q : next->lease) q.counter = std::make_shared<std::atomic<int64_t>>(0);
  Install(std::move(next));
}

std::shared_ptr<std::atomic<int64_t>> QuotaManager::CountExisting(const QuotaRequest& r) {
  const Snapshot& s = Current();
  int i = MostSpecific(Scopes(s.lease), r);
  if (i < 0) return nullptr;
  s.lease[i].counter->fetch_add(1);
  return s.lease[i].counter;
}

Status QuotaManager::Publish(std::unique_ptr<Snapshot> next, const std::string& key, const Json* value) {
  if (!view_) return ::sealbox::Sealed();
  SB_RETURN_IF_ERROR(value ? view_->Put(key, value->dump()) : view_->Delete(key));
  Install(std::move(next));
  return Status::Ok();
}

Status QuotaManager::WriteRateLimit(RateLimitQuota q) {
  std::lock_guard l(write_mu_);
  SB_RETURN_IF_ERROR(CheckUnique(Current().rate, q.scope));
  q.limiter = NewLimiter(q);  // an update starts every client afresh, as Vault
  Json stored = RateJson(q);
  stored["mount"] = q.scope.mount;
  auto next = std::make_unique<Snapshot>(Current());
  Upsert(next->rate, std::move(q));
  return Publish(std::move(next), "rate-limit/" + stored["name"].get<std::string>(), &stored);
}

Status QuotaManager::WriteLeaseCount(LeaseCountQuota q) {
  std::lock_guard l(write_mu_);
  SB_RETURN_IF_ERROR(CheckUnique(Current().lease, q.scope));
  q.counter = std::make_shared<std::atomic<int64_t>>(0);
  Json stored = LeaseJson(q);
  stored["mount"] = q.scope.mount;
  auto next = std::make_unique<Snapshot>(Current());
  Upsert(next->lease, std::move(q));
  return Publish(std::move(next), "lease-count/" + stored["name"].get<std::string>(), &stored);
}

Result<bool> QuotaManager::Delete(QuotaKind kind, const std::string& name) {
  std::lock_guard l(write_mu_);
  auto next = std::make_unique<Snapshot>(Current());
  auto drop = [&](auto& qs) {
    auto before = qs.size();
    qs.erase(std::remove_if(qs.begin(), qs.end(), [&](const auto& q) { return q.scope.name == name; }), qs.end());
    return qs.size() != before;
  };
  bool found = kind == QuotaKind::kRateLimit ? drop(next->rate) : drop(next->lease);
  if (!found) return false;
  SB_RETURN_IF_ERROR(Publish(std::move(next), std::string(KindName(kind)) + "/" + name, nullptr));
  return true;
}

std::optional<Json> QuotaManager::Read(QuotaKind kind, const std::string& name) const {
  const Snapshot& s = Current();
  if (kind == QuotaKind::kRateLimit) {
    const RateLimitQuota* q = Find(s.rate, name);
    if (q) return RateJson(*q);
  } else if (const LeaseCountQuota* q = Find(s.lease, name)) {
    Json j = LeaseJson(*q);
    j["counter"] = q->counter->load();
    return j;
  }
  return std::nullopt;
}

std::vector<std::string> QuotaManager::List(QuotaKind kind) const {
  const Snapshot& s = Current();
  std::vector<std::string> names;
  if (kind == QuotaKind::kRateLimit) {
    for (const auto& q : s.rate) names.push_back(q.scope.name);
  } else {
    for (const auto& q : s.lease) names.push_back(q.scope.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

QuotaConfig QuotaManager::config() const { return Current().config; }

Status QuotaManager::WriteConfig(QuotaConfig c) {
  std::lock_guard l(write_mu_);
  Json stored = {{"enable_rate_limit_audit_logging", c.audit_logging},
                 {"enable_rate_limit_response_headers", c.response_headers},
                 {"rate_limit_exempt_paths", c.exempt_paths}};
  auto next = std::make_unique<Snapshot>(Current());
  next->config = std::move(c);
  return Publish(std::move(next), "config", &stored);
}

}  // namespace sealbox::core
