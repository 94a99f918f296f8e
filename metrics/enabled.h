// The switch for recording on the request path (telemetry
// `filter_default = false` turns it off, as Vault's filter drops every
// metric; scrape-time gauges are still reported): one relaxed load per use.
#pragma once

#include <atomic>

namespace sealbox::metrics {

inline std::atomic<bool>& EnabledFlag() {
  static std::atomic<bool> enabled{true};
  return enabled;
}
inline bool Enabled() { return EnabledFlag().load(std::memory_order_relaxed); }
inline void SetEnabled(bool on) { EnabledFlag().store(on, std::memory_order_relaxed); }

}  // namespace sealbox::metrics
