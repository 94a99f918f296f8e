// Shamir: any threshold-sized subset of the shares of a random secret
// combines back to it; combining arbitrary bytes never crashes.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/shamir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    std::vector<sealbox::SecureBytes> shares;
    size_t n = in.ConsumeIntegralInRange<size_t>(0, 8);
    for (size_t i = 0; i < n; ++i) shares.emplace_back(std::string_view(in.ConsumeRandomLengthString(40)));
    (void)sealbox::shamir::Combine(shares);
    return 0;
  }
  int parts = in.ConsumeIntegralInRange<int>(1, 12);
  int threshold = in.ConsumeIntegralInRange<int>(1, parts);
  if (parts > 1 && threshold == 1) threshold = 2;
  std::string secret_bytes = in.ConsumeRandomLengthString(64);
  if (secret_bytes.empty()) secret_bytes = "x";
  sealbox::SecureBytes secret{std::string_view(secret_bytes)};
  auto shares = sealbox::shamir::Split(secret, parts, threshold);
  if (!shares.ok()) return 0;
  if (static_cast<int>(shares->size()) != parts) __builtin_trap();
  // A subset of exactly `threshold` shares, picked by the input.
  std::vector<sealbox::SecureBytes> pick(shares->begin(), shares->end());
  for (size_t i = pick.size(); i > 1; --i) std::swap(pick[i - 1], pick[in.ConsumeIntegralInRange<size_t>(0, i - 1)]);
  pick.resize(static_cast<size_t>(threshold));
  auto back = sealbox::shamir::Combine(pick);
  if (!back.ok() || !back->Equals(secret)) __builtin_trap();
  return 0;
}
