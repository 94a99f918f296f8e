#include "core/core_metrics.h"

#include <algorithm>

#include "core/core_impl.h"
#include "core/quota_events.h"
#include "metrics/quota.h"
#include "core/router.h"

namespace sealbox::core {
namespace {

metrics::Registry& R() { return metrics::DefaultRegistry(); }

// Quota refusals (core/quota_events.h) under Vault's names, one series per
// quota. The lookup takes the registry's lock, but only on a refusal (a 429),
// never on a request that passes.
void CountQuotaRejection(QuotaKind kind, std::string_view quota_name) {
  metrics::QuotaViolations(kind == QuotaKind::kRateLimit ? metrics::QuotaKind::kRateLimit
                                                         : metrics::QuotaKind::kLeaseCount,
                           std::string(quota_name))
      .Add();
}

}  // namespace

CoreMetrics::CoreMetrics()
    : handle_request(R().GetHistogram("vault.core.handle_request", "Time to handle a non-login request (ms)")),
      handle_login_request(R().GetHistogram("vault.core.handle_login_request", "Time to handle a login (ms)")),
      audit_request_failure(R().GetCounter("vault.audit.log_request_failure",
                                           "Requests no audit device could record (refused with 500)")),
      audit_response_failure(R().GetCounter("vault.audit.log_response_failure",
                                            "Responses no audit device could record (withheld, 500)")) {
  SetQuotaRejectionObserver(&CountQuotaRejection);
}

metrics::Histogram* CoreMetrics::RouteTimer(RouteEntry& entry, logical::Operation op) {
  auto& slot = entry.route_timers[static_cast<size_t>(op)];
  metrics::Histogram* h = slot.load(std::memory_order_acquire);
  if (h) return h;
  std::string mount = entry.mount.RoutePath();
  std::replace(mount.begin(), mount.end(), '/', '-');
  h = &R().GetHistogram("vault.route." + std::string(logical::OperationName(op)) + "." + mount,
                        "Time the mount's backend took (ms)");
  slot.store(h, std::memory_order_release);  // racing callers store the same pointer
  return h;
}

}  // namespace sealbox::core

// ---- Scrape time ----

namespace sealbox::core {

void CoreImpl::CollectGauges(metrics::SampleSink& sink) {
  std::shared_lock l(state_mu_);  // shared again by a sys/metrics request: the gate allows it
  const bool unsealed = !sealed_.load();
  sink.Gauge("vault.core.unsealed", "1 while the vault is unsealed", unsealed ? 1 : 0,
             {{"cluster", unsealed ? cluster_name_ : ""}});
  if (!unsealed) {
    usage_.Invalidate();
  }
  if (!unsealed || options_.usage_gauge_period_s <= 0) return;
  auto counts = usage_.Get(options_.clock->NowSeconds(), [&](UsageGauges::Counts* c) {
    auto tokens = tokens_->ListAccessors();
    auto leases = ListRecursive(*expire_view_, "id/");
    if (!tokens.ok() || !leases.ok()) return false;
    c->tokens = static_cast<double>(tokens->size());
    c->leases = static_cast<double>(leases->size());
    return true;
  });
  sink.Gauge("vault.token.count", "Service tokens in storage (recounted every usage_gauge_period)", counts.tokens,
             {{"cluster", cluster_name_}, {"namespace", "root"}});
  sink.Gauge("vault.expire.num_leases", "Leases in storage (recounted every usage_gauge_period)", counts.leases);
  for (const auto& [path, position] : audit_.ChainPositions())
    sink.Gauge("sealbox.audit.chain_position", "Lines the audit device has chained since it opened",
               static_cast<double>(position), {{"path", path}});
}

}  // namespace sealbox::core
