#include "auth/token_ttl.h"

#include "base/clock.h"
#include "base/saturating.h"

namespace sealbox::auth {
namespace {

// Vault's framework.humanDuration: Go's Duration.String without the zero
// units it ends in ("3h0m0s" -> "3h", "1h30m0s" -> "1h30m"), as its TTL
// warnings print durations.
std::string HumanDuration(int64_t seconds) {
  std::string s = GoDurationString(seconds);
  if (s.size() > 3 && s.ends_with("m0s")) s.resize(s.size() - 2);
  if (size_t h = s.find("h0m"); h != std::string::npos && h > 0) s.erase(h + 1, 2);
  return s;
}

}  // namespace

Result<int64_t> CalculateTtl(int64_t sys_default, int64_t sys_max, int64_t increment, int64_t backend_ttl,
                             int64_t period, int64_t backend_max, int64_t explicit_max, int64_t start_nanos,
                             int64_t now_nanos, std::vector<std::string>* warnings) {
  int64_t max_ttl = sys_max;
  if (backend_max > 0 && (max_ttl <= 0 || backend_max < max_ttl)) max_ttl = backend_max;
  if (explicit_max > 0 && (max_ttl <= 0 || explicit_max < max_ttl)) max_ttl = explicit_max;
  if (max_ttl <= 0) return Internal("max TTL must be greater than zero");
  if (start_nanos == 0) start_nanos = now_nanos;

  int64_t ttl = 0;
  int64_t max_valid_time = 0;  // nanos; 0 = unbounded
  if (period > 0) {
    if (period > max_ttl) {
      warnings->push_back("period of \"" + HumanDuration(period) + "\" exceeded the effective max_ttl of \"" +
                          HumanDuration(max_ttl) + "\"; period value is capped accordingly");
      period = max_ttl;
    }
    ttl = period;
    if (explicit_max > 0) max_valid_time = AddSeconds(start_nanos, explicit_max);
  } else {
    ttl = increment > 0 ? increment : backend_ttl > 0 ? backend_ttl : sys_default;
    max_valid_time = AddSeconds(start_nanos, max_ttl);
  }
  if (max_valid_time != 0) {
    int64_t max_valid = max_valid_time - now_nanos;
    if (max_valid <= 0) return InvalidArgument("past the max TTL, cannot renew");
    if (max_valid < SecondsToNanos(ttl)) {
      int64_t capped = max_valid / kNanosPerSecond;
      warnings->push_back("TTL of \"" + HumanDuration(ttl) + "\" exceeded the effective max_ttl of \"" +
                          HumanDuration(capped) + "\"; TTL value is capped accordingly");
      ttl = capped;
    }
  }
  return ttl;
}

}  // namespace sealbox::auth
