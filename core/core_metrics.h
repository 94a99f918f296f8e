// The core's metrics under Vault's names: request and login latency, the
// per-mount route timers, audit failures, lease revocation; and, computed at
// scrape time, the seal state, the lease and token counts (refreshed at most
// once per telemetry usage_gauge_period) and each audit device's chain
// position. The request path only adds to sharded counters and histograms
// looked up once (a route's timer is cached in its RouteEntry).
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "logical/request.h"
#include "metrics/registry.h"

namespace sealbox::core {

struct RouteEntry;

class CoreMetrics {
 public:
  CoreMetrics();

  metrics::Histogram& handle_request;
  metrics::Histogram& handle_login_request;
  metrics::Counter& audit_request_failure;
  metrics::Counter& audit_response_failure;

  // vault.route.<op>.<mount path, '/' as '-'>, as Vault's router names it.
  static metrics::Histogram* RouteTimer(RouteEntry& entry, logical::Operation op);
};

// The usage gauges (vault.token.count, vault.expire.num_leases): counted by
// listing storage, so recounted only when the last count is older than the
// period.
class UsageGauges {
 public:
  struct Counts {
    double tokens = 0;
    double leases = 0;
  };
  explicit UsageGauges(int64_t period_s) : period_s_(period_s) {}
  // The counts, recounted with `count` if stale (one caller counts at a time).
  template <typename CountFn>
  Counts Get(int64_t now_s, CountFn&& count) {
    std::lock_guard l(mu_);
    if (!valid_ || now_s - counted_at_ >= period_s_) {
      if (count(&counts_)) {
        valid_ = true;
        counted_at_ = now_s;
      }
    }
    return counts_;
  }
  void Invalidate() {
    std::lock_guard l(mu_);
    valid_ = false;
  }

 private:
  const int64_t period_s_;
  std::mutex mu_;
  Counts counts_;          // guarded by mu_
  bool valid_ = false;     // guarded by mu_
  int64_t counted_at_ = 0; // guarded by mu_
};

}  // namespace sealbox::core
