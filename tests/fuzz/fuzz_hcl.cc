// The HCL parser (configuration files and policies) and the policy parser
// behind it: no crash, no hang, on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/policy.h"
#include "base/hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = sealbox::hcl::Parse(text);
  if (doc.ok() && !doc->is_object()) __builtin_trap();  // a document is always an object
  auto policy = sealbox::auth::ParsePolicy("fuzz", text);
  if (policy.ok()) {
    for (const auto& p : policy->paths) {
      // Deny is exclusive: a deny block carries nothing else.
      if ((p.caps & sealbox::auth::kCapDeny) && p.caps != sealbox::auth::kCapDeny) __builtin_trap();
    }
  }
  return 0;
}
