// The direct entry writer against a reference that does it the slow, obvious
// way: build the entry as a JSON tree, hash its leaves in place, prune empty
// values (Go's omitempty), serialise. Both must give the same bytes for every
// request and response shape, including random data trees.
#include "audit/entry_format.h"

#include <gtest/gtest.h>

#include <random>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/json_util.h"
#include "base/url_query.h"

namespace sealbox::audit {
namespace {

struct Reference {
  const EntryOptions& opt;
  const crypto::HmacSha256Key& salt;

  std::string H(const std::string& v) const { return v.empty() || opt.log_raw ? v : HashValue(salt, v); }
  std::string HA(const std::string& v) const { return opt.hmac_accessor ? H(v) : v; }

  void HashTree(Json& j, const std::vector<std::string>* skip) const {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it)
        if (!skip || std::count(skip->begin(), skip->end(), it.key()) == 0) HashTree(it.value(), nullptr);
    } else if (j.is_array()) {
      for (auto& e : j) HashTree(e, nullptr);
    } else if (j.is_string()) {
      j = HashValue(salt, j.get<std::string>());
    } else if (j.is_number()) {
      j = HashValue(salt, j.dump());
    }
  }
  static void Prune(Json& j) {
    for (auto it = j.begin(); it != j.end();) {
      if (it->is_object()) Prune(*it);
      const bool empty = it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
                         ((it->is_object() || it->is_array()) && it->empty());
      it = empty ? j.erase(it) : std::next(it);
    }
  }
  std::string PathOf(const std::string& p) const {
    for (std::string prefix : {"/v1/auth/token/", "auth/token/"}) {
      if (opt.log_raw || p.rfind(prefix, 0) != 0) continue;
      size_t op_end = p.find('/', prefix.size());
      if (op_end == std::string::npos || op_end + 1 >= p.size()) return p;
      return p.substr(0, op_end + 1) + H(p.substr(op_end + 1));
    }
    return p;
  }
  // The path as PathOf, every query value hashed (its decoded text), keys
  // and order kept; empty pairs dropped.
  std::string UriOf(const std::string& uri, const std::vector<std::string>& clear_keys) const {
    const size_t qm = uri.find('?');
    if (opt.log_raw) return uri;
    std::string out = PathOf(uri.substr(0, qm));
    if (qm == std::string::npos) return out;
    out += '?';
    std::string q = uri.substr(qm + 1) + "&";
    bool first = true;
    for (size_t start = 0, amp; (amp = q.find('&', start)) != std::string::npos; start = amp + 1) {
      std::string pair = q.substr(start, amp - start);
      if (pair.empty()) continue;
      if (!first) out += '&';
      first = false;
      const size_t eq = pair.find('=');
      if (eq == std::string::npos) {
        out += pair;
        continue;
      }
      const std::string key = pair.substr(0, eq), value = PercentDecode(pair.substr(eq + 1), true);
      const bool clear = std::count(clear_keys.begin(), clear_keys.end(), PercentDecode(key, true)) > 0;
      out += key + "=" + (clear ? pair.substr(eq + 1) : H(value));
    }
    return out;
  }
  template <typename T>
  Json Token(const std::string& client_token, const T& t, const std::vector<std::string>& tp) const {
    return Json{{"client_token", H(client_token)}, {"accessor", HA(t.accessor)}, {"display_name", t.display_name},
                {"policies", t.policies},          {"token_policies", tp},      {"metadata", t.metadata},
                {"entity_id", t.entity_id},        {"token_type", t.token_type}, {"token_ttl", t.ttl}};
  }

  std::string Entry(const char* type, const logical::Request& req, const MountInfo& mount,
                    const logical::Response* resp, const std::string& error) const {
    Json entry = {{"time", "2026-11-23T10:00:00.123456789Z"}, {"type", type}};
    if (req.token) {
      entry["auth"] = Token(req.client_token, *req.token, req.token->policies);
      if (req.token->issue_time_nanos)
        entry["auth"]["token_issue_time"] = FormatRfc3339(req.token->issue_time_nanos / 1'000'000'000);
    }
    Json data = req.data;
    if (!opt.log_raw) HashTree(data, &mount.non_hmac_request_keys);
    if (req.data_elided) {
      data = req.raw_body.empty() ? Json(nullptr)
                                  : Json{{"elided_body_bytes", req.raw_body.size()},
                                         {"elided_body_hmac", HashValue(salt, std::string(req.raw_body))}};
    }
    entry["request"] = {{"id", req.id},
                        {"operation", std::string(logical::OperationName(req.op))},
                        {"mount_point", req.mount_point},
                        {"mount_type", req.mount_type},
                        {"mount_accessor", req.mount_accessor},
                        {"mount_class", req.mount_class},
                        {"client_token", H(req.client_token)},
                        {"client_token_accessor", req.token ? HA(req.token->accessor) : ""},
                        {"namespace", {{"id", "root"}}},
                        {"path", PathOf(req.original_path)},
                        {"data", data},
                        {"remote_address", req.remote_addr},
                        {"request_uri", UriOf(req.request_uri, mount.non_hmac_request_keys)}};
    if (req.remote_port) entry["request"]["remote_port"] = req.remote_port;
    if (!error.empty()) entry["error"] = error;
    if (resp) {
      Json r = {{"mount_point", req.mount_point}, {"mount_type", req.mount_type},
                {"mount_accessor", req.mount_accessor}, {"mount_class", req.mount_class}};
      if (resp->data) {
        Json rd = *resp->data;
        if (!opt.log_raw) HashTree(rd, &mount.non_hmac_response_keys);
        // Elided lists show their counts in clear, as Vault's do.
        if (opt.elide_lists && req.op == logical::Operation::kList && rd.is_object()) {
          if (rd.contains("keys") && rd["keys"].is_array()) rd["keys"] = rd["keys"].size();
          if (rd.contains("key_info") && rd["key_info"].is_object()) rd["key_info"] = rd["key_info"].size();
        }
        r["data"] = rd;
      }
      if (resp->secret) r["secret"] = {{"lease_id", resp->secret->lease_id}};
      if (resp->auth) r["auth"] = Token(resp->auth->client_token, *resp->auth, resp->auth->token_policies);
      if (!resp->warnings.empty()) r["warnings"] = resp->warnings;
      entry["response"] = r;
    }
    Prune(entry);
    return DumpJson(entry);
  }
};

// Random data trees: every JSON type, empty and nested containers, keys and
// strings with escapes and non-ASCII (valid and not).
Json RandomTree(std::mt19937& rng, int depth) {
  static const char* kStrings[] = {"", "v", "p\"w\\", "line\nbreak\t", "\x01\x1f", "caf\xc3\xa9", "bad\xff", "hvs.x"};
  switch (rng() % (depth > 0 ? 9 : 6)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: return static_cast<int64_t>(rng() % 2000) - 1000;
    case 3: return (rng() % 1000) / 8.0;
    case 4: return static_cast<uint64_t>(rng()) << 20;
    case 5: return kStrings[rng() % 8];
    case 6: {
      Json a = Json::array();
      for (unsigned n = rng() % 4; n > 0; --n) a.push_back(RandomTree(rng, depth - 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (unsigned n = rng() % 5; n > 0; --n) o[kStrings[rng() % 8]] = RandomTree(rng, depth - 1);
      return o;
    }
  }
}

class EntryFormatTest : public ::testing::Test {
 protected:
  std::string Direct(const char* type, const logical::Request& req, const logical::Response* resp,
                     const std::string& error = "") {
    std::string out;
    AppendEntry(out, type, "2026-11-23T10:00:00.123456789Z", req, mount_, resp, error, opt_, salt_);
    return out;
  }
  void ExpectSame(const logical::Request& req, const logical::Response* resp, const std::string& error = "") {
    Reference ref{opt_, salt_};
    EXPECT_EQ(Direct("request", req, nullptr, error), ref.Entry("request", req, mount_, nullptr, error));
    EXPECT_EQ(Direct("response", req, resp, error), ref.Entry("response", req, mount_, resp, error));
  }

  crypto::HmacSha256Key salt_{"device-salt"};
  EntryOptions opt_;
  MountInfo mount_;
};

logical::Request FullRequest() {
  logical::Request r;
  r.id = "6c7b1f4e-req";
  r.op = logical::Operation::kUpdate;
  r.path = "data/x";
  r.original_path = "secret/data/x";
  r.mount_point = "secret/";
  r.mount_type = "kv";
  r.mount_accessor = "kv_1234";
  r.mount_class = "secret";
  r.client_token = "hvs.secret-token";
  r.remote_addr = "127.0.0.1";
  r.remote_port = 51234;
  r.request_uri = "/v1/secret/data/x";
  r.data = Json{{"data", {{"pw", "p4ss"}, {"n", 7}, {"ok", true}, {"empty", ""}, {"none", nullptr}}},
                {"options", Json::object()},
                {"list", Json::array()}};
  logical::TokenInfo t;
  t.accessor = "acc-1";
  t.policies = {"default", "kv-read"};
  t.display_name = "token";
  t.metadata = Json{{"role", "web"}, {"blank", ""}};
  t.ttl = 3600;
  t.issue_time_nanos = 1'790'000'000'123'456'789;
  r.token = t;
  return r;
}

TEST_F(EntryFormatTest, MatchesTheTreeReferenceForEveryPart) {
  logical::Request req = FullRequest();
  logical::Response resp;
  resp.data = Json{{"data", {{"pw", "p4ss"}}}, {"metadata", {{"version", 3}, {"custom_metadata", nullptr}}}};
  resp.warnings = {"careful"};
  logical::Secret sec;
  sec.lease_id = "database/creds/ro/abc";
  resp.secret = sec;
  logical::Auth a;
  a.client_token = "hvs.new";
  a.accessor = "acc-2";
  a.policies = {"default"};
  a.token_policies = {"default"};
  a.metadata = Json{{"service_account_name", "web"}};
  a.ttl = 60;
  resp.auth = a;
  ExpectSame(req, &resp);
  ExpectSame(req, &resp, "permission denied");
  mount_.non_hmac_request_keys = {"data"};
  mount_.non_hmac_response_keys = {"metadata"};
  ExpectSame(req, &resp);
  opt_.hmac_accessor = false;
  ExpectSame(req, &resp);
  opt_.log_raw = true;
  ExpectSame(req, &resp);
}

TEST_F(EntryFormatTest, BareRequestAndEmptyResponse) {
  logical::Request req;
  req.op = logical::Operation::kRead;
  req.path = req.original_path = "sys/health";
  logical::Response resp;
  ExpectSame(req, &resp);
  resp.secret = logical::Secret{};  // no lease id: left out
  resp.data = Json::object();
  ExpectSame(req, &resp);
}

TEST_F(EntryFormatTest, TokensInPathsAreHashed) {
  logical::Request req;
  for (std::string p : {"auth/token/lookup/hvs.abc", "auth/token/lookup/", "auth/token/lookup", "auth/token/x/y",
                        "secret/data/a"}) {
    req.original_path = req.request_uri = p;
    ExpectSame(req, nullptr);
    opt_.log_raw = !opt_.log_raw;
    ExpectSame(req, nullptr);
  }
  req.original_path = "auth/token/lookup/hvs.abc";
  opt_.log_raw = false;
  EXPECT_EQ(Direct("request", req, nullptr).find("hvs.abc"), std::string::npos);
}

// GET auth/token/lookup?token=... once wrote a live token in clear.
TEST_F(EntryFormatTest, QueryValuesInTheRequestUriAreHashed) {
  logical::Request req;
  req.original_path = "auth/token/lookup";
  for (std::string uri : {"/v1/auth/token/lookup?token=hvs.live-token", "/v1/auth/token/revoke/hvs.q?x=1&y",
                          "/v1/auth/token/revoke/?x=1", "/v1/secret/?list=true&&a=%41%2b+b&a=2&=v&k=",
                          "/v1/sys/health?", "/v1/x?list=true&version=3"}) {
    req.request_uri = uri;
    for (bool raw : {false, true}) {
      opt_.log_raw = raw;
      ExpectSame(req, nullptr);
    }
    mount_.non_hmac_request_keys = {"version"};
    opt_.log_raw = false;
    ExpectSame(req, nullptr);
    mount_.non_hmac_request_keys.clear();
  }
  req.request_uri = "/v1/auth/token/lookup?token=hvs.live-token";
  const Json entry = Json::parse(Direct("request", req, nullptr));
  EXPECT_EQ(entry["request"]["request_uri"], "/v1/auth/token/lookup?token=" + HashValue(salt_, "hvs.live-token"));
}

// A request refused before authentication: its body's size and HMAC, never
// its keys or values, in both of its entries, whatever the device's options.
TEST_F(EntryFormatTest, DataOfARequestRefusedBeforeAuthenticationIsElided) {
  logical::Request req = FullRequest();
  req.token.reset();
  const std::string body = R"({"key-in-clear-1":1,"key-in-clear-2":"v"})";
  req.raw_body = body;
  req.data_elided = true;
  for (bool raw : {false, true}) {
    opt_.log_raw = raw;
    ExpectSame(req, nullptr, "permission denied");
    const std::string text = Direct("response", req, nullptr, "permission denied");
    EXPECT_EQ(text.find("key-in-clear"), std::string::npos) << text;
    const Json data = Json::parse(text)["request"]["data"];
    EXPECT_EQ(data, (Json{{"elided_body_bytes", body.size()}, {"elided_body_hmac", HashValue(salt_, body)}}));
  }
  req.raw_body = {};
  EXPECT_FALSE(Json::parse(Direct("request", req, nullptr))["request"].contains("data"));
}

TEST_F(EntryFormatTest, ElidedListsShowCountsInClear) {
  logical::Request req;
  req.op = logical::Operation::kList;
  req.original_path = "secret/metadata/";
  logical::Response resp;
  resp.data = Json{{"keys", {"a", "b", "c"}}, {"key_info", {{"a", 1}, {"b", 2}}}};
  opt_.elide_lists = true;
  ExpectSame(req, &resp);
  Json entry = Json::parse(Direct("response", req, &resp));
  EXPECT_EQ(entry["response"]["data"]["keys"], 3);
  EXPECT_EQ(entry["response"]["data"]["key_info"], 2);
  req.op = logical::Operation::kRead;  // only lists are elided
  ExpectSame(req, &resp);
  EXPECT_TRUE(Json::parse(Direct("response", req, &resp))["response"]["data"]["keys"].is_array());
}

TEST_F(EntryFormatTest, RandomDataTreesMatchTheReference) {
  std::mt19937 rng(20261123);
  logical::Request req = FullRequest();
  for (int i = 0; i < 400; ++i) {
    req.data = RandomTree(rng, 4);
    logical::Response resp;
    resp.data = RandomTree(rng, 4);
    opt_.log_raw = i % 5 == 0;
    mount_.non_hmac_request_keys = {i % 3 == 0 ? "v" : ""};
    ExpectSame(req, &resp);
    if (HasFailure()) {
      ADD_FAILURE() << "request data " << DumpJson(req.data) << " response data " << DumpJson(*resp.data);
      return;
    }
  }
}

}  // namespace
}  // namespace sealbox::audit
