// What one request body may hold (JsonLimits), for JSON and form bodies
// alike; query strings; and the saturating time arithmetic with the duration
// range that TTLs are parsed into.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "base/json_util.h"
#include "base/saturating.h"
#include "base/url_query.h"

namespace sealbox {
namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string MessageOf(std::string_view body, const JsonLimits& limits = {}) {
  auto r = ParseJsonBounded(body, limits);
  return r.ok() ? "ok" : r.status().message();
}

TEST(JsonLimitsTest, EveryValueCountsNotOnlyStrings) {
  JsonLimits l;
  l.max_elements = 100;
  // {"a":[0,...]}: the object, the key, the array and each zero.
  EXPECT_EQ(MessageOf("{\"a\":[" + Repeat("0,", 96) + "0]}", l), "ok");
  EXPECT_EQ(MessageOf("{\"a\":[" + Repeat("0,", 97) + "0]}", l), "JSON input exceeds allowed number of elements");
  for (std::string v : {"null", "true", "1.5", "{}", "[]"})
    EXPECT_EQ(MessageOf("[" + Repeat(v + ",", 100) + v + "]", l), "JSON input exceeds allowed number of elements")
        << v;
  EXPECT_EQ(ParseJsonBounded("[" + Repeat("0,", 200) + "0]", l).status().code(), StatusCode::kTooLarge);
}

TEST(JsonLimitsTest, StringsKeysAndNumbersAreBoundedInSize) {
  JsonLimits l;
  l.max_string_size = 10;
  l.max_key_size = 4;
  EXPECT_EQ(MessageOf(R"({"abcd":"0123456789"})", l), "ok");
  EXPECT_EQ(MessageOf(R"({"abcd":"0123456789X"})", l), "JSON input exceeds allowed string length");
  EXPECT_EQ(MessageOf(R"(["0123456789X"])", l), "JSON input exceeds allowed string length");
  EXPECT_EQ(MessageOf(R"({"abcde":"v"})", l), "JSON input exceeds allowed key length");
  EXPECT_EQ(MessageOf("{\"abcde\" \n\t :1}", l), "JSON input exceeds allowed key length");
  // Escapes count as what they decode to (\uXXXX as up to 3 bytes).
  EXPECT_EQ(MessageOf(R"(["\n\n\n\n\n\n\n\n\n\n"])", l), "ok");
  EXPECT_EQ(MessageOf(R"(["\"\"\"\"\"\"\"\"\"\"\""])", l), "JSON input exceeds allowed string length");
  EXPECT_EQ(MessageOf(R"(["\u00e9\u00e9\u00e9"])", l), "ok");
  EXPECT_EQ(MessageOf(R"(["\u00e9\u00e9\u00e9\u00e9"])", l), "JSON input exceeds allowed string length");
  EXPECT_EQ(MessageOf("[1" + std::string(1100, '0') + "]"), "JSON input exceeds allowed number length");
  EXPECT_EQ(MessageOf("[1" + std::string(300, '0') + "]"), "ok");
  // An unterminated string is still malformed, not over a limit.
  EXPECT_EQ(MessageOf(R"({"a":"abc)", l), "error parsing JSON");
}

TEST(JsonLimitsTest, DepthAndStringCountStillHold) {
  EXPECT_EQ(MessageOf(Repeat("[", 101) + Repeat("]", 101)), "JSON input exceeds allowed nesting depth");
  std::string many = "{";
  for (int i = 0; i < 600; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  EXPECT_EQ(MessageOf(many + "}"), "JSON input exceeds allowed number of strings");
}

TEST(FormLimitsTest, PairsCountAsKeysAndStrings) {
  JsonLimits l;
  auto form = ParseFormBounded("key=abc%20d&x=1&key=2&flag&&=v", l);
  ASSERT_TRUE(form.ok()) << form.status().message();
  EXPECT_EQ(*form, (Json{{"key", "abc d"}, {"x", "1"}, {"flag", ""}, {"", "v"}}));
  l.max_strings = 10;  // 5 pairs
  EXPECT_TRUE(ParseFormBounded(Repeat("a=1&", 5), l).ok());
  EXPECT_EQ(ParseFormBounded(Repeat("a=1&", 6), l).status().message(),
            "JSON input exceeds allowed number of strings");
  l.max_strings = 1000;
  l.max_elements = 6;
  EXPECT_EQ(ParseFormBounded(Repeat("a&", 4), l).status().message(), "JSON input exceeds allowed number of elements");
  l.max_elements = 10000;
  l.max_key_size = 3;
  l.max_string_size = 5;
  EXPECT_TRUE(ParseFormBounded("abc=12345", l).ok());
  EXPECT_EQ(ParseFormBounded("abcd=1", l).status().message(), "JSON input exceeds allowed key length");
  EXPECT_EQ(ParseFormBounded("a=123456", l).status().code(), StatusCode::kTooLarge);
}

TEST(QueryTest, DecodesAndTheFirstValueWins) {
  auto q = ParseQuery("a=1&b=x+y%21&a=2&c&=e&%ZZ=%4");
  EXPECT_EQ(q, (std::map<std::string, std::string>{{"a", "1"}, {"b", "x y!"}, {"c", ""}, {"", "e"}, {"%ZZ", "%4"}}));
  EXPECT_EQ(PercentDecode("a+b%2Fc", false), "a+b/c");
  std::string seen;
  ForEachQueryPair("k=v&&flag&=x", [&](std::string_view k, std::string_view v, bool has) {
    seen += std::string(k) + (has ? "=" : "") + std::string(v) + ";";
  });
  EXPECT_EQ(seen, "k=v;flag;=x;");
}

TEST(SaturatingTest, SticksAtTheBounds) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(SaturatingAdd(kMax, 1), kMax);
  EXPECT_EQ(SaturatingAdd(kMin, -1), kMin);
  EXPECT_EQ(SaturatingAdd(40, 2), 42);
  EXPECT_EQ(SaturatingMul(kMax, 2), kMax);
  EXPECT_EQ(SaturatingMul(kMax, -2), kMin);
  EXPECT_EQ(SaturatingMul(-6, 7), -42);
  EXPECT_EQ(SecondsToNanos(kMax), kMax);
  EXPECT_EQ(SecondsToNanos(3), 3'000'000'000);
  const int64_t now = 1'790'000'000'000'000'000;
  EXPECT_EQ(AddSeconds(now, kMaxDurationSeconds), kMax);
  EXPECT_EQ(AddSeconds(now, 60), now + 60'000'000'000);
}

TEST(DurationTest, LongerThanGoHoldsIsRefused) {
  EXPECT_EQ(*JsonToDurationSeconds(Json(kMaxDurationSeconds)), kMaxDurationSeconds);
  EXPECT_EQ(*JsonToDurationSeconds(Json("2562047h")), int64_t{2562047} * 3600);
  for (Json v : {Json(std::numeric_limits<int64_t>::max()), Json(kMaxDurationSeconds + 1), Json("999999999999h"),
                 Json("2562048h"), Json("9223372036854775807"), Json(-kMaxDurationSeconds - 1)}) {
    auto r = JsonToDurationSeconds(v);
    EXPECT_EQ(r.ok() ? "ok" : r.status().message(), "invalid duration") << v.dump();
  }
}

}  // namespace
}  // namespace sealbox
