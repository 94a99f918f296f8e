// The HTTP ⇄ logical mapping and the seal lifecycle through ApiHandler, with
// in-memory storage and no sockets.
#include <gtest/gtest.h>

#include <cstdint>

#include "api/api_handler.h"
#include "api/request_builder.h"
#include "base/json_util.h"
#include "core/core.h"
#include "storage/storage.h"

namespace sealbox::api {
namespace {

TEST(ParseTargetTest, CleanPathsPass) {
  auto t = ParseTarget("/v1/secret/data/app?version=2&list=true");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_api);
  EXPECT_EQ(t->path, "secret/data/app");
  EXPECT_EQ(t->query.at("version"), "2");
  EXPECT_EQ(ParseTarget("/v1/secret/metadata/")->path, "secret/metadata/");
  EXPECT_EQ(ParseTarget("/v1/a%20b")->path, "a b");
  EXPECT_FALSE(ParseTarget("/ui/")->is_api);
}

TEST(ParseTargetTest, UncleanPathsRefused) {
  for (const char* bad : {"/v1/secret/data/ok/../forbidden", "/v1/secret/%2e%2e/x", "/v1/secret/%2E/x",
                          "/v1/secret//x", "/v1/secret/./x", "/v1/secret/x%01", "/v1/secret/a%2fb",
                          "/v1/secret/..", "/v1//secret", "/v1/secret/x%00y", "/v1/a/%2F"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

TEST(BuildRequestTest, MethodsAndTokens) {
  HttpRequest h;
  h.method = "GET";
  h.target = "/v1/secret/foo?list=true";
  h.headers = {{"authorization", "Bearer tok-b"}};
  auto t = ParseTarget(h.target);
  auto r = BuildRequest(h, *t, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, logical::Operation::kList);
  EXPECT_EQ(r->path, "secret/foo/");
  EXPECT_EQ(r->client_token, "tok-b");
  h.headers.push_back({"x-vault-token", "tok-x"});
  EXPECT_EQ(BuildRequest(h, *t, {})->client_token, "tok-x");

  h.target = "/v1/secret/foo?list=maybe";
  EXPECT_FALSE(BuildRequest(h, *ParseTarget(h.target), {}).ok());

  h.method = "PATCH";
  h.target = "/v1/secret/data/foo";
  h.headers = {{"content-type", "application/json"}};
  auto p = BuildRequest(h, *ParseTarget(h.target), {});
  EXPECT_EQ(p.status().code(), StatusCode::kUnsupportedMediaType);
  h.headers = {{"content-type", "application/merge-patch+json"}};
  h.body = R"({"data":{"a":null}})";
  EXPECT_EQ(BuildRequest(h, *ParseTarget(h.target), {})->op, logical::Operation::kPatch);

  h.method = "BREW";
  EXPECT_EQ(BuildRequest(h, *ParseTarget(h.target), {}).status().code(), StatusCode::kUnsupportedOperation);

  h.method = "POST";
  h.headers = {{"authorization", "Basic abc"}};
  h.body = "[1,2]";
  EXPECT_FALSE(BuildRequest(h, *ParseTarget(h.target), {}).ok());
  h.body = "a=1&b=two";
  h.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  auto f = BuildRequest(h, *ParseTarget(h.target), {});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->data["b"], "two");
  EXPECT_EQ(f->client_token, "");
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::CoreOptions o;
    o.physical = NewInMemStorage();
    o.storage_type = "inmem";
    core_ = std::move(core::Core::Create(std::move(o))).value();
    handler_ = NewApiHandler(core_.get(), {});
  }
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::string& token = "") {
    HttpRequest h;
    h.method = method;
    h.target = target;
    h.body = body;
    if (!token.empty()) h.headers.push_back({"x-vault-token", token});
    return handler_->Handle(h);
  }
  static Json J(const HttpResponse& r) { return Json::parse(r.body); }

  std::unique_ptr<core::Core> core_;
  std::unique_ptr<HttpHandler> handler_;
};

TEST_F(LifecycleTest, InitUnsealSealLookup) {
  EXPECT_EQ(J(Call("GET", "/v1/sys/init"))["initialized"], false);
  auto health = Call("GET", "/v1/sys/health");
  EXPECT_EQ(health.status, 501);
  EXPECT_EQ(J(health)["standby"], true);

  auto bad = Call("PUT", "/v1/sys/init", R"({"secret_shares":5,"secret_threshold":1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(J(bad)["errors"][0],
            "invalid seal configuration: threshold must be greater than one for multiple shares");

  auto init = Call("PUT", "/v1/sys/init", R"({"secret_shares":5,"secret_threshold":3})");
  ASSERT_EQ(init.status, 200) << init.body;
  Json ij = J(init);
  ASSERT_EQ(ij["keys"].size(), 5u);
  EXPECT_EQ(ij["keys"][0].get<std::string>().size(), 66u);
  EXPECT_EQ(ij["keys_base64"][0].get<std::string>().size(), 44u);
  std::string root = ij["root_token"];
  EXPECT_EQ(root.rfind("hvs.", 0), 0u);

  EXPECT_EQ(Call("PUT", "/v1/sys/init", R"({"secret_shares":1,"secret_threshold":1})").status, 400);

  auto st = J(Call("GET", "/v1/sys/seal-status"));
  EXPECT_EQ(st["sealed"], true);
  EXPECT_EQ(st["t"], 3);
  EXPECT_EQ(st["n"], 5);
  EXPECT_FALSE(st.contains("cluster_name"));

  EXPECT_EQ(Call("GET", "/v1/auth/token/lookup-self", "", root).status, 503);
  EXPECT_EQ(J(Call("GET", "/v1/auth/token/lookup-self", "", root))["errors"][0], "Vault is sealed");

  auto u1 = J(Call("PUT", "/v1/sys/unseal", Json{{"key", ij["keys"][0]}}.dump()));
  EXPECT_EQ(u1["progress"], 1);
  EXPECT_NE(u1["nonce"], "");
  auto dup = J(Call("PUT", "/v1/sys/unseal", Json{{"key", ij["keys"][0]}}.dump()));
  EXPECT_EQ(dup["progress"], 1);
  auto u2 = J(Call("PUT", "/v1/sys/unseal", Json{{"KEY", ij["keys_base64"][1]}}.dump()));
  EXPECT_EQ(u2["progress"], 2);
  auto u3 = J(Call("PUT", "/v1/sys/unseal", Json{{"key", ij["keys"][4]}}.dump()));
  EXPECT_EQ(u3["sealed"], false);
  EXPECT_EQ(u3["progress"], 0);
  EXPECT_TRUE(u3.contains("cluster_name"));

  auto ls = Call("GET", "/v1/auth/token/lookup-self", "", root);
  ASSERT_EQ(ls.status, 200) << ls.body;
  Json d = J(ls)["data"];
  EXPECT_EQ(d["id"], root);
  EXPECT_EQ(d["policies"], Json::array({"root"}));
  EXPECT_EQ(d["path"], "auth/token/root");
  EXPECT_EQ(d["expire_time"], nullptr);
  EXPECT_EQ(d["meta"], nullptr);
  EXPECT_EQ(d["ttl"], 0);
  EXPECT_FALSE(d.contains("renewable"));
  EXPECT_FALSE(d.contains("issue_time"));

  EXPECT_EQ(Call("GET", "/v1/auth/token/lookup-self", "", "hvs.wrong").status, 403);
  EXPECT_EQ(Call("GET", "/v1/auth/token/lookup-self").status, 403);
  EXPECT_EQ(Call("GET", "/v1/nothing/here", "", root).status, 404);
  EXPECT_EQ(Call("GET", "/v1/nothing/here", "", "hvs.wrong").status, 403);

  EXPECT_EQ(Call("PUT", "/v1/sys/seal", "", root).status, 204);
  EXPECT_EQ(Call("GET", "/v1/auth/token/lookup-self", "", root).status, 503);
  EXPECT_EQ(Call("GET", "/v1/sys/health").status, 503);
}

TEST_F(LifecycleTest, WrongShareSetResetsProgress) {
  Json a = J(Call("PUT", "/v1/sys/init", R"({"secret_shares":3,"secret_threshold":2})"));
  core::CoreOptions o;
  o.physical = NewInMemStorage();
  auto other_core = std::move(core::Core::Create(std::move(o))).value();
  auto other = NewApiHandler(other_core.get(), {});
  HttpRequest h;
  h.method = "PUT";
  h.target = "/v1/sys/init";
  h.body = R"({"secret_shares":3,"secret_threshold":2})";
  Json b = Json::parse(other->Handle(h).body);

  // A share of the other vault with another x coordinate (a share's last
  // byte; x coordinates are random, and two equal ones are refused as a
  // duplicate part before the key is checked): one in 255 runs failed.
  const std::string mine = a["keys"][0];
  std::string foreign;
  for (const std::string k : b["keys"]) {
    if (k.substr(k.size() - 2) != mine.substr(mine.size() - 2)) foreign = k;
  }
  ASSERT_FALSE(foreign.empty());
  Call("PUT", "/v1/sys/unseal", Json{{"key", mine}}.dump());
  auto r = Call("PUT", "/v1/sys/unseal", Json{{"key", foreign}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(J(r)["errors"][0], "Unseal failed, invalid key");
  EXPECT_EQ(J(Call("GET", "/v1/sys/seal-status"))["progress"], 0);
  auto garbage = Call("PUT", "/v1/sys/unseal", R"({"key":"zz!!"})");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(J(garbage)["errors"][0], "'key' must be a valid hex or base64 string");
  EXPECT_EQ(Call("GET", "/v1/sys/unseal").status, 405);
  Call("PUT", "/v1/sys/unseal", Json{{"key", a["keys"][0]}}.dump());
  EXPECT_EQ(J(Call("PUT", "/v1/sys/unseal", R"({"reset":true})"))["progress"], 0);
  Call("PUT", "/v1/sys/unseal", Json{{"key", a["keys"][2]}}.dump());
  EXPECT_EQ(J(Call("PUT", "/v1/sys/unseal", Json{{"key", a["keys"][1]}}.dump()))["sealed"], false);
}

// Only a token that may use a large body gets to send one: without a token,
// or to a path that takes none, the server reads 64 KiB at most; a large
// body whose token does not resolve is refused unparsed.
TEST_F(LifecycleTest, LargeBodiesNeedAToken) {
  Json init = J(Call("PUT", "/v1/sys/init", R"({"secret_shares":1,"secret_threshold":1})"));
  const std::string root = init["root_token"];
  Call("PUT", "/v1/sys/unseal", Json{{"key", init["keys"][0]}}.dump());
  auto limit = [&](const std::string& target, const std::string& token,
                   std::pair<std::string, std::string> length = {"content-length", "100000"}) {
    HttpRequest h;
    h.method = "POST";
    h.target = target;
    h.headers.push_back(length);
    if (!token.empty()) h.headers.push_back({"x-vault-token", token});
    return handler_->BodyLimit(h);
  };
  constexpr size_t kSmall = 64 << 10;
  EXPECT_EQ(limit("/v1/secret/data/x", ""), kSmall);
  EXPECT_EQ(limit("/v1/secret/data/x", "hvs.not-a-token"), kSmall);
  EXPECT_EQ(limit("/v1/secret/data/x", "hvs.not-a-token", {"transfer-encoding", "chunked"}), kSmall);
  EXPECT_EQ(limit("/v1/secret/data/x", root), SIZE_MAX);
  EXPECT_EQ(limit("/v1/secret/data/x", root, {"transfer-encoding", "chunked"}), SIZE_MAX);
  EXPECT_EQ(limit("/v1/secret/data/x", root, {"content-length", "1x"}), SIZE_MAX);
  EXPECT_EQ(limit("/v1/sys/unseal", root), kSmall);
  EXPECT_EQ(limit("/v1/sys/init", root), kSmall);
  EXPECT_EQ(limit("/v1/sys/../x", root), kSmall);
  EXPECT_EQ(limit("/ui/", root), kSmall);
  // Malformed, but never parsed: the token is refused first.
  const std::string big = "{\"a\":\"" + std::string(100 << 10, 'x');
  auto r = Call("POST", "/v1/sys/policies/acl/p", big, "hvs.not-a-token");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Call("POST", "/v1/sys/policies/acl/p", big, root).status, 400);
  // A small body is parsed first, as Vault does.
  EXPECT_EQ(Call("POST", "/v1/sys/policies/acl/p", "{\"a\":[0", "hvs.not-a-token").status, 400);
  // Sealed: read, left unparsed, answered 503.
  EXPECT_EQ(Call("PUT", "/v1/sys/seal", "", root).status, 204);
  EXPECT_EQ(limit("/v1/secret/data/x", "hvs.not-a-token"), SIZE_MAX);
  EXPECT_EQ(Call("POST", "/v1/sys/policies/acl/p", big, root).status, 503);
}

TEST_F(LifecycleTest, EnvelopeHeaders) {
  auto r = Call("GET", "/v1/sys/seal-status");
  bool no_store = false, json = false;
  for (auto& [k, v] : r.headers) {
    if (k == "Cache-Control" && v == "no-store") no_store = true;
    if (k == "Content-Type" && v == "application/json") json = true;
  }
  EXPECT_TRUE(no_store);
  EXPECT_TRUE(json);
  HttpRequest h;
  h.method = "GET";
  h.target = "/v1/sys/seal-status";
  h.headers = {{"x-vault-namespace", "team-a"}};
  EXPECT_EQ(handler_->Handle(h).status, 400);
  h.headers = {{"x-vault-namespace", "root/"}};
  EXPECT_EQ(handler_->Handle(h).status, 200);
  EXPECT_EQ(Call("GET", "/elsewhere").status, 404);
}

}  // namespace
}  // namespace sealbox::api
