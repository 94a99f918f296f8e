// Gauge: a value set now and then (not per request). Set and Value are
// relaxed atomic stores and loads of the value's bits.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>

namespace sealbox::metrics {

class Gauge {
 public:
  void Set(double v) { bits_.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed); }
  double Value() const { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<uint64_t> bits_{std::bit_cast<uint64_t>(0.0)};
};

}  // namespace sealbox::metrics
