// Shamir secret sharing over GF(2^8), byte-compatible with HashiCorp Vault's
// shamir package: used to split the root/unseal key into key shares and to
// recombine them on unseal.
//
// Share format (same as Vault): the secret.size() evaluated y bytes followed by
// one x-coordinate byte (1..255, distinct within a split, chosen at random).
//
// Security: field arithmetic is constant time (no tables indexed by secret
// data, no secret-dependent branches; see advisory HCSEC-2023-10), and every
// buffer that holds secret-derived bytes is a SecureBytes, wiped on release.
// Thread-safety: stateless free functions; safe to call from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox::shamir {

// Largest number of shares: x coordinates are one nonzero byte.
inline constexpr int kMaxShares = 255;

// Splits `secret` into `parts` shares, any `threshold` of which recombine it.
// Each share is secret.size() + 1 bytes. parts == 1 with threshold == 1 is
// allowed (the share is the secret plus an x byte). Errors (InvalidArgument):
// parts < 1, threshold > parts, parts > 255, threshold < 2 for multiple
// shares, threshold < 1, or an empty secret.
Result<std::vector<SecureBytes>> Split(const SecureBytes& secret, int parts, int threshold);

// Recombines shares by Lagrange interpolation at x = 0. Shares must all have
// the same length (at least 2 bytes) and distinct x coordinates; at least one
// share is required (one share yields its y bytes, which supports 1-of-1).
// Fewer shares than the split's threshold, or a corrupted share, yields a
// wrong secret rather than an error: callers verify the result (e.g. by
// decrypting the keyring with it).
Result<SecureBytes> Combine(const std::vector<SecureBytes>& shares);

namespace internal {

// GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B).
// Constant-time product.
uint8_t GfMul(uint8_t a, uint8_t b);
// Constant-time multiplicative inverse (a^254); GfInv(0) == 0.
uint8_t GfInv(uint8_t a);

}  // namespace internal

}  // namespace sealbox::shamir
