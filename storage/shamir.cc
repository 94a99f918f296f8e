#include "storage/shamir.h"

#include <array>
#include <cstddef>
#include <utility>

#include "base/crypto.h"

namespace sealbox::shamir {

namespace internal {

uint8_t GfMul(uint8_t a, uint8_t b) {
  // Bit-serial ("Russian peasant") product. Every step runs for every input and
  // selects with all-ones/all-zeros masks, so timing and memory access do not
  // depend on a or b (HCSEC-2023-10: Vault's log/exp tables leaked via cache).
  uint32_t x = a;
  uint32_t y = b;
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) {
    r ^= x & (0u - (y & 1u));                // add x if the low bit of y is set
    const uint32_t carry = 0u - (x >> 7);    // all ones if x overflows on shift
    x = ((x << 1) ^ (0x11Bu & carry)) & 0xFFu;  // x *= 2 mod the AES polynomial
    y >>= 1;
  }
  return static_cast<uint8_t>(r);
}

uint8_t GfInv(uint8_t a) {
  // a^254 == a^-1 in GF(2^8) (the group of units has order 255), and 0^254 == 0.
  // 254 = 2 + 4 + ... + 128: multiply together seven successive squares. The
  // exponent is public, so the fixed loop leaks nothing about a.
  uint8_t square = a;
  uint8_t result = 1;
  for (int i = 0; i < 7; ++i) {
    square = GfMul(square, square);
    result = GfMul(result, square);
  }
  return result;
}

}  // namespace internal

namespace {

using internal::GfInv;
using internal::GfMul;

// Uniform integer in [0, bound), 1 <= bound <= 256, by rejection sampling so the
// x-coordinate permutation is unbiased. Not secret: x bytes are stored in shares.
size_t RandomBelow(size_t bound) {
  const size_t limit = 256 - (256 % bound);  // largest multiple of bound <= 256
  while (true) {
    uint8_t b = 0;
    crypto::RandomFill(&b, 1);
    if (b < limit) return b % bound;
  }
}

}  // namespace

Result<std::vector<SecureBytes>> Split(const SecureBytes& secret, int parts, int threshold) {
  // Checks follow Vault's order so equivalent bad requests fail the same way.
  if (parts < 1) return InvalidArgument("shares must be at least one");
  if (parts < threshold) return InvalidArgument("threshold cannot be larger than shares");
  if (parts > kMaxShares) return InvalidArgument("shares must be less than 256");
  if (parts > 1 && threshold < 2) {
    return InvalidArgument("threshold must be greater than one for multiple shares");
  }
  if (threshold < 1) return InvalidArgument("threshold must be at least one");
  if (secret.empty()) return InvalidArgument("cannot split an empty secret");

  const size_t n = static_cast<size_t>(parts);
  const size_t len = secret.size();
  const size_t degree = static_cast<size_t>(threshold) - 1;

  // Distinct random x coordinates: the first n entries of a Fisher-Yates shuffle
  // of 1..255 (x = 0 would be the secret itself).
  std::array<uint8_t, kMaxShares> xs;
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<uint8_t>(i + 1);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i + RandomBelow(xs.size() - i);
    std::swap(xs[i], xs[j]);
  }

  // One polynomial per secret byte: intercept = that byte, the other `degree`
  // coefficients uniformly random. coeffs[k * degree + d] is the coefficient of
  // x^(d+1) for byte k. Empty (no randomness needed) for 1-of-1.
  SecureBytes coeffs(len * degree);
  if (!coeffs.empty()) crypto::RandomFill(coeffs.data(), coeffs.size());

  std::vector<SecureBytes> shares;
  shares.reserve(n);
  for (size_t s = 0; s < n; ++s) {
    const uint8_t x = xs[s];
    SecureBytes share(len + 1);
    for (size_t k = 0; k < len; ++k) {
      // Horner's rule from the highest coefficient down to the intercept.
      const uint8_t* c = coeffs.data() + k * degree;
      uint8_t acc = 0;
      for (size_t d = degree; d > 0; --d) acc = GfMul(acc, x) ^ c[d - 1];
      share[k] = GfMul(acc, x) ^ secret[k];
    }
    share[len] = x;
    shares.push_back(std::move(share));
  }
  return shares;
}

Result<SecureBytes> Combine(const std::vector<SecureBytes>& shares) {
  if (shares.empty()) {
    return InvalidArgument("less than two parts cannot be used to reconstruct the secret");
  }
  const size_t len = shares[0].size();
  for (const SecureBytes& share : shares) {
    if (share.size() != len) return InvalidArgument("all parts must be the same length");
  }
  if (len < 2) return InvalidArgument("parts must be at least two bytes");

  // x coordinates are public (stored in the clear in each share), so branching
  // on them here is fine.
  std::array<bool, 256> seen{};
  for (const SecureBytes& share : shares) {
    const uint8_t x = share[len - 1];
    if (seen[x]) return InvalidArgument("duplicate part detected");
    seen[x] = true;
  }

  // Lagrange basis at 0 for each share: l_i(0) = prod_{j != i} x_j / (x_i - x_j),
  // where subtraction is XOR. It depends only on the x values, so compute it once
  // per share rather than once per byte.
  const size_t n = shares.size();
  std::vector<uint8_t> basis(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t xi = shares[i][len - 1];
    uint8_t num = 1;
    uint8_t den = 1;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const uint8_t xj = shares[j][len - 1];
      num = GfMul(num, xj);
      den = GfMul(den, xi ^ xj);
    }
    basis[i] = GfMul(num, GfInv(den));
  }

  // secret[k] = sum_i l_i(0) * y_i[k]; accumulate straight into the wiped output.
  SecureBytes secret(len - 1);
  for (size_t i = 0; i < n; ++i) {
    const SecureBytes& share = shares[i];
    for (size_t k = 0; k + 1 < len; ++k) secret[k] ^= GfMul(basis[i], share[k]);
  }
  return secret;
}

}  // namespace sealbox::shamir
