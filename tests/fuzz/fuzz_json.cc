// ParseJsonBounded with the server's default limits: never crashes, never
// builds a document past its limits (depth, elements), and DumpJson of what it accepts never
// throws, is byte-identical to nlohmann's own dump (DumpJson has a fast path
// for ASCII strings) and parses back to the same document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_util.h"

namespace {

size_t Depth(const sealbox::Json& j) {
  size_t d = 0;
  if (j.is_object() || j.is_array())
    for (const auto& e : j) d = std::max(d, Depth(e));
  return (j.is_object() || j.is_array()) ? d + 1 : 0;
}

// Values and keys, as JsonLimits::max_elements counts them.
size_t Elements(const sealbox::Json& j) {
  size_t n = 1;
  if (j.is_object())
    for (const auto& e : j) n += 1 + Elements(e);
  if (j.is_array())
    for (const auto& e : j) n += Elements(e);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sealbox::JsonLimits limits;  // the server's defaults: depth 100, 1,000 strings, 10,000 elements
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = sealbox::ParseJsonBounded(text, limits);
  if (!r.ok()) return 0;
  if (Depth(*r) > limits.max_depth || Elements(*r) > limits.max_elements) __builtin_trap();
  std::string dumped = sealbox::DumpJson(*r);
  if (dumped != r->dump(-1, ' ', false, sealbox::Json::error_handler_t::replace)) __builtin_trap();
  auto again = sealbox::ParseJsonBounded(dumped, limits);
  if (!again.ok() || *again != *r) {
    // Invalid UTF-8 is replaced on output, so only valid documents must round-trip.
    if (dumped.find("\xef\xbf\xbd") == std::string::npos) __builtin_trap();
  }
  return 0;
}
