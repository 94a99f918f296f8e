// Quota rejections, under Vault's names: vault.quota.rate_limit.violation
// and vault.quota.lease_count.violation, one series per quota (label
// "name"). The quota code looks a quota's counter up once, when the quota
// is created or loaded, keeps the reference, and calls Add() on every
// request it refuses: a relaxed atomic add, no lookup, no lock.
#pragma once

#include <string>

#include "metrics/counter.h"
#include "metrics/registry.h"

namespace sealbox::metrics {

enum class QuotaKind { kRateLimit, kLeaseCount };

// The rejection counter of quota `name` in `registry` (the process's by
// default). Valid as long as the registry; a deleted quota's series stays.
Counter& QuotaViolations(QuotaKind kind, const std::string& name, Registry& registry = DefaultRegistry());

}  // namespace sealbox::metrics
