#include "base/crypto.h"

#include <gtest/gtest.h>

#include <set>

#include "base/clock.h"
#include "base/json_util.h"

namespace sealbox {
namespace {

TEST(CryptoTest, AeadRoundTripAndAad) {
  SecureBytes key = crypto::RandomBytes(32);
  auto sealed = crypto::AeadSeal(key, "plain", "aad");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), 12 + 5 + 16u);
  auto open = crypto::AeadOpen(key, *sealed, "aad");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->view(), "plain");
  EXPECT_FALSE(crypto::AeadOpen(key, *sealed, "other").ok());
  EXPECT_FALSE(crypto::AeadOpen(crypto::RandomBytes(32), *sealed, "aad").ok());
  EXPECT_FALSE(crypto::AeadOpen(key, sealed->substr(0, 10), "aad").ok());
}

TEST(CryptoTest, NoncesDiffer) {
  SecureBytes key = crypto::RandomBytes(32);
  EXPECT_NE(*crypto::AeadSeal(key, "same", ""), *crypto::AeadSeal(key, "same", ""));
}

TEST(CryptoTest, HexAndBase64) {
  EXPECT_EQ(crypto::HexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(crypto::HexDecode("01AB")->view(), "\x01\xab");
  EXPECT_FALSE(crypto::HexDecode("0").ok());
  EXPECT_FALSE(crypto::HexDecode("zz").ok());
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(crypto::Base64Decode(crypto::Base64Encode(s))->view(), s);
    EXPECT_EQ(crypto::Base64UrlDecode(crypto::Base64UrlEncode(s))->view(), s);
  }
  EXPECT_EQ(crypto::Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(crypto::Base64Encode("fo"), "Zm8=");
  EXPECT_FALSE(crypto::Base64Decode("Zm9v!mFy").ok());
}

TEST(CryptoTest, HmacKnownAnswer) {
  // RFC 4231 test case 2.
  EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(crypto::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "ab"));
}

TEST(CryptoTest, RandomBase62AndUuid) {
  std::string s = crypto::RandomBase62(100);
  EXPECT_EQ(s.size(), 100u);
  for (char c : s) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(crypto::Uuid());
  EXPECT_EQ(seen.size(), 100u);
  std::string u = crypto::Uuid();
  EXPECT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
}

TEST(SecureBytesTest, WipeAndCompare) {
  SecureBytes a(std::string_view("secret"));
  SecureBytes b = a;
  EXPECT_TRUE(a.Equals(b));
  b.Wipe();
  EXPECT_TRUE(b.empty());
  SecureBytes c = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(c.view(), "secret");
}

TEST(JsonUtilTest, BoundedParse) {
  EXPECT_TRUE(ParseJsonBounded(R"({"a":[1,2,{"b":"c"}]})", {}).ok());
  EXPECT_EQ(ParseJsonBounded("{bad", {}).status().message(), "error parsing JSON");
  std::string deep(150, '[');
  deep += std::string(150, ']');
  EXPECT_EQ(ParseJsonBounded(deep, {}).status().code(), StatusCode::kTooLarge);
  std::string many = "[";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + "\"x\"";
  many += "]";
  EXPECT_EQ(ParseJsonBounded(many, {}).status().code(), StatusCode::kTooLarge);
}

TEST(JsonUtilTest, WeakTypes) {
  EXPECT_EQ(*JsonToInt(Json("42")), 42);
  EXPECT_FALSE(JsonToInt(Json("4x")).ok());
  EXPECT_TRUE(*JsonToBool(Json("true")));
  EXPECT_FALSE(*JsonToBool(Json("0")));
  EXPECT_EQ(*JsonToDurationSeconds(Json("1h30m")), 5400);
  EXPECT_EQ(*JsonToDurationSeconds(Json("768h")), 2764800);
  EXPECT_EQ(*JsonToDurationSeconds(Json(60)), 60);
  EXPECT_EQ(*JsonToDurationSeconds(Json("90")), 90);
  EXPECT_FALSE(JsonToDurationSeconds(Json("1y")).ok());
  EXPECT_EQ(*JsonToStringList(Json("a, b,,c")), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ClockTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(1'500'000'000), "1970-01-01T00:00:01.5Z");
}

}  // namespace
}  // namespace sealbox
