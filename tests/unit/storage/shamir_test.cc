// Unit tests for storage/shamir: GF(2^8) arithmetic, split/combine round trips
// over thresholds and share subsets, and argument validation.
#include "storage/shamir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/crypto.h"

namespace sealbox::shamir {
namespace {

using internal::GfInv;
using internal::GfMul;

// Schoolbook reference: carry-less product, then reduce mod 0x11B with branches.
uint8_t SlowMul(uint8_t a, uint8_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 8; ++i) {
    if (b & (1u << i)) product ^= static_cast<uint32_t>(a) << i;
  }
  for (int bit = 14; bit >= 8; --bit) {
    if (product & (1u << bit)) product ^= 0x11Bu << (bit - 8);
  }
  return static_cast<uint8_t>(product);
}

SecureBytes RandomSecret(size_t n = 32) { return crypto::RandomBytes(n); }

std::vector<SecureBytes> Pick(const std::vector<SecureBytes>& shares, const std::vector<size_t>& idx) {
  std::vector<SecureBytes> out;
  for (size_t i : idx) out.push_back(shares[i]);
  return out;
}

// Every k-element subset of {0..n-1}, as sorted index lists.
std::vector<std::vector<size_t>> Subsets(size_t n, size_t k) {
  std::vector<std::vector<size_t>> out;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<size_t>(__builtin_popcount(mask)) != k) continue;
    std::vector<size_t> idx;
    for (size_t i = 0; i < n; ++i) {
      if (mask & (1u << i)) idx.push_back(i);
    }
    out.push_back(idx);
  }
  return out;
}

TEST(GfTest, MulMatchesReferenceForAllPairs) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      ASSERT_EQ(GfMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)),
                SlowMul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)))
          << "a=" << a << " b=" << b;
    }
  }
}

TEST(GfTest, MulKnownAnswers) {
  // FIPS-197 section 4.2 examples.
  EXPECT_EQ(GfMul(0x57, 0x83), 0xC1);
  EXPECT_EQ(GfMul(0x57, 0x13), 0xFE);
  EXPECT_EQ(GfMul(0x53, 0xCA), 0x01);
  EXPECT_EQ(GfMul(0x00, 0xFF), 0x00);
  EXPECT_EQ(GfMul(0x01, 0xAB), 0xAB);
}

TEST(GfTest, InverseOfEveryNonzeroElement) {
  EXPECT_EQ(GfInv(0), 0);
  EXPECT_EQ(GfInv(1), 1);
  EXPECT_EQ(GfInv(0x53), 0xCA);
  for (int a = 1; a < 256; ++a) {
    const uint8_t inv = GfInv(static_cast<uint8_t>(a));
    ASSERT_EQ(GfMul(static_cast<uint8_t>(a), inv), 1) << "a=" << a;
  }
}

TEST(ShamirTest, ShareFormat) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.ok()) << shares.status().ToString();
  ASSERT_EQ(shares->size(), 5u);
  std::set<uint8_t> xs;
  for (const SecureBytes& s : *shares) {
    ASSERT_EQ(s.size(), secret.size() + 1);
    const uint8_t x = s[s.size() - 1];
    EXPECT_NE(x, 0);
    xs.insert(x);
  }
  EXPECT_EQ(xs.size(), 5u) << "x coordinates must be distinct";
}

TEST(ShamirTest, KnownAnswerCombine) {
  // f(x) = 0x42 + 0x07 x: f(1) = 0x45, f(2) = 0x42 ^ (0x07 * 2) = 0x4C.
  const std::vector<SecureBytes> shares = {SecureBytes{0x45, 0x01}, SecureBytes{0x4C, 0x02}};
  auto secret = Combine(shares);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_TRUE(secret->Equals(SecureBytes{0x42}));
}

TEST(ShamirTest, RoundTripEveryThresholdAndSubset) {
  for (int n = 1; n <= 10; ++n) {
    for (int t = 1; t <= n; ++t) {
      if (t < 2 && n != 1) continue;
      const SecureBytes secret = RandomSecret();
      auto shares = Split(secret, n, t);
      ASSERT_TRUE(shares.ok()) << "t=" << t << " n=" << n << ": " << shares.status().ToString();
      ASSERT_EQ(shares->size(), static_cast<size_t>(n));

      // Every t-subset recombines (2^10 subsets at most, cheap enough to do all).
      for (const auto& idx : Subsets(n, t)) {
        auto got = Combine(Pick(*shares, idx));
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        ASSERT_TRUE(got->Equals(secret)) << "t=" << t << " n=" << n;
      }
      // More than t shares, in reverse order, also recombine.
      std::vector<SecureBytes> all(shares->rbegin(), shares->rend());
      auto got = Combine(all);
      ASSERT_TRUE(got.ok());
      EXPECT_TRUE(got->Equals(secret)) << "all shares, t=" << t << " n=" << n;

      // t-1 shares give a different value (equal with probability 2^-256).
      if (t >= 2) {
        std::vector<size_t> few;
        for (int i = 0; i < t - 1; ++i) few.push_back(static_cast<size_t>(i));
        auto partial = Combine(Pick(*shares, few));
        ASSERT_TRUE(partial.ok());
        EXPECT_EQ(partial->size(), secret.size());
        EXPECT_FALSE(partial->Equals(secret)) << "t-1 shares, t=" << t << " n=" << n;
      }
    }
  }
}

TEST(ShamirTest, OneOfOneShareIsSecretPlusX) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 1, 1);
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 1u);
  const SecureBytes& share = (*shares)[0];
  ASSERT_EQ(share.size(), secret.size() + 1);
  EXPECT_TRUE(SecureBytes(share.data(), secret.size()).Equals(secret));
  EXPECT_NE(share[secret.size()], 0);
  auto got = Combine(*shares);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->Equals(secret));
}

TEST(ShamirTest, CorruptedYByteChangesSecret) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.ok());
  std::vector<SecureBytes> use = Pick(*shares, {0, 2, 4});
  use[1][7] ^= 0x01;
  auto got = Combine(use);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->Equals(secret));
  // Only the corrupted byte position moves: Lagrange basis values are nonzero.
  for (size_t k = 0; k < secret.size(); ++k) {
    if (k == 7) {
      EXPECT_NE((*got)[k], secret[k]);
    } else {
      EXPECT_EQ((*got)[k], secret[k]) << "k=" << k;
    }
  }
}

TEST(ShamirTest, CorruptedXByteChangesSecret) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 3, 3);
  ASSERT_TRUE(shares.ok());
  std::vector<SecureBytes> use = *shares;
  const size_t xpos = secret.size();
  // Move share 0 to an x coordinate no other share uses.
  uint8_t newx = use[0][xpos];
  do {
    newx = static_cast<uint8_t>(newx % 255 + 1);
  } while (newx == use[1][xpos] || newx == use[2][xpos] || newx == use[0][xpos]);
  use[0][xpos] = newx;
  auto got = Combine(use);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->Equals(secret));
}

TEST(ShamirTest, MaximumShares) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 255, 255);
  ASSERT_TRUE(shares.ok()) << shares.status().ToString();
  ASSERT_EQ(shares->size(), 255u);
  std::set<uint8_t> xs;
  for (const SecureBytes& s : *shares) xs.insert(s[secret.size()]);
  EXPECT_EQ(xs.size(), 255u);
  EXPECT_EQ(xs.count(0), 0u);

  auto got = Combine(*shares);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->Equals(secret));

  std::vector<SecureBytes> fewer(shares->begin() + 1, shares->end());
  auto partial = Combine(fewer);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->Equals(secret));
}

TEST(ShamirTest, LowThresholdManyShares) {
  const SecureBytes secret = RandomSecret(64);
  auto shares = Split(secret, 255, 2);
  ASSERT_TRUE(shares.ok());
  for (size_t i = 0; i + 1 < shares->size(); i += 17) {
    auto got = Combine(Pick(*shares, {i, i + 1}));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->Equals(secret)) << "i=" << i;
  }
}

TEST(ShamirTest, OneByteSecret) {
  const SecureBytes secret{0x00};
  auto shares = Split(secret, 4, 2);
  ASSERT_TRUE(shares.ok());
  auto got = Combine(Pick(*shares, {3, 1}));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->Equals(secret));
}

TEST(ShamirTest, SplitsAreRandomized) {
  const SecureBytes secret = RandomSecret();
  auto a = Split(secret, 3, 2);
  auto b = Split(secret, 3, 2);
  ASSERT_TRUE(a.ok() && b.ok());
  // Same x coordinate in both splits would still differ in y (random coefficients);
  // compare whole share sets, equal with negligible probability.
  bool all_equal = true;
  for (size_t i = 0; i < 3; ++i) all_equal = all_equal && (*a)[i].Equals((*b)[i]);
  EXPECT_FALSE(all_equal);
}

void ExpectInvalid(const Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), message);
}

TEST(ShamirTest, SplitErrors) {
  const SecureBytes secret = RandomSecret();
  ExpectInvalid(Split(secret, 256, 3).status(), "shares must be less than 256");
  ExpectInvalid(Split(secret, 256, 256).status(), "shares must be less than 256");
  ExpectInvalid(Split(secret, 3, 4).status(), "threshold cannot be larger than shares");
  ExpectInvalid(Split(secret, 5, 1).status(), "threshold must be greater than one for multiple shares");
  ExpectInvalid(Split(secret, 5, 0).status(), "threshold must be greater than one for multiple shares");
  ExpectInvalid(Split(secret, 0, 0).status(), "shares must be at least one");
  ExpectInvalid(Split(secret, -1, 1).status(), "shares must be at least one");
  ExpectInvalid(Split(secret, 1, 0).status(), "threshold must be at least one");
  ExpectInvalid(Split(SecureBytes(), 3, 2).status(), "cannot split an empty secret");
  EXPECT_TRUE(Split(secret, 255, 2).ok());
}

TEST(ShamirTest, CombineErrors) {
  const SecureBytes secret = RandomSecret();
  auto shares = Split(secret, 3, 2);
  ASSERT_TRUE(shares.ok());

  ExpectInvalid(Combine({}).status(), "less than two parts cannot be used to reconstruct the secret");

  std::vector<SecureBytes> dup = {(*shares)[0], (*shares)[1], (*shares)[0]};
  ExpectInvalid(Combine(dup).status(), "duplicate part detected");

  // Same x, different y is still a duplicate coordinate.
  std::vector<SecureBytes> dup_x = Pick(*shares, {0, 1});
  dup_x[1][secret.size()] = dup_x[0][secret.size()];
  ExpectInvalid(Combine(dup_x).status(), "duplicate part detected");

  std::vector<SecureBytes> mismatched = Pick(*shares, {0, 1});
  const uint8_t extra = 0x00;
  mismatched[1].Append(&extra, 1);
  ExpectInvalid(Combine(mismatched).status(), "all parts must be the same length");

  ExpectInvalid(Combine({SecureBytes{0x01}, SecureBytes{0x02}}).status(), "parts must be at least two bytes");
}

}  // namespace
}  // namespace sealbox::shamir
