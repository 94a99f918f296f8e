#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sealbox {
namespace {

std::string Nlohmann(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Members written one by one give the bytes nlohmann dumps for the same
// tree: escapes, non-ASCII, invalid UTF-8 (replaced), integer extremes,
// nested containers and empty ones.
TEST(JsonWriterTest, WritesWhatNlohmannDumps) {
  const std::string odd = std::string("q\"b\\s/\b\f\n\r\t\x01\x1f") + "\xc3\xa9" + "\xff";
  const int64_t min = std::numeric_limits<int64_t>::min(), max = std::numeric_limits<int64_t>::max();
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.PlainKey("a").Int(min);
  w.PlainKey("b").Int(max);
  w.PlainKey("c").Bool(true);
  w.PlainKey("d").Bool(false);
  w.PlainKey("e").StringList({});
  w.PlainKey("f").StringList({"x", odd});
  w.PlainKey("g").BeginObject();
  w.EndObject();
  w.PlainKey("h").BeginArray();
  w.BeginObject();
  w.Key(odd).String(odd);
  w.EndObject();
  w.Int(0);
  w.EndArray();
  w.PlainKey("i").Value(Json{{"n", nullptr}, {"x", 1.5}, {"y", Json::array({1, "2"})}});
  w.PlainKey("j").String("");
  w.EndObject();

  const Json tree = {{"a", min},
                     {"b", max},
                     {"c", true},
                     {"d", false},
                     {"e", Json::array()},
                     {"f", {"x", odd}},
                     {"g", Json::object()},
                     {"h", Json::array({Json{{odd, odd}}, 0})},
                     {"i", {{"n", nullptr}, {"x", 1.5}, {"y", Json::array({1, "2"})}}},
                     {"j", ""}};
  EXPECT_EQ(out, Nlohmann(tree));
  EXPECT_EQ(out, DumpJson(tree));
}

// Scalars written without nlohmann's serializer: every integer type and
// extreme, booleans and null; floats still go through it.
TEST(JsonWriterTest, DumpsScalarsAsNlohmann) {
  const Json scalars = Json::array({std::numeric_limits<uint64_t>::max(), uint64_t{0}, int64_t{-7}, int64_t{0},
                                    std::numeric_limits<int64_t>::min(), true, false, nullptr, -0.0, 1e300, 0.1});
  EXPECT_EQ(DumpJson(scalars), Nlohmann(scalars));
  for (const Json& j : scalars) EXPECT_EQ(DumpJson(j), Nlohmann(j));
}

// Strings scanned eight bytes at a time: each special byte (control, quote,
// backslash, 0x7f, non-ASCII) at every offset of strings of every length
// around the word size.
TEST(JsonWriterTest, EscapesASpecialByteAtAnyOffset) {
  for (char special : {'\x01', '\x1f', '"', '\\', '\x7f', ' ', '~', '\xc3', '\xff'}) {
    for (size_t len = 1; len <= 26; ++len) {
      for (size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = special;
        ASSERT_EQ(DumpJson(Json(s)), Nlohmann(Json(s))) << int(special) << " at " << at << " of " << len;
      }
    }
  }
}

// An object that got no member is taken back with its key, and the next
// member's comma follows what was written before it.
TEST(JsonWriterTest, EmptyObjectIsTakenBackWithItsKey) {
  std::string out = "prefix:";
  JsonWriter w(out);
  w.BeginObject();
  w.PlainKey("a").Int(1);
  JsonWriter::Mark before = w.mark();
  w.PlainKey("empty").BeginObject();
  EXPECT_FALSE(w.EndObjectOrRewind(before));
  before = w.mark();
  w.PlainKey("full").BeginObject();
  w.PlainKey("x").Int(2);
  EXPECT_TRUE(w.EndObjectOrRewind(before));
  w.PlainKey("z").Int(3);
  w.EndObject();
  EXPECT_EQ(out, R"(prefix:{"a":1,"full":{"x":2},"z":3})");
}

// A first member taken back leaves no comma before the next one.
TEST(JsonWriterTest, RewindOfFirstMemberLeavesNoComma) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  const JsonWriter::Mark before = w.mark();
  w.PlainKey("gone").BeginObject();
  w.PlainKey("inner").BeginObject();
  w.PlainKey("x").String("1");
  w.Rewind(before);
  w.PlainKey("kept").String("v");
  w.EndObject();
  EXPECT_EQ(out, R"({"kept":"v"})");
}

// Text the caller writes itself is separated like any value; Key escapes
// what PlainKey would copy.
TEST(JsonWriterTest, RawValuesAndEscapedKeys) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  w.RawValue() += R"({"id":"root"})";
  w.RawValue() += "\"hmac\"";
  w.BeginObject();
  w.Key("a\"b").Int(1);
  w.EndObject();
  w.EndArray();
  EXPECT_EQ(out, R"([{"id":"root"},"hmac",{"a\"b":1}])");
}

}  // namespace
}  // namespace sealbox
