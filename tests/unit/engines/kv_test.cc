// Unit tests of the KV v1, KV v2 and cubbyhole backends, driven with
// logical::Request directly over in-memory storage and a fake clock.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "logical/backend.h"
#include "engines/kv/kv_common.h"
#include "engines/kv/register.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

class FakeMountView final : public logical::MountView {
 public:
  int64_t DefaultLeaseTtl() const override { return 3600; }
  int64_t MaxLeaseTtl() const override { return 7200; }
  size_t MaxEntrySize() const override { return max_entry; }
  size_t max_entry = 4096;
};

class KvTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = NewInMemStorage(); }

  std::unique_ptr<logical::Backend> Make(const std::string& type, const std::string& version) {
    logical::BackendConfig cfg;
    cfg.storage = storage_.get();
    cfg.type = type;
    cfg.mount_path = type == "cubbyhole" ? "cubbyhole/" : "secret/";
    cfg.uuid = "uuid-1";
    cfg.accessor = type + "_12345678";
    cfg.options = version.empty() ? Json(nullptr) : Json{{"version", version}};
    cfg.clock = &clock_;
    cfg.mount = &mount_;
    auto r = type == "cubbyhole" ? CubbyholeFactory()(cfg) : Factory()(cfg);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // Runs one request the way core does: existence check turns update into
  // create when the target is missing.
  Result<Response> Do(logical::Backend& b, Operation op, const std::string& path, Json data = Json::object(),
                      const std::string& storage_id = "tokenA") {
    Request req;
    req.op = op;
    req.path = path;
    req.data = std::move(data);
    req.storage = storage_.get();
    logical::TokenInfo ti;
    ti.storage_id = storage_id;
    req.token = ti;
    if (op == Operation::kUpdate) {
      auto e = b.ExistenceCheck(req);
      if (!e.ok()) return e.status();
      if (e->has_value() && !**e) req.op = Operation::kCreate;
    }
    last_op_ = req.op;
    return b.HandleRequest(req);
  }

  // The status api/ would send for a successful Response (204/200/404 rules).
  static int HttpStatus(const Response& r, Operation op) {
    if (r.http_status) return r.http_status;
    if (r.IsEmpty()) return (op == Operation::kRead || op == Operation::kList) ? 404 : 204;
    if (op == Operation::kList && r.warnings.empty()) {
      if (!r.data || !r.data->contains("keys") || (*r.data)["keys"].empty()) return 404;
    }
    return 200;
  }

  Json Put2(logical::Backend& b, const std::string& key, Json data, Json options = nullptr) {
    Json body = {{"data", std::move(data)}};
    if (!options.is_null()) body["options"] = std::move(options);
    auto r = Do(b, Operation::kUpdate, "data/" + key, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->data ? *r->data : Json();
  }

  size_t CountKeys(const std::string& prefix) {
    auto keys = ListRecursive(*storage_, prefix);
    return keys.ok() ? keys->size() : 0;
  }

  std::unique_ptr<Storage> storage_;
  FakeClock clock_;
  FakeMountView mount_;
  Operation last_op_ = Operation::kRead;
};

// ---------------- KV v1 ----------------

TEST_F(KvTest, V1WriteReadListDelete) {
  auto b = Make("kv", "1");
  auto w = Do(*b, Operation::kUpdate, "app/db", {{"password", "p"}, {"nested", {{"x", 1}}}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(last_op_, Operation::kCreate);
  EXPECT_EQ(HttpStatus(*w, Operation::kCreate), 204);

  auto r = Do(*b, Operation::kRead, "app/db");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->data)["password"], "p");
  EXPECT_EQ((*r->data)["nested"]["x"], 1);
  ASSERT_TRUE(r->secret.has_value());
  EXPECT_EQ(r->secret->lease_id, "");
  EXPECT_FALSE(r->secret->renewable);
  EXPECT_EQ(r->secret->ttl, 3600);  // mount default when no ttl key

  ASSERT_TRUE(Do(*b, Operation::kUpdate, "app/z", {{"a", "b"}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "app/sub/deep", {{"a", "b"}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "top", {{"a", "b"}}).ok());
  auto l = Do(*b, Operation::kList, "app/");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l->data)["keys"], Json({"db", "sub/", "z"}));
  auto root = Do(*b, Operation::kList, "");
  EXPECT_EQ((*root->data)["keys"], Json({"app/", "top"}));
  auto none = Do(*b, Operation::kList, "nothing/");
  EXPECT_EQ(HttpStatus(*none, Operation::kList), 404);

  // Overwrite replaces (no merge).
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "app/db", {{"user", "u"}}).ok());
  EXPECT_EQ(last_op_, Operation::kUpdate);
  r = Do(*b, Operation::kRead, "app/db");
  EXPECT_FALSE(r->data->contains("password"));

  auto d = Do(*b, Operation::kDelete, "app/db");
  EXPECT_EQ(HttpStatus(*d, Operation::kDelete), 204);
  r = Do(*b, Operation::kRead, "app/db");
  EXPECT_EQ(HttpStatus(*r, Operation::kRead), 404);
  // Deleting a missing key is still 204.
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kDelete, "app/db"), Operation::kDelete), 204);
}

TEST_F(KvTest, V1TtlHintAndBadInput) {
  auto b = Make("kv", "");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "a", {{"ttl", "1h"}, {"v", 1}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "b", {{"lease", 90}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "c", {{"ttl", "not a duration"}}).ok());
  EXPECT_EQ(Do(*b, Operation::kRead, "a")->secret->ttl, 3600);
  EXPECT_EQ((*Do(*b, Operation::kRead, "a")->data)["ttl"], "1h");  // the key stays in data
  EXPECT_EQ(Do(*b, Operation::kRead, "b")->secret->ttl, 90);
  EXPECT_EQ(Do(*b, Operation::kRead, "c")->secret->ttl, 3600);
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "d", {{"ttl", "30m"}}).ok());
  EXPECT_EQ(Do(*b, Operation::kRead, "d")->secret->ttl, 1800);

  auto empty = Do(*b, Operation::kUpdate, "e", Json::object());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "missing data fields");
}

TEST_F(KvTest, V1SizeLimitWritesNothing) {
  auto b = Make("kv", "1");
  auto r = Do(*b, Operation::kUpdate, "big", {{"v", std::string(5000, 'x')}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(CountKeys(""), 0u);
}

TEST_F(KvTest, V1RecursiveList) {
  auto b = Make("kv", "1");
  for (const char* k : {"a", "b/c", "b/d/e", "f"}) ASSERT_TRUE(Do(*b, Operation::kUpdate, k, {{"v", 1}}).ok());
  auto r = Do(*b, Operation::kList, "", {{"recursive", "true"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->data)["keys"], Json({"a", "b/c", "b/d/e", "f"}));
  r = Do(*b, Operation::kList, "b/", {{"recursive", "true"}, {"limit", "1"}});
  EXPECT_EQ((*r->data)["keys"], Json({"c"}));
  EXPECT_EQ((*r->data)["next_after"], "c");
}

// ---------------- KV v2 ----------------

TEST_F(KvTest, V2VersionsAndReadShapes) {
  auto b = Make("kv", "2");
  Json w1 = Put2(*b, "app", {{"foo", "bar"}});
  EXPECT_EQ(last_op_, Operation::kCreate);
  EXPECT_EQ(w1["version"], 1);
  EXPECT_EQ(w1["deletion_time"], "");
  EXPECT_EQ(w1["destroyed"], false);
  EXPECT_TRUE(w1["custom_metadata"].is_null());
  EXPECT_EQ(w1["created_time"], FormatRfc3339Nano(clock_.NowNanos()));
  clock_.AdvanceSeconds(1);
  Json w2 = Put2(*b, "app", {{"foo", "baz"}});
  EXPECT_EQ(last_op_, Operation::kUpdate);
  EXPECT_EQ(w2["version"], 2);

  auto r = Do(*b, Operation::kRead, "data/app");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(HttpStatus(*r, Operation::kRead), 200);
  EXPECT_EQ((*r->data)["data"], Json({{"foo", "baz"}}));
  EXPECT_EQ((*r->data)["metadata"]["version"], 2);
  EXPECT_FALSE(r->secret.has_value());  // v2 reads carry no lease_duration

  r = Do(*b, Operation::kRead, "data/app", {{"version", "1"}});
  EXPECT_EQ((*r->data)["data"]["foo"], "bar");
  EXPECT_EQ((*r->data)["metadata"]["version"], 1);

  // Missing key, missing version: plain 404.
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kRead, "data/nope"), Operation::kRead), 404);
  auto miss = Do(*b, Operation::kRead, "data/app", {{"version", 7}});
  EXPECT_TRUE(miss->IsEmpty());

  auto bad = Do(*b, Operation::kUpdate, "data/app", {{"options", {{"cas", 2}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "no data provided");
}

TEST_F(KvTest, V2CheckAndSet) {
  auto b = Make("kv", "2");
  // cas:0 means "create only".
  Put2(*b, "k", {{"a", 1}}, {{"cas", 0}});
  auto again = Do(*b, Operation::kUpdate, "data/k", {{"data", {{"a", 2}}}, {"options", {{"cas", 0}}}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.status().message(), "check-and-set parameter did not match the current version");
  // The cas may be a numeric string.
  EXPECT_EQ(Put2(*b, "k", {{"a", 2}}, {{"cas", "1"}})["version"], 2);
  auto junk = Do(*b, Operation::kUpdate, "data/k", {{"data", {{"a", 3}}}, {"options", {{"cas", "x"}}}});
  EXPECT_EQ(junk.status().message(), "error parsing check-and-set parameter");

  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"cas_required", true}}).ok());
  auto req = Do(*b, Operation::kUpdate, "data/k", {{"data", {{"a", 3}}}});
  EXPECT_EQ(req.status().message(), "check-and-set parameter required for this call");
  EXPECT_EQ(Put2(*b, "k", {{"a", 3}}, {{"cas", 2}})["version"], 3);

  // Key-level cas_required with the mount not requiring it.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"cas_required", false}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "metadata/k2", {{"cas_required", true}}).ok());
  auto req2 = Do(*b, Operation::kUpdate, "data/k2", {{"data", {{"a", 1}}}});
  EXPECT_EQ(req2.status().message(), "check-and-set parameter required for this call");
  // Metadata written before any data: current_version is 0, so cas:0 works.
  EXPECT_EQ(Put2(*b, "k2", {{"a", 1}}, {{"cas", 0}})["version"], 1);

  // A soft-deleted current version still counts for CAS.
  ASSERT_TRUE(Do(*b, Operation::kDelete, "data/k2").ok());
  auto stale = Do(*b, Operation::kUpdate, "data/k2", {{"data", {{"a", 1}}}, {"options", {{"cas", 0}}}});
  EXPECT_FALSE(stale.ok());
  EXPECT_EQ(Put2(*b, "k2", {{"a", 1}}, {{"cas", 1}})["version"], 2);
}

TEST_F(KvTest, V2PatchMergesAndDeletesKeys) {
  auto b = Make("kv", "2");
  Put2(*b, "p", {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"gone", "x"}});
  auto r = Do(*b, Operation::kPatch, "data/p", {{"data", {{"b", {{"c", nullptr}, {"e", 4}}}, {"gone", nullptr}, {"n", "y"}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r->data)["version"], 2);
  auto rd = Do(*b, Operation::kRead, "data/p");
  EXPECT_EQ((*rd->data)["data"], Json({{"a", 1}, {"b", {{"d", 3}, {"e", 4}}}, {"n", "y"}}));

  // Missing key: 404 with an empty body.
  auto miss = Do(*b, Operation::kPatch, "data/missing", {{"data", {{"a", 1}}}});
  ASSERT_TRUE(miss.ok());
  EXPECT_EQ(miss->http_status, 404);
  EXPECT_FALSE(miss->data.has_value());
  EXPECT_TRUE(miss->warnings.empty());

  // Deleted current version: 404 with the flat version metadata.
  ASSERT_TRUE(Do(*b, Operation::kDelete, "data/p").ok());
  auto del = Do(*b, Operation::kPatch, "data/p", {{"data", {{"a", 1}}}});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->http_status, 404);
  EXPECT_EQ((*del->data)["version"], 2);
  EXPECT_NE((*del->data)["deletion_time"], "");

  auto nodata = Do(*b, Operation::kPatch, "data/p", Json::object());
  EXPECT_EQ(nodata.status().message(), "no data provided");
  auto cas = Do(*b, Operation::kPatch, "data/p", {{"data", {{"a", 1}}}, {"options", {{"cas", 7}}}});
  EXPECT_EQ(cas.status().message(), "check-and-set parameter did not match the current version");
}

TEST_F(KvTest, V2SoftDeleteUndeleteDestroyShapes) {
  auto b = Make("kv", "2");
  Put2(*b, "s", {{"v", 1}});
  Put2(*b, "s", {{"v", 2}});
  Put2(*b, "s", {{"v", 3}});

  // DELETE data/: soft-deletes the latest.
  auto d = Do(*b, Operation::kDelete, "data/s");
  EXPECT_EQ(HttpStatus(*d, Operation::kDelete), 204);
  auto r = Do(*b, Operation::kRead, "data/s");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->http_status, 404);
  EXPECT_TRUE((*r->data)["data"].is_null());
  EXPECT_EQ((*r->data)["metadata"]["version"], 3);
  EXPECT_EQ((*r->data)["metadata"]["deletion_time"], FormatRfc3339Nano(clock_.NowNanos()));
  EXPECT_EQ((*r->data)["metadata"]["destroyed"], false);
  // Older versions are still readable.
  EXPECT_EQ((*Do(*b, Operation::kRead, "data/s", {{"version", 2}})->data)["data"]["v"], 2);

  // delete/ with a CSV string, undelete/ with an array.
  EXPECT_EQ(Do(*b, Operation::kUpdate, "delete/s", Json::object()).status().message(), "No version number provided");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "delete/s", {{"versions", "1,2"}}).ok());
  EXPECT_EQ(Do(*b, Operation::kRead, "data/s", {{"version", 1}})->http_status, 404);
  EXPECT_EQ(Do(*b, Operation::kUpdate, "undelete/s", Json::object()).status().message(),
            "No version number provided");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "undelete/s", {{"versions", {1, 3, 99}}}).ok());
  r = Do(*b, Operation::kRead, "data/s");
  EXPECT_EQ(HttpStatus(*r, Operation::kRead), 200);
  EXPECT_EQ((*r->data)["metadata"]["deletion_time"], "");
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kRead, "data/s", {{"version", 1}}), Operation::kRead), 200);
  EXPECT_EQ(Do(*b, Operation::kRead, "data/s", {{"version", 2}})->http_status, 404);

  // destroy/: 404 with destroyed:true, data gone from storage.
  EXPECT_EQ(Do(*b, Operation::kUpdate, "destroy/s", Json::object()).status().message(), "no version number provided");
  size_t before = CountKeys("versions/");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "destroy/s", {{"versions", {3}}}).ok());
  EXPECT_EQ(CountKeys("versions/"), before - 1);
  r = Do(*b, Operation::kRead, "data/s");
  EXPECT_EQ(r->http_status, 404);
  EXPECT_EQ((*r->data)["metadata"]["destroyed"], true);
  EXPECT_TRUE((*r->data)["data"].is_null());
  // Undelete does not bring a destroyed version back.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "undelete/s", {{"versions", {3}}}).ok());
  EXPECT_EQ(Do(*b, Operation::kRead, "data/s")->http_status, 404);

  auto md = Do(*b, Operation::kRead, "metadata/s");
  Json versions = (*md->data)["versions"];
  EXPECT_EQ(versions["3"]["destroyed"], true);
  EXPECT_EQ(versions["2"]["deletion_time"], FormatRfc3339Nano(clock_.NowNanos()));

  // All of them are 204 on a missing key.
  for (const char* p : {"delete/none", "undelete/none", "destroy/none"})
    EXPECT_EQ(HttpStatus(*Do(*b, Operation::kUpdate, p, {{"versions", {1}}}), Operation::kUpdate), 204);
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kDelete, "data/none"), Operation::kDelete), 204);
}

TEST_F(KvTest, V2PurgesBeyondMaxVersions) {
  auto b = Make("kv", "2");
  for (int i = 1; i <= 9; ++i) Put2(*b, "m", {{"i", i}});
  EXPECT_EQ((*Do(*b, Operation::kRead, "metadata/m")->data)["oldest_version"], 0);
  Put2(*b, "m", {{"i", 10}});  // the max_versions-th write
  EXPECT_EQ((*Do(*b, Operation::kRead, "metadata/m")->data)["oldest_version"], 1);
  Put2(*b, "m", {{"i", 11}});
  auto md = *Do(*b, Operation::kRead, "metadata/m")->data;
  EXPECT_EQ(md["oldest_version"], 2);
  EXPECT_EQ(md["versions"].size(), 10u);
  EXPECT_FALSE(md["versions"].contains("1"));
  EXPECT_EQ(CountKeys("versions/"), 10u);
  EXPECT_TRUE(Do(*b, Operation::kRead, "data/m", {{"version", 1}})->IsEmpty());

  // A lower key max_versions applies on the next write (max of key and mount).
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"max_versions", 3}}).ok());
  Put2(*b, "m", {{"i", 12}});
  md = *Do(*b, Operation::kRead, "metadata/m")->data;
  EXPECT_EQ(md["versions"].size(), 3u);
  EXPECT_EQ(md["oldest_version"], 10);
  EXPECT_EQ(md["current_version"], 12);
  EXPECT_EQ(CountKeys("versions/"), 3u);
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "metadata/m", {{"max_versions", 5}}).ok());
  Put2(*b, "m", {{"i", 13}});
  EXPECT_EQ((*Do(*b, Operation::kRead, "metadata/m")->data)["versions"].size(), 4u);
}

TEST_F(KvTest, V2DeleteVersionAfterHonouredOnRead) {
  auto b = Make("kv", "2");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"delete_version_after", "60s"}}).ok());
  EXPECT_EQ((*Do(*b, Operation::kRead, "config")->data)["delete_version_after"], "1m0s");
  Json w = Put2(*b, "t", {{"v", 1}});
  EXPECT_EQ(w["deletion_time"], FormatRfc3339Nano(clock_.NowNanos() + 60'000'000'000));
  clock_.AdvanceSeconds(30);
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kRead, "data/t"), Operation::kRead), 200);  // future deletion_time
  clock_.AdvanceSeconds(31);
  auto r = Do(*b, Operation::kRead, "data/t");
  EXPECT_EQ(r->http_status, 404);
  EXPECT_TRUE((*r->data)["data"].is_null());

  // The key's smaller value wins; undelete re-arms from now.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "metadata/t", {{"delete_version_after", 10}}).ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "undelete/t", {{"versions", {1}}}).ok());
  r = Do(*b, Operation::kRead, "data/t");
  EXPECT_EQ(HttpStatus(*r, Operation::kRead), 200);
  EXPECT_EQ((*r->data)["metadata"]["deletion_time"], FormatRfc3339Nano(clock_.NowNanos() + 10'000'000'000));
  EXPECT_EQ((*Do(*b, Operation::kRead, "metadata/t")->data)["delete_version_after"], "10s");

  // A negative mount value disables it for every key.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"delete_version_after", -1}}).ok());
  EXPECT_EQ(Put2(*b, "t", {{"v", 2}})["deletion_time"], "");
}

TEST_F(KvTest, V2ConfigShape) {
  auto b = Make("kv", "2");
  auto r = Do(*b, Operation::kRead, "config");
  EXPECT_EQ(*r->data, Json({{"max_versions", 0}, {"cas_required", false}, {"delete_version_after", "0s"}}));
  auto w = Do(*b, Operation::kUpdate, "config", Json::object());
  EXPECT_EQ(HttpStatus(*w, Operation::kUpdate), 204);
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"max_versions", "5"}, {"delete_version_after", "1h"}}).ok());
  r = Do(*b, Operation::kRead, "config");
  EXPECT_EQ(*r->data, Json({{"max_versions", 5}, {"cas_required", false}, {"delete_version_after", "1h0m0s"}}));
}

TEST_F(KvTest, V2MetadataReadWritePatchDeleteList) {
  auto b = Make("kv", "2");
  // ESO writes metadata before any data.
  auto w = Do(*b, Operation::kUpdate, "metadata/eso/x", {{"custom_metadata", {{"managed-by", "external-secrets"}}}});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(HttpStatus(*w, Operation::kCreate), 204);
  auto md = *Do(*b, Operation::kRead, "metadata/eso/x")->data;
  EXPECT_EQ(md["current_version"], 0);
  EXPECT_EQ(md["custom_metadata"]["managed-by"], "external-secrets");
  EXPECT_EQ(md["versions"], Json::object());
  EXPECT_EQ(md["delete_version_after"], "0s");
  EXPECT_EQ(md["max_versions"], 0);
  EXPECT_TRUE(Do(*b, Operation::kRead, "data/eso/x")->IsEmpty());  // no versions yet
  Json v1 = Put2(*b, "eso/x", {{"k", "v"}}, {{"cas", 0}});
  EXPECT_EQ(v1["custom_metadata"]["managed-by"], "external-secrets");
  md = *Do(*b, Operation::kRead, "metadata/eso/x")->data;
  EXPECT_EQ(md["updated_time"], md["versions"]["1"]["created_time"]);

  // No field at all: 204 and nothing created.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "metadata/empty", Json::object()).ok());
  EXPECT_TRUE(Do(*b, Operation::kRead, "metadata/empty")->IsEmpty());

  // Validation.
  Json many = Json::object();
  for (int i = 0; i < 65; ++i) many["k" + std::to_string(i)] = "v";
  auto tooMany = Do(*b, Operation::kUpdate, "metadata/eso/x", {{"custom_metadata", many}});
  ASSERT_FALSE(tooMany.ok());
  EXPECT_NE(tooMany.status().message().find("custom_metadata validation failed: payload must contain at most 64 keys"),
            std::string::npos);
  auto longKey = Do(*b, Operation::kUpdate, "metadata/eso/x", {{"custom_metadata", {{std::string(129, 'k'), "v"}}}});
  EXPECT_NE(longKey.status().message().find("length of key"), std::string::npos);
  auto longVal = Do(*b, Operation::kUpdate, "metadata/eso/x", {{"custom_metadata", {{"k", std::string(513, 'v')}}}});
  EXPECT_NE(longVal.status().message().find("length of value"), std::string::npos);
  Json sixtyfour = Json::object();
  for (int i = 0; i < 64; ++i) sixtyfour["k" + std::to_string(i)] = "v";
  sixtyfour["k0"] = std::string(512, 'v');
  sixtyfour[std::string(128, 'k')] = "v";
  sixtyfour.erase("k1");
  EXPECT_TRUE(Do(*b, Operation::kUpdate, "metadata/eso/y", {{"custom_metadata", sixtyfour}}).ok());

  // cas_required:false under a CAS-mandating mount: a warning, 200.
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"cas_required", true}}).ok());
  auto warn = Do(*b, Operation::kUpdate, "metadata/eso/x", {{"cas_required", false}});
  ASSERT_EQ(warn->warnings.size(), 1u);
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "config", {{"cas_required", false}}).ok());

  // PATCH: null removes one custom key, others merge.
  auto p = Do(*b, Operation::kPatch, "metadata/eso/x",
              {{"custom_metadata", {{"managed-by", nullptr}, {"team", "a"}}}, {"max_versions", 4}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  md = *Do(*b, Operation::kRead, "metadata/eso/x")->data;
  EXPECT_EQ(md["custom_metadata"], Json({{"team", "a"}}));
  EXPECT_EQ(md["max_versions"], 4);
  auto pm = Do(*b, Operation::kPatch, "metadata/none", {{"max_versions", 4}});
  EXPECT_EQ(pm->http_status, 404);
  EXPECT_FALSE(pm->data.has_value());

  // LIST: folders end in '/', sorted, one level.
  Put2(*b, "eso/z/deep", {{"a", 1}});
  auto l = Do(*b, Operation::kList, "metadata/eso/");
  EXPECT_EQ((*l->data)["keys"], Json({"x", "y", "z/"}));
  l = Do(*b, Operation::kList, "metadata/");
  EXPECT_EQ((*l->data)["keys"], Json({"eso/"}));
  ASSERT_TRUE(Do(*b, Operation::kDelete, "data/eso/x").ok());
  l = Do(*b, Operation::kList, "metadata/eso/", {{"exclude_deleted", "true"}});
  EXPECT_EQ((*l->data)["keys"], Json({"y", "z/"}));

  // DELETE metadata: every version and the metadata go; cas:0 works again.
  ASSERT_TRUE(Do(*b, Operation::kDelete, "metadata/eso/x").ok());
  EXPECT_TRUE(Do(*b, Operation::kRead, "metadata/eso/x")->IsEmpty());
  EXPECT_EQ(CountKeys("versions/"), 1u);  // only eso/z/deep's
  EXPECT_EQ(Put2(*b, "eso/x", {{"k", "v"}}, {{"cas", 0}})["version"], 1);
}

TEST_F(KvTest, V2Subkeys) {
  auto b = Make("kv", "2");
  Put2(*b, "sk", {{"a", 1}, {"b", {{"c", 2}, {"d", {{"e", 3}}}}}, {"f", Json::object()}});
  auto r = Do(*b, Operation::kRead, "subkeys/sk");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->data)["subkeys"],
            Json({{"a", nullptr}, {"b", {{"c", nullptr}, {"d", {{"e", nullptr}}}}}, {"f", Json::object()}}));
  EXPECT_EQ((*r->data)["metadata"]["version"], 1);
  r = Do(*b, Operation::kRead, "subkeys/sk", {{"depth", "1"}});
  EXPECT_EQ((*r->data)["subkeys"], Json({{"a", nullptr}, {"b", nullptr}, {"f", nullptr}}));
  r = Do(*b, Operation::kRead, "subkeys/sk", {{"depth", "2"}});
  EXPECT_EQ((*r->data)["subkeys"], Json({{"a", nullptr}, {"b", {{"c", nullptr}, {"d", nullptr}}}, {"f", Json::object()}}));
  ASSERT_TRUE(Do(*b, Operation::kDelete, "data/sk").ok());
  r = Do(*b, Operation::kRead, "subkeys/sk");
  EXPECT_EQ(r->http_status, 404);
  EXPECT_TRUE((*r->data)["subkeys"].is_null());
  EXPECT_TRUE(Do(*b, Operation::kRead, "subkeys/none")->IsEmpty());
}

TEST_F(KvTest, V2InvalidPaths) {
  auto b = Make("kv", "2");
  auto r = Do(*b, Operation::kRead, "foo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->http_status, 404);
  EXPECT_FALSE(r->data.has_value());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("'vault kv get'"), std::string::npos);
  r = Do(*b, Operation::kUpdate, "foo", {{"a", "b"}});
  EXPECT_NE(r->warnings[0].find("'vault kv put'"), std::string::npos);
  EXPECT_EQ(CountKeys(""), 0u);  // nothing written
  r = Do(*b, Operation::kList, "");
  EXPECT_NE(r->warnings[0].find("'vault kv list'"), std::string::npos);
  r = Do(*b, Operation::kRead, "data/foo/");
  EXPECT_NE(r->warnings[0].find("'vault kv get'"), std::string::npos);
  // LIST on a path that does not list: 405, as Vault's framework answers.
  EXPECT_EQ(Do(*b, Operation::kList, "data/foo/").status().code(), StatusCode::kUnsupportedOperation);
  r = Do(*b, Operation::kRead, "metadata");
  EXPECT_EQ(r->warnings[0], "Non-listing operations on the root of a K/V v2 mount are not supported.");
  r = Do(*b, Operation::kUpdate, "destroy", Json::object());
  EXPECT_EQ(r->warnings[0], "Non-listing operations on the root of a K/V v2 mount are not supported.");
  auto del = Do(*b, Operation::kDelete, "config");
  EXPECT_EQ(del.status().code(), StatusCode::kUnsupportedOperation);
}

TEST_F(KvTest, V2SizeLimitWritesNothing) {
  auto b = Make("kv", "2");
  auto r = Do(*b, Operation::kUpdate, "data/big", {{"data", {{"v", std::string(5000, 'x')}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(r.status().message().find("5"), std::string::npos);
  EXPECT_EQ(CountKeys(""), 0u);

  Put2(*b, "grow", {{"v", std::string(3000, 'x')}});
  size_t keys = CountKeys("");
  auto p = Do(*b, Operation::kPatch, "data/grow", {{"data", {{"w", std::string(3000, 'y')}}}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(CountKeys(""), keys);
  EXPECT_EQ((*Do(*b, Operation::kRead, "metadata/grow")->data)["current_version"], 1);
}

TEST_F(KvTest, V2RecursiveListPagination) {
  auto b = Make("kv", "2");
  std::vector<std::string> all;
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      std::string k = "team" + std::to_string(i) + "/app" + std::to_string(j);
      if (j == 4) k += "/deep/leaf";
      all.push_back(k);
      Put2(*b, "root/" + k, {{"v", 1}});
    }
  }
  Put2(*b, "outside", {{"v", 1}});
  std::sort(all.begin(), all.end());

  std::vector<std::string> got;
  std::string after;
  int pages = 0;
  while (true) {
    Json q = {{"recursive", true}, {"limit", 7}};
    if (!after.empty()) q["after"] = after;
    auto r = Do(*b, Operation::kList, "metadata/root/", q);
    ASSERT_TRUE(r.ok());
    ++pages;
    for (auto& k : (*r->data)["keys"]) got.push_back(k.get<std::string>());
    if (!r->data->contains("next_after")) break;
    after = (*r->data)["next_after"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);  // 25 keys, 7 a page
  EXPECT_EQ(got, all);

  // `after` inside a folder and past everything.
  auto r = Do(*b, Operation::kList, "metadata/root/", {{"recursive", "1"}, {"after", "team3/app2"}});
  EXPECT_EQ((*r->data)["keys"].size(), 7u);
  EXPECT_EQ((*r->data)["keys"][0], "team3/app3");
  r = Do(*b, Operation::kList, "metadata/root/", {{"recursive", "1"}, {"after", "zzz"}});
  EXPECT_EQ(HttpStatus(*r, Operation::kList), 404);
  auto bad = Do(*b, Operation::kList, "metadata/root/", {{"recursive", "1"}, {"limit", "-3"}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(KvTest, V2MoveKeepsVersionsAndRefusesOverwrite) {
  auto b = Make("kv", "2");
  EXPECT_EQ(b->special_paths().root, std::vector<std::string>{"move"});
  Put2(*b, "old/name", {{"v", 1}});
  Put2(*b, "old/name", {{"v", 2}});
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "metadata/old/name", {{"custom_metadata", {{"o", "x"}}}}).ok());
  Put2(*b, "taken", {{"v", 9}});

  auto clash = Do(*b, Operation::kUpdate, "move", {{"from", "old/name"}, {"to", "taken"}});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*Do(*b, Operation::kRead, "data/taken")->data)["data"]["v"], 9);

  auto mv = Do(*b, Operation::kUpdate, "move", {{"from", "old/name"}, {"to", "new/name"}});
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(HttpStatus(*mv, Operation::kUpdate), 204);
  EXPECT_TRUE(Do(*b, Operation::kRead, "metadata/old/name")->IsEmpty());
  auto r = Do(*b, Operation::kRead, "data/new/name", {{"version", 1}});
  EXPECT_EQ((*r->data)["data"]["v"], 1);
  r = Do(*b, Operation::kRead, "data/new/name");
  EXPECT_EQ((*r->data)["data"]["v"], 2);
  EXPECT_EQ((*r->data)["metadata"]["custom_metadata"]["o"], "x");

  auto missing = Do(*b, Operation::kUpdate, "move", {{"from", "old/name"}, {"to", "x"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  for (const char* bad : {"", "a/../b", "a//b", "/a", "a/", "."}) {
    auto r2 = Do(*b, Operation::kUpdate, "move", {{"from", "new/name"}, {"to", bad}});
    EXPECT_EQ(r2.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(KvTest, V2ConcurrentWritersNeverLoseAVersion) {
  auto b = Make("kv", "2");
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        Request req;
        req.op = Operation::kUpdate;
        req.path = "data/hot";
        req.data = {{"data", {{"t", t}, {"i", i}}}};
        req.storage = storage_.get();
        EXPECT_TRUE(b->HandleRequest(req).ok());
      }
    });
  }
  for (auto& t : ts) t.join();
  auto md = *Do(*b, Operation::kRead, "metadata/hot")->data;
  EXPECT_EQ(md["current_version"], 320);
  EXPECT_EQ(md["versions"].size(), 10u);
  EXPECT_EQ(CountKeys("versions/"), 10u);
}

TEST_F(KvTest, UpgradeV1ToV2MigratesData) {
  {
    auto v1 = Make("kv", "1");
    ASSERT_TRUE(Do(*v1, Operation::kUpdate, "a/b", {{"x", "1"}}).ok());
    ASSERT_TRUE(Do(*v1, Operation::kUpdate, "c", {{"y", "2"}}).ok());
  }
  auto v2 = Make("kv", "2");
  auto r = Do(*v2, Operation::kRead, "data/a/b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->data)["data"], Json({{"x", "1"}}));
  EXPECT_EQ((*r->data)["metadata"]["version"], 1);
  EXPECT_EQ(CountKeys("v1/"), 0u);
  EXPECT_EQ((*Do(*v2, Operation::kList, "metadata/")->data)["keys"], Json({"a/", "c"}));
  // A second construction has nothing left to migrate.
  auto again = Make("kv", "2");
  EXPECT_EQ((*Do(*again, Operation::kRead, "metadata/c")->data)["current_version"], 1);

  logical::BackendConfig cfg;
  cfg.storage = storage_.get();
  cfg.options = Json{{"version", "3"}};
  EXPECT_FALSE(Factory()(cfg).ok());
}

// ---------------- cubbyhole ----------------

TEST_F(KvTest, CubbyholeIsPrivateToItsToken) {
  auto b = Make("cubbyhole", "");
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "secret", {{"v", "a"}}, "tokenA").ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "secret", {{"v", "b"}}, "tokenB").ok());
  ASSERT_TRUE(Do(*b, Operation::kUpdate, "dir/x", {{"v", "a"}}, "tokenA").ok());
  auto ra = Do(*b, Operation::kRead, "secret", Json::object(), "tokenA");
  EXPECT_EQ((*ra->data)["v"], "a");
  EXPECT_FALSE(ra->secret.has_value());  // no ttl hint in cubbyhole
  EXPECT_EQ((*Do(*b, Operation::kRead, "secret", Json::object(), "tokenB")->data)["v"], "b");
  EXPECT_TRUE(Do(*b, Operation::kRead, "dir/x", Json::object(), "tokenB")->IsEmpty());
  EXPECT_EQ((*Do(*b, Operation::kList, "", Json::object(), "tokenA")->data)["keys"], Json({"dir/", "secret"}));
  EXPECT_EQ((*Do(*b, Operation::kList, "", Json::object(), "tokenB")->data)["keys"], Json({"secret"}));
  EXPECT_EQ(HttpStatus(*Do(*b, Operation::kList, "", Json::object(), "tokenC"), Operation::kList), 404);

  // No token: refused.
  Request req;
  req.op = Operation::kRead;
  req.path = "secret";
  req.storage = storage_.get();
  EXPECT_FALSE(b->HandleRequest(req).ok());

  ASSERT_TRUE(DeleteCubbyhole(storage_.get(), "tokenA").ok());
  EXPECT_TRUE(Do(*b, Operation::kRead, "secret", Json::object(), "tokenA")->IsEmpty());
  EXPECT_EQ((*Do(*b, Operation::kRead, "secret", Json::object(), "tokenB")->data)["v"], "b");
}

// ---------------- helpers ----------------

TEST(KvCommonTest, GoDurationString) {
  EXPECT_EQ(GoDurationString(0), "0s");
  EXPECT_EQ(GoDurationString(59), "59s");
  EXPECT_EQ(GoDurationString(90), "1m30s");
  EXPECT_EQ(GoDurationString(3600), "1h0m0s");
  EXPECT_EQ(GoDurationString(2764800), "768h0m0s");
  EXPECT_EQ(GoDurationString(-1), "-1s");
}

}  // namespace
}  // namespace sealbox::engines::kv
