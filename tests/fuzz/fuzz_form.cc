// Form bodies (application/x-www-form-urlencoded) under the JSON limits. The
// first two bytes pick small limits so they are reached; the rest is the
// body. What must hold: a refusal is only ever TooLarge; an accepted body is
// exactly what the unbounded query parser gives, and within every limit.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/url_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  sealbox::JsonLimits limits;
  limits.max_strings = 2 + data[0] % 64;
  limits.max_elements = 2 + data[0] / 4;
  limits.max_key_size = data[1] % 32;
  limits.max_string_size = data[1] / 4;
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto form = sealbox::ParseFormBounded(body, limits);
  if (!form.ok()) {
    if (form.status().code() != sealbox::StatusCode::kTooLarge) __builtin_trap();
    return 0;
  }
  const auto reference = sealbox::ParseQuery(body);
  if (!form->is_object() || form->size() != reference.size()) __builtin_trap();
  if (2 * form->size() > limits.max_strings || 2 * form->size() > limits.max_elements) __builtin_trap();
  for (const auto& [k, v] : reference) {
    auto it = form->find(k);
    if (it == form->end() || !it->is_string() || *it != v) __builtin_trap();
    if (k.size() > limits.max_key_size || v.size() > limits.max_string_size) __builtin_trap();
  }
  return 0;
}
