// The token auth method, the token store, sys/policy, sys/policies/acl and
// sys/capabilities* through the whole stack (ApiHandler -> Core -> backends)
// with in-memory storage and a FakeClock, so TTLs are tested without sleeping.
// A minimal KV and cubbyhole are registered here so ACL decisions and the
// cubbyhole-dies-with-its-token rule can be observed end to end.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/api_handler.h"
#include "auth/token_backend.h"
#include "base/json_util.h"
#include "core/core.h"
#include "core/core_impl.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::auth {
namespace {

using api::HttpRequest;
using api::HttpResponse;
using logical::FieldData;
using logical::Operation;
using logical::Request;
using logical::Response;

// A KV-v1-like store; in cubbyhole mode keys live under "<storage id>/".
class FakeKv final : public logical::RoutedBackend {
 public:
  FakeKv(Storage* storage, bool cubbyhole) : storage_(storage), cubbyhole_(cubbyhole) {
    auto key = [this](Request& r) -> Result<std::string> {
      if (!cubbyhole_) return r.path;
      if (!r.token || r.token->storage_id.empty()) return InvalidArgument("client token empty");
      return r.token->storage_id + "/" + r.path;
    };
    SetRoutes({{.pattern = "{path:*}",
                .ops = {{Operation::kRead,
                         [this, key](Request& r, FieldData&) -> Result<Response> {
                           SB_ASSIGN_OR_RETURN(std::string k, key(r));
                           SB_ASSIGN_OR_RETURN(auto v, storage_->Get(k));
                           if (!v) return Response::Empty();
                           return Response::WithData(Json::parse(*v));
                         }},
                        {Operation::kUpdate,
                         [this, key](Request& r, FieldData&) -> Result<Response> {
                           SB_ASSIGN_OR_RETURN(std::string k, key(r));
                           SB_RETURN_IF_ERROR(storage_->Put(k, r.data.dump()));
                           return Response::Empty();
                         }},
                        {Operation::kDelete,
                         [this, key](Request& r, FieldData&) -> Result<Response> {
                           SB_ASSIGN_OR_RETURN(std::string k, key(r));
                           SB_RETURN_IF_ERROR(storage_->Delete(k));
                           return Response::Empty();
                         }},
                        {Operation::kList,
                         [this, key](Request& r, FieldData&) -> Result<Response> {
                           SB_ASSIGN_OR_RETURN(std::string k, key(r));
                           SB_ASSIGN_OR_RETURN(auto keys, storage_->List(k));
                           return Response::WithData(Json{{"keys", keys}});
                         }}},
                .exists = [this, key](Request& r, FieldData&) -> Result<bool> {
                  SB_ASSIGN_OR_RETURN(std::string k, key(r));
                  SB_ASSIGN_OR_RETURN(auto v, storage_->Get(k));
                  return v.has_value();
                },
                .any_fields = true}});
  }

 private:
  Storage* storage_;
  bool cubbyhole_;
};

core::BackendRegistry FakeBackends() {
  core::BackendRegistry r;
  r.Register("kv", [](const logical::BackendConfig& c) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new FakeKv(c.storage, false));
  });
  r.Register("cubbyhole", [](const logical::BackendConfig& c) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new FakeKv(c.storage, true));
  });
  return r;
}

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::CoreOptions o;
    o.backends = FakeBackends();
    o.physical = NewInMemStorage();
    o.storage_type = "inmem";
    o.clock = &clock_;
    core_ = std::move(core::Core::Create(std::move(o))).value();
    handler_ = api::NewApiHandler(core_.get(), {});
    auto creds = core_->DevSetup("");
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    root_ = creds->root_token;
    unseal_key_ = creds->unseal_key_b64;
  }

  HttpResponse Call(const std::string& method, const std::string& target, const Json& body = nullptr,
                    const std::string& token = "") {
    HttpRequest h;
    h.method = method;
    h.target = target;
    if (!body.is_null()) h.body = body.dump();
    if (!token.empty()) h.headers.push_back({"x-vault-token", token});
    return handler_->Handle(h);
  }
  HttpResponse Root(const std::string& method, const std::string& target, const Json& body = nullptr) {
    return Call(method, target, body, root_);
  }
  static Json J(const HttpResponse& r) { return r.body.empty() ? Json(nullptr) : Json::parse(r.body); }
  // What Vault's clients read for an error its handler returned as a Go error.
  static std::string Multierror(const std::string& m) { return "1 error occurred:\n\t* " + m + "\n\n"; }
  static std::string Err(const HttpResponse& r) {
    Json j = J(r);
    return j.contains("errors") && !j["errors"].empty() ? j["errors"][0].get<std::string>() : "";
  }

  // Creates a token and returns its whole response body (asserting 200).
  Json Create(const Json& body, const std::string& token = "", const std::string& path = "create") {
    auto r = Call("POST", "/v1/auth/token/" + path, body, token.empty() ? root_ : token);
    EXPECT_EQ(r.status, 200) << r.body;
    return J(r);
  }
  std::string NewToken(const Json& body, const std::string& token = "", const std::string& path = "create") {
    Json j = Create(body, token, path);
    if (!j.contains("auth") || !j["auth"].is_object()) return "";
    return j["auth"]["client_token"];
  }
  void PutPolicy(const std::string& name, const std::string& text) {
    auto r = Root("PUT", "/v1/sys/policies/acl/" + name, Json{{"policy", text}});
    ASSERT_TRUE(r.status == 204 || r.status == 200) << r.body;
  }
  Json LookupSelf(const std::string& token) { return J(Call("GET", "/v1/auth/token/lookup-self", nullptr, token)); }
  int SelfStatus(const std::string& token) { return Call("GET", "/v1/auth/token/lookup-self", nullptr, token).status; }

  FakeClock clock_;
  std::unique_ptr<core::Core> core_;
  std::unique_ptr<api::HttpHandler> handler_;
  std::string root_;
  std::string unseal_key_;
};

bool IsBase62(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// ---------------------------------------------------------------------------
// Pure helpers

TEST(TokenHelpersTest, SanitizePolicies) {
  EXPECT_EQ(SanitizePolicies({" Dev", "ops", "dev", ""}, true), (std::vector<std::string>{"default", "dev", "ops"}));
  EXPECT_EQ(SanitizePolicies({"b", "a"}, false), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SanitizePolicies({"dev", " ROOT "}, true), (std::vector<std::string>{"root"}));
  EXPECT_EQ(SanitizePolicies({}, true), (std::vector<std::string>{"default"}));
}

TEST(TokenHelpersTest, CalculateTtlFollowsVault) {
  std::vector<std::string> w;
  const int64_t now = 1'000 * 1'000'000'000LL;
  // Default TTL, capped by the explicit max.
  EXPECT_EQ(*CalculateTtl(2764800, 2764800, 0, 0, 0, 0, 0, now, now, &w), 2764800);
  EXPECT_EQ(*CalculateTtl(2764800, 2764800, 0, 3600, 0, 0, 60, now, now, &w), 60);
  ASSERT_EQ(w.size(), 1u);
  // Vault's humanDuration: Go's Duration.String without trailing zero units.
  EXPECT_EQ(w[0], "TTL of \"1h\" exceeded the effective max_ttl of \"1m\"; TTL value is capped accordingly");
  w.clear();
  EXPECT_EQ(*CalculateTtl(2764800, 2764800, 0, 5400, 0, 0, 3630, now, now, &w), 3630);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "TTL of \"1h30m\" exceeded the effective max_ttl of \"1h30s\"; TTL value is capped accordingly");
  // Period beats TTL and is capped by the mount max.
  w.clear();
  EXPECT_EQ(*CalculateTtl(100, 200, 0, 50, 500, 0, 0, now, now, &w), 200);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "period of \"8m20s\" exceeded the effective max_ttl of \"3m20s\"; period value is capped accordingly");
  // Renewal 90 s into a 100 s explicit max: 10 s left.
  w.clear();
  EXPECT_EQ(*CalculateTtl(3600, 7200, 3600, 60, 0, 0, 100, now, now + 90'000'000'000LL, &w), 10);
  EXPECT_FALSE(CalculateTtl(3600, 7200, 0, 60, 0, 0, 100, now, now + 100'000'000'000LL, &w).ok());
  EXPECT_EQ(GoDurationString(2764800), "768h0m0s");
  EXPECT_EQ(GoDurationString(90), "1m30s");
  EXPECT_EQ(GoDurationString(5), "5s");
}

// ---------------------------------------------------------------------------
// TokenStore directly

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = NewInMemStorage();
    store_ = std::make_unique<TokenStore>(storage_.get(), &clock_);
    ASSERT_TRUE(store_->Setup().ok());
  }
  std::string Make(const std::string& parent_hash = "", int64_t ttl = 0, std::string* hash = nullptr) {
    TokenEntry e;
    e.policies = {"default"};
    e.parent_hash = parent_hash;
    if (ttl) e.expire_time_nanos = clock_.NowNanos() + ttl * 1'000'000'000;
    auto t = store_->Create(e);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (hash) *hash = e.hash;
    return t.ok() ? *t : "";
  }
  bool Alive(const std::string& token) {
    auto e = store_->Lookup(token);
    return e.ok() && e->has_value();
  }

  FakeClock clock_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<TokenStore> store_;
};

TEST_F(TokenStoreTest, StoresOnlyHashes) {
  std::string h;
  std::string tok = Make("", 0, &h);
  auto keys = ListRecursive(*storage_, "");
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) {
    EXPECT_EQ(k.find(tok), std::string::npos) << k;
    auto v = storage_->Get(k);
    EXPECT_EQ(v->value().find(tok.substr(4)), std::string::npos) << k;
  }
  EXPECT_EQ(h, store_->HashToken(tok));
  EXPECT_FALSE(Alive(tok + "x"));
  EXPECT_FALSE(Alive(std::string(600, 'a')));
  // A child under a vanished parent is refused.
  TokenEntry orphaned;
  orphaned.parent_hash = "00ff";
  EXPECT_FALSE(store_->Create(orphaned).ok());
}

TEST_F(TokenStoreTest, DeepTreeRevocationIsIterative) {
  std::string root_hash;
  std::string root = Make("", 0, &root_hash);
  std::string parent = root_hash, last;
  for (int i = 0; i < 3000; ++i) {
    std::string h;
    last = Make(parent, 0, &h);
    parent = h;
  }
  ASSERT_TRUE(Alive(last));
  ASSERT_TRUE(store_->RevokeTree(root_hash).ok());
  EXPECT_FALSE(Alive(root));
  EXPECT_FALSE(Alive(last));
  EXPECT_TRUE(ListRecursive(*storage_, "id/")->empty());
  EXPECT_TRUE(ListRecursive(*storage_, "parent/")->empty());
  EXPECT_TRUE(ListRecursive(*storage_, "accessor/")->empty());
}

TEST_F(TokenStoreTest, CorruptCycleTerminates) {
  std::string a, b;
  Make("", 0, &a);
  Make(a, 0, &b);
  // b claims a as its child too: a cycle that real writes cannot form.
  ASSERT_TRUE(storage_->Put("parent/" + b + "/" + a, "").ok());
  ASSERT_TRUE(store_->RevokeTree(a).ok());
  EXPECT_TRUE(ListRecursive(*storage_, "id/")->empty());
  EXPECT_TRUE(ListRecursive(*storage_, "parent/")->empty());
}

TEST_F(TokenStoreTest, RevokeHookSeesEveryRevokedToken) {
  std::vector<std::string> seen;
  store_->SetRevokeHook([&](const std::string& id) { seen.push_back(id); });
  std::string a, b, c;
  Make("", 0, &a);
  Make(a, 0, &b);
  Make(b, 0, &c);
  ASSERT_TRUE(store_->RevokeTree(a).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{c, b, a}));  // children first
}

TEST_F(TokenStoreTest, UseTokenIsExactUnderConcurrency) {
  TokenEntry e;
  e.policies = {"default"};
  e.num_uses = 5;
  ASSERT_TRUE(store_->Create(e).ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 4; ++j) {
        auto u = store_->UseToken(e.hash);
        if (u.ok() && u->has_value()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 5);
}

TEST_F(TokenStoreTest, BackgroundTidyRevokesExpiredTokens) {
  std::string h;
  Make("", 5, &h);
  std::string keep = Make("", 3600);
  clock_.AdvanceSeconds(10);
  store_->StartBackgroundTidy(1);
  for (int i = 0; i < 40 && storage_->Get("id/" + h)->has_value(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(storage_->Get("id/" + h)->has_value());
  EXPECT_TRUE(Alive(keep));
  auto t0 = std::chrono::steady_clock::now();
  store_->StopBackgroundTidy();  // wakes the sleeping thread at once
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
}

TEST_F(TokenStoreTest, TidyDropsDanglingIndexes) {
  std::string a, b;
  Make("", 0, &a);
  std::string child = Make(a, 0, &b);
  // Simulate a crash that lost the parent's entry but not the child.
  ASSERT_TRUE(storage_->Delete("id/" + a).ok());
  auto st = store_->Tidy();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->dangling_accessors, 1);
  EXPECT_EQ(st->dangling_parent_entries, 1);
  auto e = store_->Lookup(child);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_TRUE((*e)->orphan);
  EXPECT_EQ((*e)->parent_hash, "");
}

// ---------------------------------------------------------------------------
// Create and lookup shapes

TEST_F(TokenTest, CreateAuthBlockShape) {
  Json j = Create({{"policies", {"Dev", " ops ", "dev"}}, {"meta", {{"user", "alice"}, {"n", 3}}},
                   {"display_name", "CI job"}});
  EXPECT_EQ(j["data"], nullptr);
  EXPECT_EQ(j["lease_id"], "");
  EXPECT_EQ(j["lease_duration"], 0);
  EXPECT_EQ(j["renewable"], false);
  EXPECT_EQ(j["mount_type"], "token");
  Json a = j["auth"];
  std::string tok = a["client_token"];
  ASSERT_EQ(tok.rfind("hvs.", 0), 0u);
  EXPECT_EQ(tok.size(), 28u);
  EXPECT_TRUE(IsBase62(tok.substr(4)));
  EXPECT_EQ(a["accessor"].get<std::string>().size(), 24u);
  EXPECT_TRUE(IsBase62(a["accessor"]));
  EXPECT_EQ(a["policies"], Json({"default", "dev", "ops"}));
  EXPECT_EQ(a["token_policies"], Json({"default", "dev", "ops"}));
  EXPECT_FALSE(a.contains("identity_policies"));
  EXPECT_EQ(a["metadata"], Json({{"user", "alice"}, {"n", "3"}}));
  EXPECT_EQ(a["lease_duration"], 2764800);
  EXPECT_EQ(a["renewable"], true);
  EXPECT_EQ(a["entity_id"], "");
  EXPECT_EQ(a["token_type"], "service");
  EXPECT_EQ(a["orphan"], false);
  EXPECT_EQ(a["mfa_requirement"], nullptr);
  EXPECT_EQ(a["num_uses"], 0);
  // The policies do not exist yet: Vault warns, it does not refuse.
  EXPECT_EQ(j["warnings"], Json({"Policy \"dev\" does not exist", "Policy \"ops\" does not exist"}));

  // No meta: metadata is null, not {}.
  EXPECT_EQ(Create({})["auth"]["metadata"], nullptr);

  clock_.AdvanceSeconds(10);
  auto lr = Root("POST", "/v1/auth/token/lookup", {{"token", tok}});
  ASSERT_EQ(lr.status, 200) << lr.body;
  Json d = J(lr)["data"];
  EXPECT_EQ(d["id"], tok);
  EXPECT_EQ(d["accessor"], a["accessor"]);
  EXPECT_EQ(d["display_name"], "token-CI-job");
  EXPECT_EQ(d["path"], "auth/token/create");
  EXPECT_EQ(d["policies"], Json({"default", "dev", "ops"}));
  EXPECT_EQ(d["meta"], Json({{"user", "alice"}, {"n", "3"}}));
  EXPECT_EQ(d["creation_ttl"], 2764800);
  EXPECT_EQ(d["ttl"], 2764790);
  EXPECT_TRUE(d["ttl"].is_number_integer());
  EXPECT_EQ(d["creation_time"], clock_.NowSeconds() - 10);
  EXPECT_EQ(d["explicit_max_ttl"], 0);
  EXPECT_EQ(d["num_uses"], 0);
  EXPECT_EQ(d["orphan"], false);
  EXPECT_EQ(d["renewable"], true);
  EXPECT_EQ(d["type"], "service");
  EXPECT_EQ(d["entity_id"], "");
  EXPECT_EQ(d["expire_time"], FormatRfc3339Nano(clock_.NowNanos() + 2764790LL * 1'000'000'000));
  EXPECT_TRUE(d["issue_time"].is_string());
  EXPECT_FALSE(d.contains("last_renewal"));
  EXPECT_FALSE(d.contains("period"));
  EXPECT_FALSE(d.contains("role"));

  // lookup-self (GET and POST) sees the same; POST needs update, which the
  // default policy does not grant.
  EXPECT_EQ(LookupSelf(tok)["data"]["id"], tok);
  EXPECT_EQ(Call("POST", "/v1/auth/token/lookup-self", nullptr, tok).status, 403);
  EXPECT_EQ(Call("POST", "/v1/auth/token/lookup-self", nullptr, root_).status, 200);
  // Deprecated GET lookup/:token.
  EXPECT_EQ(J(Root("GET", "/v1/auth/token/lookup/" + tok))["data"]["id"], tok);
  // Unknown token: 403 "bad token".
  auto bad = Root("POST", "/v1/auth/token/lookup", {{"token", "hvs.AAAAAAAAAAAAAAAAAAAAAAAA"}});
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(Err(bad), "bad token");
}

TEST_F(TokenTest, RootTokenLookupAndRules) {
  Json d = LookupSelf(root_)["data"];
  EXPECT_EQ(d["policies"], Json({"root"}));
  EXPECT_EQ(d["path"], "auth/token/root");
  EXPECT_EQ(d["display_name"], "root");
  EXPECT_EQ(d["orphan"], true);
  EXPECT_EQ(d["ttl"], 0);
  EXPECT_EQ(d["creation_ttl"], 0);
  EXPECT_EQ(d["expire_time"], nullptr);
  EXPECT_EQ(d["meta"], nullptr);
  EXPECT_FALSE(d.contains("renewable"));
  EXPECT_FALSE(d.contains("issue_time"));
  // Root cannot renew (no lease) but can create root children and revoke itself.
  auto rn = Root("POST", "/v1/auth/token/renew-self");
  EXPECT_EQ(rn.status, 400);
  EXPECT_EQ(Err(rn), "invalid lease ID");
  Json child = Create({{"policies", {"Root", "dev"}}});
  EXPECT_EQ(child["auth"]["policies"], Json({"root"}));
  EXPECT_EQ(child["auth"]["lease_duration"], 0);
  EXPECT_EQ(child["auth"]["renewable"], false);
  std::string root2 = child["auth"]["client_token"];
  EXPECT_EQ(Call("POST", "/v1/auth/token/revoke-self", nullptr, root2).status, 204);
  EXPECT_EQ(SelfStatus(root2), 403);
}

// ---------------------------------------------------------------------------
// TTLs

TEST_F(TokenTest, TtlMaxExplicitAndExpiry) {
  EXPECT_EQ(Create({{"ttl", "1h"}})["auth"]["lease_duration"], 3600);
  EXPECT_EQ(Create({{"ttl", 90}})["auth"]["lease_duration"], 90);
  EXPECT_EQ(Create({{"lease", "2m"}})["auth"]["lease_duration"], 120);
  Json capped = Create({{"ttl", "1000h"}});
  EXPECT_EQ(capped["auth"]["lease_duration"], 2764800);
  EXPECT_EQ(capped["warnings"][0],
            "TTL of \"1000h\" exceeded the effective max_ttl of \"768h\"; TTL value is capped accordingly");
  Json ex = Create({{"ttl", "1h"}, {"explicit_max_ttl", "2m"}});
  EXPECT_EQ(ex["auth"]["lease_duration"], 120);
  std::string ex_tok = ex["auth"]["client_token"];
  EXPECT_EQ(LookupSelf(ex_tok)["data"]["explicit_max_ttl"], 120);

  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"ttl", "-5s"}})), "ttl must be positive");
  EXPECT_EQ(Root("POST", "/v1/auth/token/create", {{"ttl", "soon"}}).status, 400);

  // Expired tokens are refused at once: no background sweep needed.
  std::string short_tok = NewToken({{"ttl", "10s"}});
  clock_.AdvanceSeconds(9);
  EXPECT_EQ(SelfStatus(short_tok), 200);
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(SelfStatus(short_tok), 403);
  // An expired token is an unknown one: Vault's bare text, as for a bad token.
  EXPECT_EQ(J(Call("GET", "/v1/auth/token/lookup-self", nullptr, short_tok))["errors"][0], "permission denied");
}

TEST_F(TokenTest, TidyRemovesExpiredTokens) {
  for (int i = 0; i < 3; ++i) NewToken({{"ttl", "10s"}});
  NewToken({{"ttl", "1h"}});
  auto before = J(Root("LIST", "/v1/auth/token/accessors"));
  EXPECT_EQ(before["data"]["keys"].size(), 5u);  // root + 4
  clock_.AdvanceSeconds(11);
  // Vault's answer (202, its background-tidy warning); the work is done by then.
  auto t = Root("POST", "/v1/auth/token/tidy");
  ASSERT_EQ(t.status, 202) << t.body;
  EXPECT_EQ(J(t)["warnings"][0],
            "Tidy operation successfully started. Any information from the operation will be printed to Vault's "
            "server logs.");
  EXPECT_EQ(J(Root("LIST", "/v1/auth/token/accessors"))["data"]["keys"].size(), 2u);
}

TEST_F(TokenTest, RenewSelfExtendsUpToMax) {
  Json c = Create({{"ttl", "60s"}, {"explicit_max_ttl", "100s"}});
  std::string tok = c["auth"]["client_token"];
  clock_.AdvanceSeconds(30);
  // No increment: the last granted TTL again (60 s), within the max.
  auto r1 = Call("POST", "/v1/auth/token/renew-self", nullptr, tok);
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(J(r1)["auth"]["lease_duration"], 60);
  EXPECT_EQ(J(r1)["auth"]["client_token"], tok);
  EXPECT_EQ(J(r1)["lease_duration"], 0);  // envelope lease fields stay empty
  Json d = LookupSelf(tok)["data"];
  EXPECT_EQ(d["ttl"], 60);
  EXPECT_TRUE(d["last_renewal"].is_string());
  EXPECT_EQ(d["last_renewal_time"], clock_.NowSeconds());
  EXPECT_EQ(d["creation_ttl"], 60);  // the creation TTL does not move
  clock_.AdvanceSeconds(50);
  // Asking for an hour at t=80 s of a 100 s max yields 20 s, with Vault's warning.
  auto r2 = Call("POST", "/v1/auth/token/renew-self", Json{{"increment", "1h"}}, tok);
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(J(r2)["auth"]["lease_duration"], 20);
  EXPECT_EQ(J(r2)["warnings"].size(), 1u);
  clock_.AdvanceSeconds(20);
  EXPECT_EQ(SelfStatus(tok), 403);

  // renew by token and by accessor; not renewable; unknown.
  Json c2 = Create({{"ttl", "60s"}});
  std::string tok2 = c2["auth"]["client_token"];
  auto rr = Root("POST", "/v1/auth/token/renew", {{"token", tok2}, {"increment", 600}});
  EXPECT_EQ(J(rr)["auth"]["lease_duration"], 600);
  auto ra = Root("POST", "/v1/auth/token/renew-accessor", {{"accessor", c2["auth"]["accessor"]}, {"increment", 30}});
  EXPECT_EQ(J(ra)["auth"]["lease_duration"], 30);
  EXPECT_EQ(J(ra)["auth"]["client_token"], "");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/renew", {{"token", "hvs.nope"}})), "token not found");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/renew-accessor", {{"accessor", "nope"}})),
            Multierror("invalid accessor"));
  std::string fixed = NewToken({{"ttl", "60s"}, {"renewable", false}});
  EXPECT_EQ(LookupSelf(fixed)["data"]["renewable"], false);
  EXPECT_EQ(Err(Call("POST", "/v1/auth/token/renew-self", nullptr, fixed)), "lease is not renewable");
}

TEST_F(TokenTest, PeriodicTokens) {
  Json c = Create({{"period", "10m"}, {"ttl", "1h"}});
  EXPECT_EQ(c["auth"]["lease_duration"], 600);
  std::string tok = c["auth"]["client_token"];
  EXPECT_EQ(LookupSelf(tok)["data"]["period"], 600);
  // Periodic tokens live forever as long as they are renewed within the period.
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceSeconds(500);
    auto r = Call("POST", "/v1/auth/token/renew-self", Json{{"increment", "24h"}}, tok);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(J(r)["auth"]["lease_duration"], 600);
  }
  clock_.AdvanceSeconds(601);
  EXPECT_EQ(SelfStatus(tok), 403);

  // Only root or sudo may create periodic tokens.
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string creator = NewToken({{"policies", {"creator"}}});
  auto denied = Call("POST", "/v1/auth/token/create", Json{{"period", "1h"}}, creator);
  EXPECT_EQ(denied.status, 400);
  EXPECT_EQ(Err(denied), "root or sudo privileges required to create periodic token");
}

// ---------------------------------------------------------------------------
// num_uses

TEST_F(TokenTest, NumUsesTokenDiesOnLastUse) {
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"num_uses", -1}})), "number of uses cannot be negative");
  Json c = Create({{"num_uses", 2}});
  EXPECT_EQ(c["auth"]["num_uses"], 2);
  std::string tok = c["auth"]["client_token"];
  // Use 1: the count is taken before the request runs.
  auto u1 = Call("GET", "/v1/auth/token/lookup-self", nullptr, tok);
  ASSERT_EQ(u1.status, 200);
  EXPECT_EQ(J(u1)["data"]["num_uses"], 1);
  // Use 2, the last: lookup-self still answers (Vault shows -1: revocation pending).
  auto u2 = Call("GET", "/v1/auth/token/lookup-self", nullptr, tok);
  ASSERT_EQ(u2.status, 200) << u2.body;
  EXPECT_EQ(J(u2)["data"]["num_uses"], -1);
  EXPECT_EQ(SelfStatus(tok), 403);
  EXPECT_EQ(Root("POST", "/v1/auth/token/lookup", {{"token", tok}}).status, 403);

  // A restricted-use token cannot mint children (it would escape its count).
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string limited = NewToken({{"policies", {"creator"}}, {"num_uses", 5}});
  auto child = Call("POST", "/v1/auth/token/create", Json::object(), limited);
  EXPECT_EQ(child.status, 400);
  EXPECT_EQ(Err(child), "restricted use token cannot generate child tokens");
}

TEST_F(TokenTest, NumUsesHoldsUnderConcurrentRequests) {
  ASSERT_EQ(Root("PUT", "/v1/secret/n", {{"v", "1"}}).status, 204);
  PutPolicy("reader", R"(path "secret/*" { capabilities = ["read"] })");
  auto hammer = [&](const std::string& tok, const std::string& path, int* ok_out, int* denied_out) {
    std::atomic<int> ok{0}, denied{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 5; ++j) {
          int s = Call("GET", path, nullptr, tok).status;
          if (s == 200) ++ok;
          else if (s == 403) ++denied;
        }
      });
    }
    for (auto& t : threads) t.join();
    *ok_out = ok.load();
    *denied_out = denied.load();
  };
  // Exactly num_uses requests succeed, however they interleave.
  int ok = 0, denied = 0;
  hammer(NewToken({{"policies", {"reader"}}, {"num_uses", 7}}), "/v1/secret/n", &ok, &denied);
  EXPECT_EQ(ok, 7);
  EXPECT_EQ(denied, 23);
  // lookup-self re-reads the token, so a use counted by a request that is
  // still in flight when the last use revokes the token can end in 403 (as
  // in Vault); the count is never overspent.
  hammer(NewToken({{"policies", {"default"}}, {"num_uses", 7}}), "/v1/auth/token/lookup-self", &ok, &denied);
  EXPECT_GE(ok, 1);
  EXPECT_LE(ok, 7);
  EXPECT_EQ(ok + denied, 30);
}

// ---------------------------------------------------------------------------
// The token tree

TEST_F(TokenTest, RevokingParentRevokesDescendantsButNotOrphans) {
  PutPolicy("creator", R"(
path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create-orphan" { capabilities = ["update"] })");
  std::string a = NewToken({{"policies", {"creator"}}});
  std::string b = NewToken({}, a);
  std::string c = NewToken({}, b);
  Json orphan = Create({}, a, "create-orphan");
  EXPECT_EQ(orphan["auth"]["orphan"], true);
  std::string o = orphan["auth"]["client_token"];
  EXPECT_EQ(LookupSelf(b)["data"]["orphan"], false);
  EXPECT_EQ(LookupSelf(b)["data"]["policies"], Json({"creator", "default"}));  // inherited

  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke", {{"token", a}}).status, 204);
  EXPECT_EQ(SelfStatus(a), 403);
  EXPECT_EQ(SelfStatus(b), 403);
  EXPECT_EQ(SelfStatus(c), 403);
  EXPECT_EQ(SelfStatus(o), 200);
  // Revoking an unknown token is idempotent; a missing one is an error.
  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke", {{"token", a}}).status, 204);
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/revoke", Json::object())), "missing token ID");

  // no_parent needs root or sudo.
  auto np = Call("POST", "/v1/auth/token/create", Json{{"no_parent", true}}, o);
  EXPECT_EQ(np.status, 400);
  EXPECT_EQ(Err(np), "root or sudo privileges required to create orphan token");
  EXPECT_EQ(Create({{"no_parent", true}})["auth"]["orphan"], true);
}

// A child never outlives its parent (a deliberate difference from Vault,
// whose expiration manager revokes the tree the moment the parent expires).
TEST_F(TokenTest, ChildTtlIsCappedByParent) {
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string parent = NewToken({{"policies", {"creator"}}, {"ttl", "100s"}});
  clock_.AdvanceSeconds(40);
  Json child = Create({{"ttl", "1h"}}, parent);
  EXPECT_EQ(child["auth"]["lease_duration"], 60);
  std::string c = child["auth"]["client_token"];
  EXPECT_EQ(LookupSelf(c)["data"]["ttl"], 60);
  // Renewing the child cannot push it past the parent either.
  auto r = Call("POST", "/v1/auth/token/renew-self", Json{{"increment", "1h"}}, c);
  EXPECT_EQ(J(r)["auth"]["lease_duration"], 60);
  clock_.AdvanceSeconds(60);
  EXPECT_EQ(SelfStatus(parent), 403);
  EXPECT_EQ(SelfStatus(c), 403);
}

TEST_F(TokenTest, TidyRevokesChildrenOfExpiredParents) {
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string parent = NewToken({{"policies", {"creator"}}, {"ttl", "100s"}});
  std::string c = NewToken({{"ttl", "1h"}}, parent);
  clock_.AdvanceSeconds(100);
  ASSERT_EQ(Root("POST", "/v1/auth/token/tidy").status, 202);
  EXPECT_EQ(SelfStatus(c), 403);
}

TEST_F(TokenTest, RevokeOrphanKeepsChildren) {
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string p = NewToken({{"policies", {"creator"}}});
  std::string q = NewToken({}, p);
  std::string r = NewToken({}, q);
  // Without sudo: 400, as Vault.
  PutPolicy("revoker", R"(path "auth/token/revoke-orphan" { capabilities = ["update"] })");
  std::string revoker = NewToken({{"policies", {"revoker"}}});
  auto no = Call("POST", "/v1/auth/token/revoke-orphan", Json{{"token", p}}, revoker);
  EXPECT_EQ(no.status, 400);
  EXPECT_EQ(Err(no), "root or sudo privileges required to revoke and orphan");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/revoke-orphan", {{"token", "hvs.nope"}})), "token to revoke not found");

  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke-orphan", {{"token", p}}).status, 204);
  EXPECT_EQ(SelfStatus(p), 403);
  EXPECT_EQ(SelfStatus(q), 200);
  EXPECT_EQ(LookupSelf(q)["data"]["orphan"], true);
  EXPECT_EQ(LookupSelf(r)["data"]["orphan"], false);
  // q is now a root of its own tree.
  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke", {{"token", q}}).status, 204);
  EXPECT_EQ(SelfStatus(r), 403);
}

TEST_F(TokenTest, RevokeSelfRevokesTheTree) {
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string a = NewToken({{"policies", {"creator"}}});
  std::string b = NewToken({}, a);
  EXPECT_EQ(Call("POST", "/v1/auth/token/revoke-self", nullptr, a).status, 204);
  EXPECT_EQ(SelfStatus(a), 403);
  EXPECT_EQ(SelfStatus(b), 403);
}

// ---------------------------------------------------------------------------
// Accessors

TEST_F(TokenTest, AccessorOperations) {
  Json c = Create({{"policies", {"dev"}}, {"ttl", "1h"}});
  std::string tok = c["auth"]["client_token"];
  std::string acc = c["auth"]["accessor"];
  auto l = Root("POST", "/v1/auth/token/lookup-accessor", {{"accessor", acc}});
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(J(l)["data"]["id"], "");
  EXPECT_EQ(J(l)["data"]["accessor"], acc);
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/lookup-accessor", {{"accessor", "nope"}})),
            Multierror("invalid accessor"));
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/lookup-accessor", Json::object())), Multierror("missing accessor"));

  // LIST accessors is sudo-protected.
  auto list = Root("LIST", "/v1/auth/token/accessors");
  ASSERT_EQ(list.status, 200);
  Json list_keys = J(list)["data"]["keys"];
  std::set<std::string> keys(list_keys.begin(), list_keys.end());
  EXPECT_TRUE(keys.count(acc));
  EXPECT_EQ(Root("GET", "/v1/auth/token/accessors?list=true").status, 200);
  PutPolicy("lister", R"(path "auth/token/accessors" { capabilities = ["list"] })");
  std::string lister = NewToken({{"policies", {"lister"}}});
  EXPECT_EQ(Call("LIST", "/v1/auth/token/accessors", nullptr, lister).status, 403);
  PutPolicy("sudolister", R"(path "auth/token/accessors" { capabilities = ["list", "sudo"] })");
  std::string sudolister = NewToken({{"policies", {"sudolister"}}});
  EXPECT_EQ(Call("LIST", "/v1/auth/token/accessors", nullptr, sudolister).status, 200);

  auto unknown = Root("POST", "/v1/auth/token/revoke-accessor", {{"accessor", "nope"}});
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(J(unknown)["warnings"][0], "No token found with this accessor");
  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke-accessor", {{"accessor", acc}}).status, 204);
  EXPECT_EQ(SelfStatus(tok), 403);
}

// ---------------------------------------------------------------------------
// Policies on children

TEST_F(TokenTest, ChildPoliciesMustBeSubsetAndOnlyRootMintsRoot) {
  PutPolicy("p1", R"(path "auth/token/create" { capabilities = ["update"] })");
  PutPolicy("p2", R"(path "secret/*" { capabilities = ["read"] })");
  std::string t = NewToken({{"policies", {"p1"}}});
  EXPECT_EQ(Create({{"policies", {"P1"}}}, t)["auth"]["policies"], Json({"default", "p1"}));
  EXPECT_EQ(Create({{"policies", {"p1"}}, {"no_default_policy", true}}, t)["auth"]["policies"], Json({"p1"}));
  for (Json bad : {Json({"p2"}), Json({"p1", "p2"}), Json({"root"}), Json({"Root"}), Json({" root"}), Json({"ROOT "})}) {
    auto r = Call("POST", "/v1/auth/token/create", Json{{"policies", bad}}, t);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(Err(r), "child policies must be subset of parent") << bad.dump();
  }
  // Sudo skips the subset rule but never grants root.
  PutPolicy("sudoer", R"(path "auth/token/create" { capabilities = ["update", "sudo"] })");
  std::string s = NewToken({{"policies", {"sudoer"}}});
  EXPECT_EQ(Create({{"policies", {"p2"}}}, s)["auth"]["policies"], Json({"default", "p2"}));
  for (Json bad : {Json({"root"}), Json({"Root", "p2"}), Json({" ROOT"})}) {
    auto r = Call("POST", "/v1/auth/token/create", Json{{"policies", bad}}, s);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(Err(r), "root tokens may not be created without parent token being root") << bad.dump();
  }
  // Custom ids need root or sudo, and have rules.
  EXPECT_EQ(Err(Call("POST", "/v1/auth/token/create", Json{{"id", "mine"}}, t)),
            "root or sudo privileges required to specify token id");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"id", "hvs.x"}})), "custom token ID cannot have the 'hvs.' prefix");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"id", "a.b"}})), "custom token ID cannot have a '.' in the value");
  Json custom = Create({{"id", "my-custom-token"}});
  EXPECT_EQ(custom["auth"]["client_token"], "my-custom-token");
  EXPECT_EQ(SelfStatus("my-custom-token"), 200);
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"id", "my-custom-token"}})),
            "cannot create a token with a duplicate ID");
  // A token created with a case-variant "root" policy through a policy named
  // like root is impossible: the name cannot be stored either.
  EXPECT_EQ(Err(Root("PUT", "/v1/sys/policies/acl/Root", {{"policy", "path \"*\" { capabilities = [\"sudo\"] }"}})),
            "cannot update \"root\" policy");
}

// ---------------------------------------------------------------------------
// Roles

TEST_F(TokenTest, RolesCrudAndCreateAgainstRole) {
  auto w = Root("POST", "/v1/auth/token/roles/ci",
                {{"allowed_policies", "Dev, ops"}, {"orphan", true}, {"path_suffix", "rev1"}, {"token_num_uses", 3},
                 {"token_period", "0"}, {"renewable", true}});
  ASSERT_EQ(w.status, 204) << w.body;
  auto rd = Root("GET", "/v1/auth/token/roles/ci");
  ASSERT_EQ(rd.status, 200);
  Json d = J(rd)["data"];
  EXPECT_EQ(d["name"], "ci");
  EXPECT_EQ(d["allowed_policies"], Json({"dev", "ops"}));
  EXPECT_EQ(d["disallowed_policies"], Json::array());
  EXPECT_EQ(d["orphan"], true);
  EXPECT_EQ(d["path_suffix"], "rev1");
  EXPECT_EQ(d["renewable"], true);
  EXPECT_EQ(d["token_type"], "default-service");
  EXPECT_EQ(d["token_num_uses"], 3);
  EXPECT_EQ(d["token_period"], 0);
  EXPECT_EQ(d["allowed_entity_aliases"], nullptr);
  EXPECT_EQ(J(Root("LIST", "/v1/auth/token/roles"))["data"]["keys"], Json({"ci"}));

  Json c = Create({{"policies", {"dev"}}}, "", "create/ci");
  EXPECT_EQ(c["auth"]["policies"], Json({"default", "dev"}));
  EXPECT_EQ(c["auth"]["orphan"], true);
  EXPECT_EQ(c["auth"]["num_uses"], 3);
  std::string tok = c["auth"]["client_token"];
  Json ld = J(Root("POST", "/v1/auth/token/lookup", {{"token", tok}}))["data"];
  EXPECT_EQ(ld["path"], "auth/token/create/ci/rev1");
  EXPECT_EQ(ld["role"], "ci");
  // No policies asked: the role's allowed set.
  EXPECT_EQ(Create({}, "", "create/ci")["auth"]["policies"], Json({"default", "dev", "ops"}));
  auto bad = Root("POST", "/v1/auth/token/create/ci", {{"policies", {"admin"}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Err(bad).find("must be subset of the role's allowed policies"), std::string::npos);
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create/nope", Json::object())), "unknown role nope");

  // Update keeps what is not given; disallowed policies apply.
  ASSERT_EQ(Root("POST", "/v1/auth/token/roles/ci", {{"disallowed_policies", "ops"}}).status, 204);
  EXPECT_EQ(J(Root("GET", "/v1/auth/token/roles/ci"))["data"]["path_suffix"], "rev1");
  // Vault's suffix rule needs three characters at least.
  EXPECT_EQ(Root("POST", "/v1/auth/token/roles/ci", {{"path_suffix", "v1"}}).status, 400);
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create/ci", {{"policies", {"ops"}}})),
            "token policy \"ops\" is disallowed by this role");

  // Batch roles must be orphan, non-renewable and non-periodic.
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/roles/b", {{"token_type", "batch"}})),
            "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
  EXPECT_EQ(Root("POST", "/v1/auth/token/roles/b", {{"token_type", "batch"}, {"orphan", true}, {"renewable", false}})
                .status,
            204);
  Json bt = Create({{"policies", {"default"}}}, "", "create/b");
  EXPECT_EQ(bt["auth"]["token_type"], "batch");
  // Root's children inherit root, and batch tokens can never be root.
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create/b", Json::object())), "batch tokens cannot be root tokens");

  EXPECT_EQ(Root("DELETE", "/v1/auth/token/roles/ci").status, 204);
  EXPECT_EQ(Root("GET", "/v1/auth/token/roles/ci").status, 404);
  // Renewing a token whose role is gone fails, as Vault.
  auto rn = Call("POST", "/v1/auth/token/renew-self", nullptr, tok);
  EXPECT_EQ(rn.status, 400);
  EXPECT_EQ(Err(rn), "original token role \"ci\" could not be found, not renewing");
}

// As Vault: the role's period and explicit max bound the token's TTL (at
// creation and on renewal), but its lookup shows only the token's own values.
TEST_F(TokenTest, RoleDurationsBoundTheTtlButStayOffTheToken) {
  ASSERT_EQ(Root("POST", "/v1/auth/token/roles/capped", {{"token_explicit_max_ttl", "2m"}}).status, 204);
  ASSERT_EQ(Root("POST", "/v1/auth/token/roles/periodic", {{"token_period", "10m"}}).status, 204);
  Json capped = Create({{"ttl", "1h"}}, "", "create/capped");
  EXPECT_EQ(capped["auth"]["lease_duration"], 120);
  std::string ct = capped["auth"]["client_token"];
  Json cd = LookupSelf(ct)["data"];
  EXPECT_EQ(cd["explicit_max_ttl"], 0);
  EXPECT_FALSE(cd.contains("period"));
  clock_.AdvanceSeconds(60);
  auto cr = Call("POST", "/v1/auth/token/renew-self", Json{{"increment", "1h"}}, ct);
  EXPECT_EQ(J(cr)["auth"]["lease_duration"], 60);

  Json periodic = Create({{"ttl", "1h"}}, "", "create/periodic");
  EXPECT_EQ(periodic["auth"]["lease_duration"], 600);
  std::string pt = periodic["auth"]["client_token"];
  Json pd = LookupSelf(pt)["data"];
  EXPECT_FALSE(pd.contains("period"));
  EXPECT_EQ(pd["explicit_max_ttl"], 0);
  auto pr = Call("POST", "/v1/auth/token/renew-self", Json{{"increment", "1h"}}, pt);
  EXPECT_EQ(J(pr)["auth"]["lease_duration"], 600);
}

TEST_F(TokenTest, ChildOfRootWithoutPoliciesInheritsRoot) {
  // Vault semantics: no policies asked means the parent's set.
  EXPECT_EQ(Create({})["auth"]["policies"], Json({"root"}));
  std::string d = NewToken({{"policies", {"default"}}});
  EXPECT_EQ(LookupSelf(d)["data"]["policies"], Json({"default"}));
}

// ---------------------------------------------------------------------------
// Batch tokens

TEST_F(TokenTest, BatchTokens) {
  PutPolicy("reader", R"(path "secret/*" { capabilities = ["read"] })");
  ASSERT_EQ(Root("PUT", "/v1/secret/app", {{"k", "v"}}).status, 204);
  Json c = Create({{"type", "batch"}, {"policies", {"reader"}}, {"ttl", "1h"}});
  Json a = c["auth"];
  std::string b = a["client_token"];
  ASSERT_EQ(b.rfind("hvb.", 0), 0u);
  EXPECT_EQ(a["accessor"], "");
  EXPECT_EQ(a["renewable"], false);
  EXPECT_EQ(a["token_type"], "batch");
  EXPECT_EQ(a["lease_duration"], 3600);
  EXPECT_EQ(a["policies"], Json({"default", "reader"}));

  Json d = LookupSelf(b)["data"];
  EXPECT_EQ(d["id"], b);
  EXPECT_EQ(d["type"], "batch");
  EXPECT_EQ(d["ttl"], 3600);
  EXPECT_EQ(d["renewable"], false);
  EXPECT_TRUE(d["issue_time"].is_string());
  EXPECT_TRUE(d["expire_time"].is_string());
  EXPECT_EQ(d["accessor"], "");
  EXPECT_EQ(Call("GET", "/v1/secret/app", nullptr, b).status, 200);
  EXPECT_EQ(Call("PUT", "/v1/secret/app", Json{{"k", "w"}}, b).status, 403);

  // Not renewable, not revocable, no children.
  EXPECT_EQ(Err(Call("POST", "/v1/auth/token/renew-self", nullptr, b)), "batch tokens cannot be renewed");
  EXPECT_EQ(Err(Call("POST", "/v1/auth/token/revoke-self", nullptr, b)), "batch tokens cannot be revoked");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/revoke", {{"token", b}})), "batch tokens cannot be revoked");
  PutPolicy("creator", R"(path "auth/token/create" { capabilities = ["update"] })");
  std::string bc = NewToken({{"type", "batch"}, {"policies", {"creator"}}});
  EXPECT_EQ(Err(Call("POST", "/v1/auth/token/create", Json::object(), bc)), "batch tokens cannot create more tokens");
  // Field rules.
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"type", "batch"}, {"num_uses", 2}})),
            "batch tokens cannot have \"num_uses\" set");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"type", "batch"}, {"period", "1h"}})),
            "batch tokens cannot have \"period\" set");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"type", "batch"}, {"explicit_max_ttl", "1h"}})),
            "batch tokens cannot have \"explicit_max_ttl\" set");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"type", "batch"}, {"policies", {"root"}}})),
            "batch tokens cannot be root tokens");
  EXPECT_EQ(Err(Root("POST", "/v1/auth/token/create", {{"type", "weird"}})), "invalid 'token_type' value");

  // Tampering with any character breaks the GCM tag.
  std::string tampered = b;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(SelfStatus(tampered), 403);
  EXPECT_EQ(SelfStatus("hvb.garbage"), 403);
  EXPECT_EQ(SelfStatus("hvb."), 403);

  // Survives a seal/unseal (the key is kept under the barrier).
  ASSERT_EQ(Root("PUT", "/v1/sys/seal").status, 204);
  ASSERT_EQ(Call("PUT", "/v1/sys/unseal", Json{{"key", unseal_key_}}).status, 200);
  EXPECT_EQ(SelfStatus(b), 200);

  // A non-orphan batch token dies with its parent.
  std::string parent = NewToken({{"policies", {"creator", "reader"}}});
  std::string child = NewToken({{"type", "batch"}}, parent);
  EXPECT_EQ(SelfStatus(child), 200);
  EXPECT_EQ(Root("POST", "/v1/auth/token/revoke", {{"token", parent}}).status, 204);
  EXPECT_EQ(SelfStatus(child), 403);

  // And expires.
  clock_.AdvanceSeconds(3600);
  EXPECT_EQ(SelfStatus(b), 403);
}

// ---------------------------------------------------------------------------
// ACL through the pipeline

TEST_F(TokenTest, ReadOnlyPolicyReadsButCannotWriteAndListNeedsList) {
  ASSERT_EQ(Root("PUT", "/v1/secret/app/db", {{"password", "x"}}).status, 204);
  PutPolicy("ro", R"(path "secret/*" { capabilities = ["read"] })");
  std::string ro = NewToken({{"policies", {"ro"}}});
  EXPECT_EQ(Call("GET", "/v1/secret/app/db", nullptr, ro).status, 200);
  EXPECT_EQ(Call("PUT", "/v1/secret/app/db", Json{{"password", "y"}}, ro).status, 403);
  EXPECT_EQ(Call("PUT", "/v1/secret/app/new", Json{{"a", "b"}}, ro).status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/secret/app/db", nullptr, ro).status, 403);
  EXPECT_EQ(Call("LIST", "/v1/secret/app", nullptr, ro).status, 403);
  PutPolicy("lister", R"(path "secret/*" { capabilities = ["read", "list"] })");
  std::string lister = NewToken({{"policies", {"lister"}}});
  auto l = Call("LIST", "/v1/secret/app", nullptr, lister);
  ASSERT_EQ(l.status, 200) << l.body;
  EXPECT_EQ(J(l)["data"]["keys"], Json({"db"}));
  // create-only: writes new keys, cannot update existing ones (existence check).
  PutPolicy("creator", R"(path "secret/*" { capabilities = ["create"] })");
  std::string cr = NewToken({{"policies", {"creator"}}});
  EXPECT_EQ(Call("PUT", "/v1/secret/app/fresh", Json{{"a", "b"}}, cr).status, 204);
  EXPECT_EQ(Call("PUT", "/v1/secret/app/fresh", Json{{"a", "c"}}, cr).status, 403);
  // A policy change takes effect at once (the ACL cache is invalidated).
  PutPolicy("ro", R"(path "secret/*" { capabilities = ["read", "update"] })");
  EXPECT_EQ(Call("PUT", "/v1/secret/app/db", Json{{"password", "y"}}, ro).status, 204);
  ASSERT_EQ(Root("DELETE", "/v1/sys/policies/acl/ro").status, 204);
  EXPECT_EQ(Call("GET", "/v1/secret/app/db", nullptr, ro).status, 403);
}

TEST_F(TokenTest, AdvisoryPatterns) {
  PutPolicy("ok", R"(
path "secret/data/ok/*" { capabilities = ["read", "list"] }
path "secret/*" { capabilities = ["list"] }
path "secret/a/*" { capabilities = ["deny"] })");
  std::string t = NewToken({{"policies", {"ok"}}});
  ASSERT_EQ(Root("PUT", "/v1/secret/data/forbidden", {{"x", "1"}}).status, 204);
  ASSERT_EQ(Root("PUT", "/v1/secret/a/b/c", {{"x", "1"}}).status, 204);
  // Dot segments never reach the router (HCSEC-2026-05).
  for (const char* p : {"/v1/secret/data/ok/../forbidden", "/v1/secret/data/ok/%2e%2e/forbidden",
                        "/v1/secret/data/ok/./../forbidden", "/v1/secret//data/forbidden"}) {
    auto r = Call("GET", p, nullptr, t);
    EXPECT_EQ(r.status, 400) << p;
    EXPECT_EQ(Call("GET", p, nullptr, root_).status, 400) << p;
  }
  EXPECT_EQ(Call("GET", "/v1/secret/data/forbidden", nullptr, t).status, 403);
  // LIST never passes a deny on the selected pattern (GHSA-xp3c-3jw3-4vcr).
  EXPECT_EQ(Call("LIST", "/v1/secret/a/b", nullptr, t).status, 403);
  EXPECT_EQ(Call("LIST", "/v1/secret/a/", nullptr, t).status, 403);
  EXPECT_EQ(Call("GET", "/v1/secret/a/b?list=true", nullptr, t).status, 403);
  EXPECT_EQ(Call("LIST", "/v1/secret/", nullptr, t).status, 200);
}

TEST_F(TokenTest, SudoPathsNeedSudo) {
  PutPolicy("almost", R"(path "auth/token/accessors" { capabilities = ["list", "read", "update"] })");
  std::string t = NewToken({{"policies", {"almost"}}});
  EXPECT_EQ(Call("LIST", "/v1/auth/token/accessors", nullptr, t).status, 403);
}

// ---------------------------------------------------------------------------
// Cubbyhole dies with its token

TEST_F(TokenTest, CubbyholeIsPrivateAndDestroyedOnRevoke) {
  std::string a = NewToken({});
  std::string b = NewToken({});
  ASSERT_EQ(Call("PUT", "/v1/cubbyhole/secret", Json{{"v", "a"}}, a).status, 204);
  EXPECT_EQ(J(Call("GET", "/v1/cubbyhole/secret", nullptr, a))["data"]["v"], "a");
  EXPECT_EQ(Call("GET", "/v1/cubbyhole/secret", nullptr, b).status, 404);
  Json la = LookupSelf(a);
  ASSERT_EQ(Root("POST", "/v1/auth/token/revoke", {{"token", a}}).status, 204);
  // Re-creating the same token id cannot resurrect the data: check the
  // storage through a custom-id token whose hash equals nothing old, and
  // the mount's keys directly through root (root's own cubbyhole is empty).
  auto* impl = static_cast<core::CoreImpl*>(core_.get());
  auto mount = impl->router().Get("cubbyhole/");
  ASSERT_NE(mount, nullptr);
  auto keys = ListRecursive(*mount->view, "");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty()) << keys->size();
  // Expired tokens lose their cubbyhole too (on sight or on tidy).
  std::string e = NewToken({{"ttl", "5s"}});
  ASSERT_EQ(Call("PUT", "/v1/cubbyhole/x", Json{{"v", "e"}}, e).status, 204);
  clock_.AdvanceSeconds(6);
  EXPECT_EQ(Root("POST", "/v1/auth/token/tidy").status, 202);
  EXPECT_TRUE(ListRecursive(*mount->view, "")->empty());
}

// ---------------------------------------------------------------------------
// sys/policy and sys/policies/acl

TEST_F(TokenTest, PoliciesAclApi) {
  auto l = Root("LIST", "/v1/sys/policies/acl");
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(J(l)["data"]["keys"], Json({"default", "root"}));
  EXPECT_FALSE(J(l).contains("keys"));  // not injected
  EXPECT_EQ(Root("GET", "/v1/sys/policies/acl?list=true").status, 200);

  const std::string text = "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n";
  EXPECT_EQ(Root("PUT", "/v1/sys/policies/acl/dev", {{"policy", text}}).status, 204);
  auto g = Root("GET", "/v1/sys/policies/acl/dev");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(J(g)["data"], Json({{"name", "dev"}, {"policy", text}}));
  EXPECT_FALSE(J(g).contains("policy"));
  // Base64 text is decoded first.
  const std::string b64 = "cGF0aCAic2VjcmV0LyoiIHsgY2FwYWJpbGl0aWVzID0gWyJsaXN0Il0gfQ==";
  EXPECT_EQ(Root("POST", "/v1/sys/policies/acl/b64", {{"policy", b64}}).status, 204);
  EXPECT_EQ(J(Root("GET", "/v1/sys/policies/acl/b64"))["data"]["policy"],
            "path \"secret/*\" { capabilities = [\"list\"] }");
  // Name normalisation with a warning.
  auto up = Root("PUT", "/v1/sys/policies/acl/MixedCase", {{"policy", text}});
  EXPECT_EQ(up.status, 200);
  EXPECT_EQ(J(up)["warnings"][0], "policy name was converted to mixedcase");
  EXPECT_EQ(J(Root("GET", "/v1/sys/policies/acl/MIXEDCASE"))["data"]["name"], "mixedcase");
  // Errors.
  EXPECT_EQ(Err(Root("PUT", "/v1/sys/policies/acl/x", {{"policy", ""}})), "'policy' parameter not supplied or empty");
  EXPECT_EQ(Err(Root("PUT", "/v1/sys/policies/acl/x", Json::object())), "'policy' parameter not supplied or empty");
  auto pe = Root("PUT", "/v1/sys/policies/acl/x", {{"policy", "path \"a\" { capabilities = [\"fly\"] }"}});
  EXPECT_EQ(pe.status, 400);
  EXPECT_EQ(Err(pe).rfind("failed to parse policy: ", 0), 0u) << Err(pe);
  for (const char* n : {"root", "Root", "%20root", "ROOT%20"}) {
    auto r = Root("PUT", std::string("/v1/sys/policies/acl/") + n, {{"policy", text}});
    EXPECT_EQ(r.status, 400) << n;
    EXPECT_EQ(Err(r), "cannot update \"root\" policy") << n;
  }
  EXPECT_EQ(Err(Root("DELETE", "/v1/sys/policies/acl/root")), "cannot delete \"root\" policy");
  EXPECT_EQ(Err(Root("DELETE", "/v1/sys/policies/acl/Default")), "cannot delete default policy");
  // root reads as empty; default is editable.
  EXPECT_EQ(J(Root("GET", "/v1/sys/policies/acl/root"))["data"], Json({{"name", "root"}, {"policy", ""}}));
  EXPECT_EQ(Root("PUT", "/v1/sys/policies/acl/default", {{"policy", text}}).status, 204);
  EXPECT_EQ(J(Root("GET", "/v1/sys/policies/acl/default"))["data"]["policy"], text);
  // Missing: 404 []; delete is idempotent.
  auto miss = Root("GET", "/v1/sys/policies/acl/nope");
  EXPECT_EQ(miss.status, 404);
  EXPECT_EQ(miss.body, R"({"errors":[]})");
  EXPECT_EQ(Root("DELETE", "/v1/sys/policies/acl/nope").status, 204);
  EXPECT_EQ(Root("DELETE", "/v1/sys/policies/acl/dev").status, 204);
  EXPECT_EQ(Root("GET", "/v1/sys/policies/acl/dev").status, 404);
  // Needs a token with rights (a child of root with no policies would inherit root).
  std::string plain = NewToken({{"policies", {"default"}}});
  EXPECT_EQ(Call("GET", "/v1/sys/policies/acl/default", nullptr, plain).status, 403);
}

TEST_F(TokenTest, LegacyPolicyApi) {
  const std::string text = "path \"secret/*\" { capabilities = [\"read\"] }";
  EXPECT_EQ(Root("PUT", "/v1/sys/policy/dev", {{"policy", text}}).status, 204);
  auto l = Root("GET", "/v1/sys/policy");
  ASSERT_EQ(l.status, 200);
  Json j = J(l);
  EXPECT_EQ(j["data"]["keys"], Json({"default", "dev", "root"}));
  EXPECT_EQ(j["data"]["policies"], j["data"]["keys"]);
  EXPECT_EQ(j["policies"], j["data"]["keys"]);  // injected
  EXPECT_EQ(J(Root("LIST", "/v1/sys/policy"))["data"]["keys"], j["data"]["keys"]);
  auto g = J(Root("GET", "/v1/sys/policy/dev"));
  EXPECT_EQ(g["data"], Json({{"name", "dev"}, {"rules", text}}));
  EXPECT_EQ(g["rules"], text);
  EXPECT_EQ(g["name"], "dev");
  // Legacy "rules" body, with the deprecation warning (node-vault sends it).
  auto r = Root("PUT", "/v1/sys/policy/old", {{"name", "old"}, {"rules", text}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(J(r)["warnings"][0], "'rules' is deprecated, please use 'policy' instead");
  EXPECT_EQ(J(Root("GET", "/v1/sys/policy/old"))["rules"], text);
  EXPECT_EQ(Err(Root("PUT", "/v1/sys/policy/Root", {{"policy", text}})), "cannot update \"root\" policy");
  EXPECT_EQ(Root("DELETE", "/v1/sys/policy/old").status, 204);
  EXPECT_EQ(Root("GET", "/v1/sys/policy/old").status, 404);
}

TEST_F(TokenTest, Capabilities) {
  PutPolicy("dev", R"(
path "secret/app/*" { capabilities = ["read", "list"] }
path "secret/app/admin" { capabilities = ["deny"] }
path "sys/capabilities" { capabilities = ["update"] })");
  Json c = Create({{"policies", {"dev"}}});
  std::string t = c["auth"]["client_token"];
  std::string acc = c["auth"]["accessor"];

  auto self = Call("POST", "/v1/sys/capabilities-self", Json{{"paths", {"secret/app/x", "secret/app/admin", "other"}}}, t);
  ASSERT_EQ(self.status, 200) << self.body;
  Json d = J(self);
  EXPECT_EQ(d["data"]["secret/app/x"], Json({"list", "read"}));
  EXPECT_EQ(d["data"]["secret/app/admin"], Json({"deny"}));
  EXPECT_EQ(d["data"]["other"], Json({"deny"}));
  EXPECT_EQ(d["secret/app/x"], Json({"list", "read"}));  // injected
  EXPECT_FALSE(d["data"].contains("capabilities"));

  // One path: also "capabilities"; legacy "path".
  Json one = J(Call("POST", "/v1/sys/capabilities-self", Json{{"path", "secret/app/x"}}, t));
  EXPECT_EQ(one["data"]["capabilities"], Json({"list", "read"}));
  EXPECT_EQ(one["capabilities"], Json({"list", "read"}));

  EXPECT_EQ(J(Root("POST", "/v1/sys/capabilities-self", {{"paths", {"anything"}}}))["data"]["anything"],
            Json({"root"}));
  EXPECT_EQ(J(Root("POST", "/v1/sys/capabilities", {{"token", t}, {"paths", {"secret/app/x"}}}))["data"]["secret/app/x"],
            Json({"list", "read"}));
  EXPECT_EQ(J(Root("POST", "/v1/sys/capabilities-accessor", {{"accessor", acc}, {"paths", {"secret/app/x"}}}))
                ["data"]["capabilities"],
            Json({"list", "read"}));

  EXPECT_EQ(Err(Call("POST", "/v1/sys/capabilities-self", Json::object(), t)), "paths must be supplied");
  EXPECT_EQ(Err(Root("POST", "/v1/sys/capabilities", {{"token", "hvs.nope"}, {"paths", {"a"}}})),
            Multierror("invalid token"));
  EXPECT_EQ(Err(Root("POST", "/v1/sys/capabilities-accessor", {{"accessor", "nope"}, {"paths", {"a"}}})),
            Multierror("invalid accessor"));
  // No `token`: never the caller's own (Vault: "no token found", a 500 there).
  auto none = Root("POST", "/v1/sys/capabilities", {{"paths", {"a"}}});
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(Err(none), Multierror("no token found"));
  // A token without the grant cannot ask about others.
  std::string plain = NewToken({{"policies", {"default"}}});
  EXPECT_EQ(Call("POST", "/v1/sys/capabilities", Json{{"token", t}, {"paths", {"a"}}}, plain).status, 403);
  EXPECT_EQ(Call("POST", "/v1/sys/capabilities-self", Json{{"paths", {"a"}}}, plain).status, 200);
}

// ---------------------------------------------------------------------------
// Misc

TEST_F(TokenTest, TokensSurviveSealAndUnseal) {
  Json c = Create({{"policies", {"dev"}}, {"ttl", "1h"}});
  std::string t = c["auth"]["client_token"];
  ASSERT_EQ(Root("PUT", "/v1/sys/seal").status, 204);
  EXPECT_EQ(SelfStatus(t), 503);
  ASSERT_EQ(Call("PUT", "/v1/sys/unseal", Json{{"key", unseal_key_}}).status, 200);
  EXPECT_EQ(SelfStatus(t), 200);
}

TEST_F(TokenTest, UnknownFieldsWarnAndMethodsAreChecked) {
  Json c = Create({{"bogus", 1}});
  EXPECT_EQ(c["warnings"][0], "Endpoint ignored these unrecognized parameters: [bogus]");
  EXPECT_EQ(Root("GET", "/v1/auth/token/create").status, 405);
  EXPECT_EQ(Root("GET", "/v1/auth/token/nothing").status, 404);
}

}  // namespace
}  // namespace sealbox::auth
