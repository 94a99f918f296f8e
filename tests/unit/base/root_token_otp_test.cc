#include "base/root_token_otp.h"

#include <gtest/gtest.h>

namespace sealbox {
namespace {

// A pair from OpenBao 2.7.2's sys/generate-root (its tokens are 26 bytes).
TEST(RootTokenOtpTest, DecodesWhatOpenBaoEncoded) {
  auto token = root_token::Decode("QmcjOggzJzU8CRgZCB8mYh5ncx5MHBctGXw", "1IpwdRoRwcBwdjnSj7BJ6mqwjE");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(*token, "s.SMlaHgKjZnluH1tP1TzqfZs9");
}

TEST(RootTokenOtpTest, EncodesAsOpenBaoDoesWithoutPadding) {
  auto enc = root_token::Encode("s.SMlaHgKjZnluH1tP1TzqfZs9", "1IpwdRoRwcBwdjnSj7BJ6mqwjE");
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, "QmcjOggzJzU8CRgZCB8mYh5ncx5MHBctGXw");
}

TEST(RootTokenOtpTest, RoundTripsAVaultLengthToken) {
  const std::string otp = root_token::GenerateOtp();
  ASSERT_EQ(otp.size(), root_token::kOtpLength);
  const std::string token = "hvs.abcdefghijklmnopqrstuvwx";
  auto enc = root_token::Encode(token, otp);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(enc->find('='), std::string::npos);
  EXPECT_NE(*enc, token);
  auto dec = root_token::Decode(*enc, otp);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, token);
  // Padding added by a client is accepted.
  auto padded = root_token::Decode(*enc + "=", otp);
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(*padded, token);
}

TEST(RootTokenOtpTest, RefusesMismatchedLengthsAndBadBase64) {
  EXPECT_FALSE(root_token::Encode("hvs.short", root_token::GenerateOtp()).ok());
  EXPECT_FALSE(root_token::Decode("QmcjOggzJzU8CRgZCB8mYh5ncx5MHBctGXw", "tooshort").ok());
  EXPECT_FALSE(root_token::Decode("not base64 at all!", "1IpwdRoRwcBwdjnSj7BJ6mqwjE").ok());
}

TEST(RootTokenOtpTest, OtpsDiffer) { EXPECT_NE(root_token::GenerateOtp(), root_token::GenerateOtp()); }

}  // namespace
}  // namespace sealbox
