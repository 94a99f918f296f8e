// File audit devices as a file-write primitive (HCSEC-2025-14): what a
// sudo token may and may not make the server write, checked on the broker
// and on OpenAuditFile directly.
#include "audit/audit_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/audit_broker.h"
#include "storage/storage.h"

namespace sealbox::audit {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class AuditFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealbox-auditfile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    view_ = NewInMemStorage();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A broker under `limits`, sealed and unsealed on the same storage.
  AuditBroker& Broker(FileDeviceLimits limits = {}) {
    broker_ = std::make_unique<AuditBroker>();
    broker_->SetFileDeviceLimits(std::move(limits));
    EXPECT_TRUE(broker_->Setup(view_.get()).ok());
    return *broker_;
  }
  Status Enable(AuditBroker& b, const std::string& name, const std::string& file, Json extra = Json::object()) {
    DeviceConfig c;
    c.path = name;
    c.type = "file";
    c.options = {{"file_path", file}};
    for (auto& [k, v] : extra.items()) c.options[k] = v;
    return b.Enable(c);
  }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }

  std::string dir_;
  std::unique_ptr<Storage> view_;
  std::unique_ptr<AuditBroker> broker_;
};

TEST_F(AuditFileTest, PrefixNeedsTheServerSettingAndNeverALineBreak) {
  AuditBroker& off = Broker();
  Status s = Enable(off, "p", dir_ + "/p.log", {{"prefix", "sb:"}});
  EXPECT_EQ(s.message(), "audit log prefixing is not allowed");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/p.log"));
  AuditBroker& on = Broker({.allow_prefix = true});
  const std::vector<std::string> bad_prefixes = {"x\n* * * * * root sh -c id\n", "a\rb", "tab\there",
                                                std::string(300, 'p')};
  for (const std::string& bad : bad_prefixes)
    EXPECT_EQ(Enable(on, "p", dir_ + "/p.log", {{"prefix", bad}}).code(), StatusCode::kInvalidArgument) << bad;
  EXPECT_TRUE(Enable(on, "p", dir_ + "/p.log", {{"prefix", "sb: "}}).ok());
  EXPECT_EQ(Read(dir_ + "/p.log").rfind("sb: {\"chain_start\":", 0), 0u);
}

TEST_F(AuditFileTest, ModesWithExecuteOrSpecialBitsAreRefused) {
  for (const char* m : {"0755", "0700", "0611", "0601", "4600", "2600", "1600", "0777"})
    EXPECT_FALSE(ParseAuditFileMode(m).ok()) << m;
  for (const char* m : {"", "0600", "0640", "0644", "0000", "600"}) EXPECT_TRUE(ParseAuditFileMode(m).ok()) << m;
  AuditBroker& b = Broker();
  EXPECT_EQ(Enable(b, "m", dir_ + "/m.log", {{"mode", "0755"}}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Enable(b, "m", dir_ + "/m.log", {{"mode", "0640"}}).ok());
  EXPECT_EQ(ModeOf(dir_ + "/m.log"), 0640u);  // a new file gets the mode asked for, whatever the umask
}

// The reported attack: a 0600 crontab-like file, appended to and widened.
TEST_F(AuditFileTest, AnExistingFileThatIsNotAnAuditLogIsNeitherWrittenNorChmodded) {
  const std::string text = "# m h dom mon dow command\n17 * * * * root run-parts /etc/cron.hourly\n";
  std::string victim = Write("crontab", text, 0600);
  AuditBroker& b = Broker({.allow_prefix = true});
  Status s = Enable(b, "cron", victim, {{"mode", "0666"}, {"prefix", "* * * * * root id #"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is not a Sealbox audit log"), std::string::npos) << s.message();
  EXPECT_EQ(Read(victim), text);
  EXPECT_EQ(ModeOf(victim), 0600u);
  // A JSON file of someone else's (another server's audit log) is refused too.
  std::string other = Write("other.log", "{\"time\":\"2025-01-01T00:00:00Z\",\"type\":\"request\"}\n", 0600);
  EXPECT_FALSE(Enable(b, "o", other).ok());
}

TEST_F(AuditFileTest, AnExistingFilesModeIsOnlyNarrowed) {
  std::string empty = Write("empty.log", "", 0600);
  AuditBroker& b = Broker();
  ASSERT_TRUE(Enable(b, "e", empty, {{"mode", "0666"}}).ok());
  EXPECT_EQ(ModeOf(empty), 0600u);
  std::string wide = Write("wide.log", "", 0644);
  ASSERT_TRUE(Enable(b, "w", wide, {{"mode", "0640"}}).ok());
  EXPECT_EQ(ModeOf(wide), 0640u);
  // Reopening its own log (a restart) appends to it and keeps its mode.
  ASSERT_TRUE(b.Disable("e").ok());
  ASSERT_TRUE(Enable(b, "e2", empty, {{"mode", "0644"}}).ok());
  EXPECT_EQ(ModeOf(empty), 0600u);
  const std::string text = Read(empty);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST_F(AuditFileTest, ASealboxLogIsRecognisedAndItsChainContinued) {
  std::string f = dir_ + "/a.log";
  AuditBroker& b = Broker({.allow_prefix = true});
  ASSERT_TRUE(Enable(b, "a", f, {{"prefix", "P:"}}).ok());
  std::string key = *b.ChainKey("a");
  b.Teardown();
  AuditBroker& again = Broker({.allow_prefix = true});
  logical::Request r;
  r.id = "r";
  r.path = "sys/mounts";
  ASSERT_TRUE(again.LogRequest(r, {}, "").ok());
  std::string report;
  EXPECT_EQ(VerifyFile(f, key, "P:", &report), 0) << report;
  // The same file under another prefix is not this device's log.
  auto opened = OpenAuditFile(f, 0600, "", {});
  EXPECT_FALSE(opened.ok());
  opened = OpenAuditFile(f, 0600, "P:", {});
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_TRUE(opened->appending);
  EXPECT_EQ(opened->last_chain.size(), 64u);
  ::close(opened->fd);
}

TEST_F(AuditFileTest, SymbolicLinksAndSpecialFilesAreRefused) {
  std::string target = Write("target", "secret\n", 0600);
  std::string link = dir_ + "/link.log";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  AuditBroker& b = Broker();
  EXPECT_EQ(Enable(b, "l", link).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Read(target), "secret\n");
  EXPECT_EQ(Enable(b, "d", dir_).code(), StatusCode::kInvalidArgument);  // a directory
  EXPECT_EQ(Enable(b, "n", "/dev/null").code(), StatusCode::kInvalidArgument);
}

TEST_F(AuditFileTest, AuditFileDirsConfineFiles) {
  std::filesystem::create_directories(dir_ + "/logs/sub");
  std::filesystem::create_directories(dir_ + "/elsewhere");
  std::filesystem::create_symlink(dir_ + "/elsewhere", dir_ + "/logs/escape");
  AuditBroker& b = Broker({.allowed_dirs = {dir_ + "/logs"}});
  EXPECT_TRUE(Enable(b, "in", dir_ + "/logs/a.log").ok());
  EXPECT_TRUE(Enable(b, "sub", dir_ + "/logs/sub/a.log").ok());
  for (const std::string& out : {dir_ + "/elsewhere/a.log", dir_ + "/logs/escape/a.log",
                                 dir_ + "/logs/../elsewhere/b.log", dir_ + "/logsx.log"}) {
    Status s = Enable(b, "out", out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << out;
    EXPECT_NE(s.message().find("audit_file_dirs"), std::string::npos) << s.message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/elsewhere/a.log"));
  EXPECT_TRUE(Enable(b, "out", "stdout").ok());  // not a file the token chooses
}

// A device persisted before the configuration stopped allowing it fails
// closed: nothing is written, and the request that needed it is refused.
TEST_F(AuditFileTest, APersistedDeviceTheConfigNowRefusesFailsClosed) {
  std::string f = dir_ + "/p.log";
  AuditBroker& on = Broker({.allow_prefix = true});
  ASSERT_TRUE(Enable(on, "p", f, {{"prefix", "sb:"}}).ok());
  on.Teardown();
  std::string before = Read(f);
  AuditBroker& off = Broker();
  logical::Request r;
  r.id = "r";
  r.path = "sys/mounts";
  EXPECT_FALSE(off.LogRequest(r, {}, "").ok());
  EXPECT_EQ(Read(f), before);
}

}  // namespace
}  // namespace sealbox::audit
