// Token lifetimes: Vault's framework.CalculateTTL, shared by token creation
// and renewal. Thread-safe: a pure function of its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox::auth {

// The mount's (or the system's) default and maximum lease TTLs, in seconds.
struct TtlDefaults {
  int64_t default_ttl = 0;
  int64_t max_ttl = 0;
};

// Vault's framework.CalculateTTL, in seconds. `start_nanos` is the lease's
// issue time; `warnings` receives Vault's capping warnings. Errors with
// "past the max TTL, cannot renew" when the max is already behind us.
Result<int64_t> CalculateTtl(int64_t sys_default, int64_t sys_max, int64_t increment, int64_t backend_ttl,
                             int64_t period, int64_t backend_max, int64_t explicit_max, int64_t start_nanos,
                             int64_t now_nanos, std::vector<std::string>* warnings);

}  // namespace sealbox::auth
