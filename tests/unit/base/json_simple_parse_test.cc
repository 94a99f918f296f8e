// ParseSimpleJson against nlohmann's parser, which it stands in for on
// common bodies: the same Json with the same number types whenever it
// answers, an answer for the bodies clients send, and none where nlohmann
// must decide (escapes, fractions, limits, malformed text).
#include "base/json_simple_parse.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/unit/base/expect_same_json.h"
#include <vector>

namespace sealbox {
namespace {

// Random JSON text: mostly what the fast path takes, sometimes what it must
// leave (escapes, UTF-8, fractions, big or negative-zero integers), with
// random whitespace and repeated keys.
std::string RandomText(std::mt19937_64& rng, int depth) {
  static const char* kAtoms[] = {"0",     "7",        "-7",          "123456789012345678", "1234567890123456789",
                                 "-0",    "1.5",      "2e3",         "true",               "false",
                                 "null",  "\"\"",     "\"plain\"",   "\"a b/c:d,e{f}\"",   "\"esc\\\"aped\"",
                                 "\"\\u00e9\"", "\"h\xc3\xa9\"", "\"tab\tin\"", "01", "-"};
  static const char* kSpace[] = {"", " ", "\n", "\t ", "\r\n"};
  auto sp = [&] { return std::string(kSpace[rng() % std::size(kSpace)]); };
  int kind = rng() % (depth < 4 ? 4 : 2);
  if (kind < 2) return sp() + kAtoms[rng() % std::size(kAtoms)] + sp();
  std::string out = kind == 2 ? "[" : "{";
  size_t n = rng() % 6;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ",";
    if (kind == 3) out += sp() + "\"k" + std::to_string(rng() % 4) + "\"" + sp() + ":";
    out += RandomText(rng, depth + 1);
  }
  return out + sp() + (kind == 2 ? "]" : "}");
}

TEST(JsonSimpleParseTest, AnswersAsNlohmannDoes) {
  std::mt19937_64 rng(18);
  int answered = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text = RandomText(rng, 0);
    auto fast = ParseSimpleJson(text, JsonLimits{});
    if (!fast) continue;
    ++answered;
    Json full = Json::parse(text, nullptr, false);
    ASSERT_FALSE(full.is_discarded()) << text;
    test_util::ExpectSameJson(*fast, full);
  }
  EXPECT_GT(answered, 1000);  // the generator reaches the fast path often
}

TEST(JsonSimpleParseTest, TakesTheBodiesClientsSend) {
  for (const std::string& text : std::vector<std::string>{R"({"data":{"password":"s3cr3t-value","n":-12,"ok":true,"none":null}})",
                           R"( { "options" : { "cas" : 0 } , "data" : { "k" : [ 1 , "two" , [] , {} ] } } )",
                           std::string("{\"data\":{\"password\":\"") + std::string(1000, 'x') + "\"}}",
                           "[\"del\x7f in a string, and quotes after a long run: 0123456789abcdef\",\"\"]"}) {
    auto fast = ParseSimpleJson(text, JsonLimits{});
    ASSERT_TRUE(fast) << text;
    test_util::ExpectSameJson(*fast, Json::parse(text));
  }
}

TEST(JsonSimpleParseTest, LeavesTheRestToTheFullParser) {
  for (const std::string& text : std::vector<std::string>{"", " ", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{}x", "tru", "nul", "\"open",
                           "\xef\xbb\xbf{}", "{\"a\":\"\\n\"}", "{\"a\":1.0}", "{\"a\":1e2}", "{\"a\":-0}",
                           "{\"a\":0123}", "{\"a\":1234567890123456789}", "{\"a\":\"\xc3\xa9\"}",
                           std::string("{\"a\":\"x\0y\"}", 12), "{'a':1}"}) {
    EXPECT_FALSE(ParseSimpleJson(text, JsonLimits{})) << text;
  }
}

TEST(JsonSimpleParseTest, LeavesLimitsToTheFullParser) {
  JsonLimits l;
  l.max_depth = 2;
  EXPECT_TRUE(ParseSimpleJson("[[1]]", l));
  EXPECT_FALSE(ParseSimpleJson("[[[1]]]", l));
  l = JsonLimits{};
  l.max_elements = 3;  // the array, then each item
  EXPECT_TRUE(ParseSimpleJson("[1,2]", l));
  EXPECT_FALSE(ParseSimpleJson("[1,2,3]", l));
  l = JsonLimits{};
  l.max_strings = 2;  // keys and string values
  EXPECT_TRUE(ParseSimpleJson(R"({"a":"b"})", l));
  EXPECT_FALSE(ParseSimpleJson(R"({"a":"b","c":1})", l));
  // Over a limit, ParseJsonBounded still names it.
  EXPECT_EQ(ParseJsonBounded(R"({"a":"b","c":1})", l).status().message(),
            "JSON input exceeds allowed number of strings");
}

}  // namespace
}  // namespace sealbox
