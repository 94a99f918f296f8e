// EncodeKeyMeta / DecodeKeyMeta against the general path they replace
// (EncodeObject(meta.ToJson()), DecodeObject + KeyMeta::FromJson): the same
// bytes out, the same metadata back, and no answer for any other shape.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engines/kv/kv_v2_meta.h"

namespace sealbox::engines::kv {
namespace {

// Integers at every boundary of MessagePack's forms, signed and unsigned.
std::vector<int64_t> Boundaries() {
  std::vector<int64_t> v = {0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                            1'733'500'000'123'456'789LL, std::numeric_limits<int64_t>::max()};
  for (int64_t x : std::vector<int64_t>(v)) v.push_back(-x);
  for (int64_t x : {-31LL, -33LL, -128LL, -129LL, -32768LL, -32769LL, -2147483648LL, -2147483649LL})
    v.push_back(x);
  v.push_back(std::numeric_limits<int64_t>::min());
  return v;
}

std::vector<KeyMeta> SampleMetas() {
  std::vector<KeyMeta> out;
  std::mt19937_64 rng(18);
  const auto ints = Boundaries();
  auto pick = [&] { return ints[rng() % ints.size()]; };
  for (int i = 0; i < 300; ++i) {
    KeyMeta m;
    m.key_id = std::string(1 + rng() % 40, 'a' + static_cast<char>(i % 26));
    m.created = pick();
    m.updated = pick();
    m.current = static_cast<uint64_t>(pick());
    m.oldest = static_cast<uint64_t>(pick());
    m.max_versions = static_cast<uint64_t>(pick());
    m.cas_required = rng() % 2;
    m.delete_version_after = pick();
    if (i % 3 == 1) m.custom_metadata = Json{{"owner", "team-a"}, {std::string(40, 'k'), std::string(300, 'v')}};
    if (i % 3 == 2) m.custom_metadata = Json::object();
    size_t versions = i % 7 == 0 ? 20 : rng() % 12;  // 9 and 10 sort as "10" < "9"
    for (size_t n = 0; n < versions; ++n)
      m.versions[n * (i % 5 == 0 ? 1000003 : 1) + 1] = VersionMeta{pick(), pick(), rng() % 2 == 1};
    out.push_back(std::move(m));
  }
  return out;
}

TEST(KvV2MetaCodecTest, WritesTheBytesOfTheJsonPath) {
  for (const KeyMeta& m : SampleMetas()) ASSERT_EQ(EncodeKeyMeta(m), EncodeObject(m.ToJson())) << m.ToJson().dump();
}

TEST(KvV2MetaCodecTest, ReadsWhatTheJsonPathReads) {
  for (const KeyMeta& m : SampleMetas()) {
    std::string raw = EncodeObject(m.ToJson());
    auto fast = DecodeKeyMeta(raw);
    ASSERT_TRUE(fast) << m.ToJson().dump();
    auto slow = KeyMeta::FromJson(*DecodeObject(raw, "kv metadata"));
    ASSERT_TRUE(slow.ok());
    EXPECT_EQ(fast->ToJson(), slow->ToJson());
    EXPECT_EQ(fast->ToJson().dump(), m.ToJson().dump());
  }
}

TEST(KvV2MetaCodecTest, AnswersNothingForOtherShapes) {
  KeyMeta m = NewKeyMeta(1'733'500'000'000'000'000LL);
  m.versions[1] = VersionMeta{1, 0, false};
  const std::string good = EncodeKeyMeta(m);
  ASSERT_TRUE(DecodeKeyMeta(good));
  Json j = m.ToJson();
  auto with = [&](const char* field, Json v) {
    Json c = j;
    c[field] = std::move(v);
    return EncodeObject(c);
  };
  std::vector<std::string> others = {
      j.dump(),                                             // JSON text
      good.substr(0, good.size() - 1),                      // truncated
      good + '\xc0',                                        // trailing bytes
      with("unknown", 1),                                   // a field it does not know
      with("created_time", 1.5),                            // a float
      with("current_version", -1),                          // a negative version
      with("custom_metadata", Json{{"n", 1}}),              // custom metadata not all strings
      with("key_id", ""),                                   // no key id
      with("versions", Json{{"01", j["versions"]["1"]}}),   // a version name with a leading zero
      with("versions", Json{{"x", j["versions"]["1"]}}),    // a version name not a number
  };
  Json no_id = j;
  no_id.erase("key_id");
  others.push_back(EncodeObject(no_id));
  for (const auto& raw : others) EXPECT_FALSE(DecodeKeyMeta(raw)) << Json::from_msgpack(raw, true, false).dump();
}

}  // namespace
}  // namespace sealbox::engines::kv
