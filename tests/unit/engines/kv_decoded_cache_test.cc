// DecodedCache, and KV v2's metadata reads through it: a cached decode is
// only ever returned for the exact bytes storage holds now.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/clock.h"
#include "engines/kv/decoded_cache.h"
#include "engines/kv/register.h"
#include "logical/backend.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {
namespace {

TEST(DecodedCacheTest, HitsOnlyOnTheSameBytes) {
  DecodedCache<int> cache;
  EXPECT_FALSE(cache.Find("k", "raw-1"));
  cache.Remember("k", "raw-1", 1);
  ASSERT_TRUE(cache.Find("k", "raw-1"));
  EXPECT_EQ(*cache.Find("k", "raw-1"), 1);
  // The entry changed in storage: the old decode is never handed out.
  EXPECT_FALSE(cache.Find("k", "raw-2"));
  EXPECT_FALSE(cache.Find("k", "raw-"));
  cache.Remember("k", "raw-2", 2);
  EXPECT_EQ(*cache.Find("k", "raw-2"), 2);
  EXPECT_FALSE(cache.Find("k", "raw-1"));
}

TEST(DecodedCacheTest, KeepsNoLargeEntry) {
  DecodedCache<int> cache;
  std::string big(DecodedCache<int>::kMaxRawBytes + 1, 'x');
  cache.Remember("k", big, 1);
  EXPECT_FALSE(cache.Find("k", big));
  std::string fits(DecodedCache<int>::kMaxRawBytes, 'x');
  cache.Remember("k", fits, 2);
  EXPECT_EQ(*cache.Find("k", fits), 2);
}

// Two backends on one storage (as after a snapshot restore, or another writer):
// each sees the other's writes at once, whatever it decoded before.
TEST(KvV2MetadataCacheTest, ReadsFollowStorageWrittenElsewhere) {
  auto storage = NewInMemStorage();
  FakeClock clock;
  logical::BackendConfig cfg;
  cfg.storage = storage.get();
  cfg.type = "kv";
  cfg.mount_path = "secret/";
  cfg.options = Json{{"version", "2"}};
  cfg.clock = &clock;
  auto a = Factory()(cfg);
  auto b = Factory()(cfg);
  ASSERT_TRUE(a.ok() && b.ok());
  auto run = [&](logical::Backend& be, logical::Operation op, Json data) {
    logical::Request req;
    req.op = op;
    req.path = "data/app";
    req.data = std::move(data);
    req.storage = storage.get();
    auto r = be.HandleRequest(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->data ? *r->data : Json();
  };
  using logical::Operation;
  run(**a, Operation::kCreate, {{"data", {{"v", "one"}}}});
  EXPECT_EQ(run(**a, Operation::kRead, Json::object())["metadata"]["version"], 1);
  run(**b, Operation::kUpdate, {{"data", {{"v", "two"}}}});
  Json seen = run(**a, Operation::kRead, Json::object());
  EXPECT_EQ(seen["metadata"]["version"], 2);
  EXPECT_EQ(seen["data"]["v"], "two");
  // a writes on top of b's version, not of the one it decoded first.
  EXPECT_EQ(run(**a, Operation::kUpdate, {{"data", {{"v", "three"}}}})["version"], 3);
  EXPECT_EQ(run(**b, Operation::kRead, Json::object())["metadata"]["version"], 3);
}

}  // namespace
}  // namespace sealbox::engines::kv
