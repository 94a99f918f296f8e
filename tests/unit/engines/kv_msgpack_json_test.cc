// ReadMsgpackJson against nlohmann's from_msgpack, the reader it stands in
// for: the same values with the same number types, and no answer where
// nlohmann must decide (bin, ext, malformed input).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "engines/kv/msgpack_reader.h"
#include "tests/unit/base/expect_same_json.h"

namespace sealbox::engines::kv {
namespace {

Json RandomValue(std::mt19937_64& rng, int depth) {
  static const int64_t kInts[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                  -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL,
                                  std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  static const size_t kLengths[] = {0, 1, 31, 32, 255, 256, 1000, 65535, 65536};
  switch (rng() % (depth < 4 ? 9 : 6)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return kInts[rng() % std::size(kInts)];
    case 3: return static_cast<uint64_t>(kInts[rng() % std::size(kInts)]);
    case 4: return static_cast<double>(rng() % 100000) / 7.0;
    case 5: return std::string(kLengths[rng() % std::size(kLengths)], static_cast<char>('a' + rng() % 26));
    case 6: {
      Json a = Json::array();
      for (size_t n = rng() % 20; n > 0; --n) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (size_t n = rng() % 20; n > 0; --n) o[std::to_string(rng() % 50)] = RandomValue(rng, depth + 1);
      return o;
    }
  }
}

TEST(KvMsgpackJsonTest, ReadsWhatNlohmannReads) {
  std::mt19937_64 rng(18);
  for (int i = 0; i < 500; ++i) {
    Json j = RandomValue(rng, 0);
    std::string raw;
    Json::to_msgpack(j, raw);
    auto fast = ReadMsgpackJson(raw);
    ASSERT_TRUE(fast) << j.dump();
    test_util::ExpectSameJson(*fast, Json::from_msgpack(raw));
  }
}

TEST(KvMsgpackJsonTest, SignedAndFloatFormsKeepNlohmannsTypes) {
  // int8 5, uint8 5, float32 1.5, negative fixint -3, in an array.
  const std::string raw("\x94\xd0\x05\xcc\x05\xca\x3f\xc0\x00\x00\xfd", 11);
  auto fast = ReadMsgpackJson(raw);
  ASSERT_TRUE(fast);
  test_util::ExpectSameJson(*fast, Json::from_msgpack(raw));
  EXPECT_TRUE((*fast)[0].is_number_integer() && !(*fast)[0].is_number_unsigned());
  EXPECT_TRUE((*fast)[1].is_number_unsigned());
}

TEST(KvMsgpackJsonTest, LeavesOtherInputToNlohmann) {
  std::string good;
  Json::to_msgpack(Json{{"data", {{"password", std::string(40, 'x')}}}}, good);
  ASSERT_TRUE(ReadMsgpackJson(good));
  EXPECT_FALSE(ReadMsgpackJson(good.substr(0, good.size() - 1)));       // truncated
  EXPECT_FALSE(ReadMsgpackJson(good + '\xc0'));                         // trailing bytes
  EXPECT_FALSE(ReadMsgpackJson(std::string("\x81\x01\xc0", 3)));        // a key not a string
  EXPECT_FALSE(ReadMsgpackJson(std::string("\xc4\x01\x00", 3)));        // bin
  EXPECT_FALSE(ReadMsgpackJson(std::string("\xd4\x01\x00", 3)));        // fixext
  EXPECT_FALSE(ReadMsgpackJson(std::string("\xdd\xff\xff\xff\xff", 5)));  // an array longer than its bytes
  EXPECT_FALSE(ReadMsgpackJson(std::string(200, '\x91') + '\xc0'));     // nested deeper than 128
  EXPECT_FALSE(ReadMsgpackJson(""));
}

}  // namespace
}  // namespace sealbox::engines::kv
