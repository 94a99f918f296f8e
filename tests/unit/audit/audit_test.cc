#include "audit/audit_broker.h"
#include "audit/audit_filter.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "storage/storage.h"
#include "tests/unit/base/queue_resumer.h"

namespace sealbox::audit {
namespace {

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealbox-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    view_ = NewInMemStorage();
    ASSERT_TRUE(broker_.Setup(view_.get()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Status EnableFile(const std::string& name, const std::string& file, Json extra = Json::object()) {
    DeviceConfig c;
    c.path = name;
    c.type = "file";
    c.options = {{"file_path", file}};
    for (auto& [k, v] : extra.items()) c.options[k] = v;
    return broker_.Enable(c);
  }
  std::vector<Json> Lines(const std::string& file) {
    std::ifstream in(file);
    std::vector<Json> out;
    std::string l;
    while (std::getline(in, l)) out.push_back(Json::parse(l));
    return out;
  }
  logical::Request Req() {
    logical::Request r;
    r.id = "req-1";
    r.op = logical::Operation::kUpdate;
    r.path = r.original_path = "secret/data/x";
    r.client_token = "hvs.secret-token";
    r.data = Json{{"data", {{"pw", "p4ss"}, {"n", 7}, {"ok", true}, {"list", {"a", {{"k", "b"}}}}}}};
    return r;
  }

  std::string dir_;
  std::unique_ptr<Storage> view_;
  AuditBroker broker_;
};

TEST_F(AuditTest, HashesEveryLeafAndKeepsKeys) {
  std::string f = dir_ + "/a.log";
  ASSERT_TRUE(EnableFile("file", f).ok());
  ASSERT_TRUE(broker_.LogRequest(Req(), {}, "").ok());
  auto lines = Lines(f);
  ASSERT_EQ(lines.size(), 2u);  // the enable probe, then the entry
  const Json& d = lines[1]["request"]["data"]["data"];
  EXPECT_EQ(d["pw"], *broker_.Hash("file", "p4ss"));
  EXPECT_EQ(d["n"], *broker_.Hash("file", "7"));
  EXPECT_EQ(d["ok"], true);
  EXPECT_EQ(d["list"][1]["k"], *broker_.Hash("file", "b"));
  EXPECT_EQ(lines[1]["request"]["client_token"], *broker_.Hash("file", "hvs.secret-token"));
  EXPECT_EQ(lines[1]["request"]["path"], "secret/data/x");
  EXPECT_FALSE(lines[1]["request"].contains("remote_port"));  // omitempty
}

TEST_F(AuditTest, NonHmacKeysAndLogRaw) {
  std::string f = dir_ + "/a.log", g = dir_ + "/raw.log";
  ASSERT_TRUE(EnableFile("file", f).ok());
  ASSERT_TRUE(EnableFile("raw", g, {{"log_raw", "true"}}).ok());
  MountInfo m;
  m.non_hmac_request_keys = {"data"};
  ASSERT_TRUE(broker_.LogRequest(Req(), m, "").ok());
  EXPECT_EQ(Lines(f)[1]["request"]["data"]["data"]["pw"], "p4ss");
  EXPECT_EQ(Lines(g)[1]["request"]["client_token"], "hvs.secret-token");
}

TEST_F(AuditTest, FailClosedOnlyWhenEveryDeviceFails) {
  EXPECT_TRUE(broker_.LogRequest(Req(), {}, "").ok());  // no device: nothing to do
  std::string sub = dir_ + "/sub";
  std::filesystem::create_directory(sub);
  ASSERT_TRUE(EnableFile("doomed", sub + "/a.log").ok());
  std::filesystem::remove_all(sub);
  broker_.Reopen();
  EXPECT_FALSE(broker_.LogRequest(Req(), {}, "").ok());
  ASSERT_TRUE(EnableFile("good", dir_ + "/good.log").ok());
  EXPECT_TRUE(broker_.LogRequest(Req(), {}, "").ok());
}

// A request's two entries through the suspending path (the server's I/O
// threads): request entry, then response entry, each awaited.
Task<Status> LogRequestAndResponse(AuditBroker& b, const logical::Request& r, Resumer* resumer) {
  const MountInfo mount;
  const std::string no_error;
  Status a = co_await b.Log(EntryKind::kRequest, r, mount, nullptr, no_error, resumer);
  if (!a.ok()) co_return a;
  logical::Response resp;
  resp.data = Json{{"k", "v"}};
  co_return co_await b.Log(EntryKind::kResponse, r, mount, &resp, no_error, resumer);
}

TEST_F(AuditTest, SuspendedWritesCompleteFromTheResumerInChainOrder) {
  std::string f = dir_ + "/s.log";
  ASSERT_TRUE(EnableFile("s", f).ok());
  ASSERT_FALSE(broker_.AnyBlocking());  // a local file without fsync suspends
  QueueResumer resumer;
  std::vector<logical::Request> reqs(3, Req());
  std::vector<std::optional<Status>> results(3);
  for (int i = 0; i < 3; ++i) {
    reqs[i].id = "req-" + std::to_string(i);
    Start(LogRequestAndResponse(broker_, reqs[i], &resumer),
          [&results, i](Status* s, std::exception_ptr) { results[i] = s ? *s : Internal("threw"); });
  }
  for (const auto& r : results) EXPECT_FALSE(r.has_value());  // waiting for the flush
  EXPECT_EQ(Lines(f).size(), 1u);                             // the enable probe only
  resumer.RunAll();
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->ok()) << r->ToString();
  }
  auto lines = Lines(f);
  ASSERT_EQ(lines.size(), 7u);
  // The three request entries went out in one batch, before any response.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[1 + i]["type"], "request");
    EXPECT_EQ(lines[4 + i]["type"], "response");
    EXPECT_EQ(lines[4 + i]["request"]["id"], lines[1 + i]["request"]["id"]);
  }
  std::string report;
  EXPECT_EQ(VerifyFile(f, *broker_.ChainKey("s"), "", &report), 0) << report;
}

TEST_F(AuditTest, RefusalWritesBothEntriesTogether) {
  std::string f = dir_ + "/r.log";
  ASSERT_TRUE(EnableFile("r", f).ok());
  const MountInfo mount;
  const std::string err = "permission denied";
  logical::Request r = Req();
  AuditWrite w = broker_.Log(EntryKind::kRefusal, r, mount, nullptr, err, nullptr);
  ASSERT_TRUE(w.await_ready());  // without a resumer it never suspends
  ASSERT_TRUE(w.await_resume().ok());
  auto lines = Lines(f);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["type"], "request");
  EXPECT_EQ(lines[2]["type"], "response");
  EXPECT_EQ(lines[2]["error"], "permission denied");
}

TEST_F(AuditTest, SuspendedWriteFailsClosedAndAHealthyDeviceStillRecords) {
  std::string f = dir_ + "/full.log";
  ASSERT_TRUE(EnableFile("full", f).ok());
  // Writes past the file's current size now fail (EFBIG), as on a full disk.
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = static_cast<rlim_t>(std::filesystem::file_size(f));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  QueueResumer resumer;
  logical::Request r = Req();
  std::optional<Status> result;
  auto run = [&] {
    result.reset();
    Start(LogRequestAndResponse(broker_, r, &resumer),
          [&](Status* s, std::exception_ptr) { result = s ? *s : Internal("threw"); });
    resumer.RunAll();
  };
  run();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code(), StatusCode::kInternal);  // no device recorded it: fail closed
  DeviceConfig discard;
  discard.path = "discard";
  discard.type = "file";
  discard.options = {{"file_path", "discard"}};
  ASSERT_TRUE(broker_.Enable(discard).ok());
  run();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->ToString();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, old_handler);
}

TEST_F(AuditTest, EnableRefusesUnwritableAndBadModes) {
  EXPECT_FALSE(EnableFile("x", "/nonexistent-dir/a.log").ok());
  EXPECT_FALSE(EnableFile("y", "relative.log").ok());
  EXPECT_FALSE(EnableFile("z", dir_ + "/z.log", {{"mode", "0999"}}).ok());
  for (const char* t : {"0", "-1s", "soon", "0s"}) {
    Status s = EnableFile("t", dir_ + "/t.log", {{"write_timeout", t}});
    EXPECT_EQ(s.message(), "write_timeout must be a positive duration such as \"5s\"") << t;
  }
  ASSERT_TRUE(EnableFile("t", dir_ + "/t.log", {{"write_timeout", "2s"}}).ok());
  EXPECT_FALSE(EnableFile("w", dir_ + "/w.log", {{"mode", "0755"}}).ok());  // HCSEC-2025-14
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/w.log"));
  ASSERT_TRUE(EnableFile("w", dir_ + "/w.log", {{"mode", "0640"}}).ok());
  EXPECT_FALSE(EnableFile("w", dir_ + "/w2.log").ok());  // path in use
}

TEST_F(AuditTest, ChainVerifiesAndCatchesTampering) {
  std::string f = dir_ + "/c.log";
  ASSERT_TRUE(EnableFile("c", f).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(broker_.LogRequest(Req(), {}, "").ok());
  std::string key = *broker_.ChainKey("c"), report;
  EXPECT_EQ(VerifyFile(f, key, "", &report), 0) << report;
  std::vector<std::string> raw;
  {
    std::ifstream in(f);
    std::string l;
    while (std::getline(in, l)) raw.push_back(l);
  }
  auto write = [&](const std::vector<std::string>& ls) {
    std::ofstream out(f, std::ios::trunc);
    for (auto& l : ls) out << l << "\n";
  };
  auto edited = raw;
  edited[2][20] = edited[2][20] == 'x' ? 'y' : 'x';
  write(edited);
  EXPECT_EQ(VerifyFile(f, key, "", &report), 1);
  EXPECT_NE(report.find("line 3"), std::string::npos) << report;
  auto dropped = raw;
  dropped.erase(dropped.begin() + 1);
  write(dropped);
  EXPECT_EQ(VerifyFile(f, key, "", &report), 1);
  EXPECT_NE(report.find("line 2"), std::string::npos) << report;
  write(raw);
  EXPECT_EQ(VerifyFile(f, std::string(64, '0'), "", &report), 1);
}

TEST_F(AuditTest, SurvivesSetupAfterSeal) {
  std::string f = dir_ + "/p.log";
  ASSERT_TRUE(EnableFile("p", f).ok());
  std::string hash = *broker_.Hash("p", "x");
  broker_.Teardown();
  AuditBroker again;
  ASSERT_TRUE(again.Setup(view_.get()).ok());
  EXPECT_EQ(*again.Hash("p", "x"), hash);  // salt persisted
  EXPECT_TRUE(again.LogRequest(Req(), {}, "").ok());
  std::string report;
  EXPECT_EQ(VerifyFile(f, *again.ChainKey("p"), "", &report), 0) << report;
}

// Reopening continues the chain from the file's last line, read from the end:
// also when that line is longer than the first window read.
TEST_F(AuditTest, ReopenContinuesChainAfterLongLines) {
  std::string f = dir_ + "/long.log";
  ASSERT_TRUE(EnableFile("long", f, {{"log_raw", "true"}}).ok());
  logical::Request big = Req();
  big.data = Json{{"blob", std::string(300 << 10, 'b')}};
  ASSERT_TRUE(broker_.LogRequest(Req(), {}, "").ok());
  ASSERT_TRUE(broker_.LogRequest(big, {}, "").ok());
  for (int round = 0; round < 2; ++round) {
    broker_.Teardown();
    ASSERT_TRUE(broker_.Setup(view_.get()).ok());
    ASSERT_TRUE(broker_.LogRequest(Req(), {}, "").ok());
  }
  std::string report;
  EXPECT_EQ(VerifyFile(f, *broker_.ChainKey("long"), "", &report), 0) << report;
  EXPECT_NE(report.find("5 lines"), std::string::npos) << report;  // with the enable probe
}

}  // namespace
}  // namespace sealbox::audit

namespace sealbox::audit {
namespace {

bool Keep(const char* expr, FilterFields f) {
  auto filter = AuditFilter::Parse(expr);
  EXPECT_TRUE(filter.ok()) << expr << ": " << filter.status().message();
  return filter.ok() && (*filter)->Matches(f);
}

TEST(AuditFilterTest, ComparisonsAndLogic) {
  FilterFields lookup{"read", "auth/token/lookup-self", "auth/token/", "token", "auth"};
  FilterFields kv{"update", "secret/data/app", "secret/", "kv", "secret"};
  const char* skip_lookup = "not (operation == \"read\" and path == \"auth/token/lookup-self\")";
  EXPECT_FALSE(Keep(skip_lookup, lookup));
  EXPECT_TRUE(Keep(skip_lookup, kv));
  EXPECT_TRUE(Keep("mount_type == \"kv\" or mount_class != \"secret\"", lookup));
  EXPECT_TRUE(Keep("path matches \"^secret/data/\"", kv));
  EXPECT_FALSE(Keep("path not matches \"data/app$\"", kv));
  EXPECT_TRUE(Keep("namespace == \"root\" and (operation == \"list\" or operation == \"update\")", kv));
  EXPECT_TRUE(Keep("path == \"a\\\"b\" or operation != \"x\"", kv));  // escaped quote in a string
}

TEST(AuditFilterTest, ErrorsNamePosition) {
  for (const char* bad : {"", "operation", "operation = \"read\"", "user == \"x\"", "path == \"unterminated",
                          "(operation == \"read\"", "path matches \"([\"", "operation == \"a\" and"}) {
    auto f = AuditFilter::Parse(bad);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.status().message().find("invalid filter"), std::string::npos) << f.status().message();
  }
  std::string deep(200, '(');
  EXPECT_FALSE(AuditFilter::Parse(deep + "path == \"x\"" + std::string(200, ')')).ok());
}

}  // namespace
}  // namespace sealbox::audit
