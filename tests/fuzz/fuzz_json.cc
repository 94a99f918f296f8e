// ParseJsonBounded with the server's default limits: never crashes, never
// builds a document past its limits (depth, elements), its fast path
// (ParseSimpleJson) answers only as nlohmann's parser does, and DumpJson of what it accepts never
// throws, is byte-identical to nlohmann's own dump (DumpJson has a fast path
// for ASCII strings) and parses back to the same document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/json_simple_parse.h"
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

// Equal, with the same type at every level (1u == 1 in Json).
bool Same(const sealbox::Json& a, const sealbox::Json& b) {
  if (a.type() != b.type() || a != b) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!Same(it.value(), b.at(it.key()))) return false;
  } else if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (!Same(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sealbox::JsonLimits limits;  // the server's defaults: depth 100, 1,000 strings, 10,000 elements
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto simple = sealbox::ParseSimpleJson(text, limits)) {
    sealbox::Json full = sealbox::Json::parse(text, nullptr, false);
    if (full.is_discarded() || !Same(*simple, full)) __builtin_trap();
  }
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
