#include "base/crypto.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
  // Nonces come from a per-thread pool of random bytes: never one twice,
  // across many pool refills and in several threads at once.
  std::vector<std::set<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (auto& nonces : seen) {
    threads.emplace_back([&key, &nonces] {
      for (int i = 0; i < 2000; ++i) nonces.insert(crypto::AeadSeal(key, "", "")->substr(0, 12));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& nonces : seen) all.insert(nonces.begin(), nonces.end());
  EXPECT_EQ(all.size(), 8000u);
}

// A forked child never draws the nonces its parent still holds in its pool.
TEST(CryptoTest, ForkedChildDrawsOtherNonces) {
  SecureBytes key = crypto::RandomBytes(32);
  ASSERT_TRUE(crypto::AeadSeal(key, "", "").ok());  // the pool now holds bytes
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string nonce = crypto::AeadSeal(key, "", "")->substr(0, 12);
    _exit(write(fds[1], nonce.data(), nonce.size()) == 12 ? 0 : 1);
  }
  std::string parent = crypto::AeadSeal(key, "", "")->substr(0, 12);
  char buf[12];
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 12);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(std::string(buf, 12), parent);
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

TEST(CryptoTest, HmacLongKeyKnownAnswer) {
  // RFC 4231 test case 6: a 131-byte key is hashed first.
  EXPECT_EQ(crypto::HexEncode(crypto::HmacSha256(std::string(131, '\xaa'),
                                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// The precomputed-state HMAC against OpenSSL's own HMAC() for key lengths
// around the block size and messages of many lengths, reusing one key.
TEST(CryptoTest, HmacKeyMatchesOpenSsl) {
  for (size_t klen : {0, 1, 32, 63, 64, 65, 200}) {
    std::string key(klen, '\0');
    for (size_t i = 0; i < klen; ++i) key[i] = static_cast<char>(i * 7 + 3);
    crypto::HmacSha256Key hk(key);
    for (size_t mlen : {0, 1, 55, 56, 64, 1000}) {
      std::string msg(mlen, 'm');
      unsigned char want[32];
      unsigned int len = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
           msg.size(), want, &len);
      EXPECT_EQ(hk.Sign(msg), std::string(reinterpret_cast<char*>(want), len)) << klen << " " << mlen;
      EXPECT_EQ(crypto::HmacSha256(key, msg), hk.Sign(msg));
      // Split anywhere, the parts sign as their concatenation.
      for (size_t cut : {size_t{0}, mlen / 3, mlen}) {
        uint8_t parts[32];
        hk.SignParts({std::string_view(msg).substr(0, cut), "", std::string_view(msg).substr(cut)}, parts);
        EXPECT_EQ(std::string(reinterpret_cast<char*>(parts), 32), hk.Sign(msg)) << klen << " " << mlen << " " << cut;
      }
    }
  }
}

TEST(CryptoTest, Sha256KnownAnswer) {
  EXPECT_EQ(crypto::HexEncode(crypto::Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
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
  // More than one thread-local pool's worth, so refills are crossed.
  for (int i = 0; i < 1000; ++i) seen.insert(crypto::Uuid());
  EXPECT_EQ(seen.size(), 1000u);
  std::string u = crypto::Uuid();
  EXPECT_EQ(u.size(), 36u);
  EXPECT_EQ(u[8], '-');
  EXPECT_EQ(u[13], '-');
  EXPECT_EQ(u[18], '-');
  EXPECT_EQ(u[23], '-');
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
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

// DumpJson's ASCII fast path must write exactly what nlohmann writes:
// every escape, control characters, DEL, non-ASCII and invalid UTF-8
// (replaced), numbers, nesting.
TEST(JsonUtilTest, DumpMatchesNlohmann) {
  std::string ascii, all;
  for (int c = 0; c < 128; ++c) ascii += static_cast<char>(c);
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::vector<Json> cases = {
      Json(""), Json("plain"), Json(ascii), Json("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f end"), Json(all),
      Json("caf\xc3\xa9 \xe2\x82\xac"), Json("bad \xff\xfe utf8"), Json(std::string("nul\0in", 6)),
      Json(nullptr), Json(true), Json(-12), Json(18446744073709551615ull), Json(0.1), Json(1e300),
      Json::parse(R"({"a":[1,2.5,{"b":"c\n","\u00e9":null}],"k\"ey":{},"z":[]})"),
  };
  Json obj = Json::object();
  for (size_t i = 0; i < cases.size(); ++i) obj[std::string(1, static_cast<char>('a' + i)) + "\x02"] = cases[i];
  cases.push_back(obj);
  cases.push_back(Json::array({obj, cases}));
  for (const Json& j : cases) EXPECT_EQ(DumpJson(j), j.dump(-1, ' ', false, Json::error_handler_t::replace));
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
  EXPECT_EQ(FormatRfc3339Nano(1'700'000'000'123'456'780), "2023-11-14T22:13:20.12345678Z");
  EXPECT_EQ(FormatRfc3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339(951'782'400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(253'402'300'799), "9999-12-31T23:59:59Z");
  // Go's zero time, with RFC 3339's four year digits (strftime writes "1-").
  EXPECT_EQ(FormatRfc3339(-62'135'596'800), "0001-01-01T00:00:00Z");
}

// The arithmetic formatter agrees with gmtime_r + strftime for years
// 1000-9999 (where %Y has four digits), including leap days, century years
// and times before 1970, and falls back to it beyond 9999.
TEST(ClockTest, Rfc3339MatchesStrftime) {
  auto reference = [](int64_t secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  std::vector<int64_t> cases = {0,          -1, 59, 60, 86399, 86400, -86400, -86401, 951'868'799, 4'107'542'400,
                                -30'610'224'000, 253'402'300'799, 253'402'300'800, 300'000'000'000};
  for (int64_t s = -30'000'000'000; s < 253'000'000'000; s += 7'777'777 + s % 13) cases.push_back(s);
  for (int64_t s : cases) ASSERT_EQ(FormatRfc3339(s), reference(s)) << s;
}

}  // namespace
}  // namespace sealbox
