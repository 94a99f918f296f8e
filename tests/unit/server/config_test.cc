#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sealbox::server {
namespace {

using ::testing::HasSubstr;

constexpr char kMinimal[] = R"hcl(
storage "rocksdb" {
  path = "/var/lib/sealbox"
}
listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/sealbox/server.pem"
  tls_key_file  = "/etc/sealbox/server-key.pem"
}
)hcl";

ServerConfig MustParse(std::string_view text) {
  auto r = ParseConfig(text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : ServerConfig();
}

std::string ParseError(std::string_view text) {
  auto r = ParseConfig(text);
  EXPECT_FALSE(r.ok()) << "unexpectedly parsed";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// kMinimal with `extra` added inside the listener block.
std::string WithListener(const std::string& extra) {
  return R"hcl(storage "rocksdb" { path = "/d" }
listener "tcp" {
  tls_cert_file = "c.pem"
  tls_key_file = "k.pem"
  )hcl" + extra + "\n}\n";
}

TEST(ConfigTest, MinimalFileAndDefaults) {
  ServerConfig c = MustParse(kMinimal);
  EXPECT_EQ(c.storage_type, "rocksdb");
  EXPECT_EQ(c.storage_path, "/var/lib/sealbox");
  EXPECT_EQ(c.listener.address, "127.0.0.1:8200");
  EXPECT_EQ(c.listener.tls_cert_file, "/etc/sealbox/server.pem");
  EXPECT_EQ(c.listener.tls_key_file, "/etc/sealbox/server-key.pem");
  EXPECT_EQ(c.listener.tls_min_version, "tls12");
  EXPECT_EQ(c.listener.max_request_size, 33554432u);
  EXPECT_EQ(c.listener.max_request_duration_s, 90);
  EXPECT_EQ(c.listener.max_json_depth, 100u);
  EXPECT_EQ(c.listener.max_json_strings, 1000u);
  EXPECT_EQ(c.listener.idle_timeout_s, 60);
  EXPECT_EQ(c.listener.header_timeout_s, 10);
  EXPECT_EQ(c.listener.max_connections, 4096u);
  EXPECT_EQ(c.listener.worker_threads, 8);
  EXPECT_EQ(c.listener.wait_worker_threads, 32);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.disable_mlock);
  EXPECT_FALSE(c.enable_core_dumps);
}

TEST(ConfigTest, FullFile) {
  ServerConfig c = MustParse(R"hcl(
# Sealbox server configuration
storage "rocksdb" {
  path = "/data"
}
listener "tcp" {
  address = "[::1]:0"
  tls_cert_file = "c.pem"
  tls_key_file = "k.pem"
  tls_min_version = "tls13"
  max_request_size = 1024
  max_request_duration = "2m"
  max_request_json_depth = 10
  max_request_json_strings = 20
  max_json_elements = 30
  max_json_string_value_length = 40
  max_json_key_length = 50
  max_unauthenticated_request_size = 60
  http_idle_timeout = "5m"
  http_read_header_timeout = 3
  max_header_size = 8192
  max_connections = 16
  worker_threads = 64
  wait_worker_threads = 100
}
api_addr = "https://sealbox.example:8200"
log_level = "debug"
disable_mlock = true
)hcl");
  EXPECT_EQ(c.listener.address, "[::1]:0");
  EXPECT_EQ(c.listener.tls_min_version, "tls13");
  EXPECT_EQ(c.listener.max_request_size, 1024u);
  EXPECT_EQ(c.listener.max_request_duration_s, 120);
  EXPECT_EQ(c.listener.max_json_depth, 10u);
  EXPECT_EQ(c.listener.max_json_strings, 20u);
  EXPECT_EQ(c.listener.max_json_elements, 30u);
  EXPECT_EQ(c.listener.max_json_string_value_length, 40u);
  EXPECT_EQ(c.listener.max_json_key_length, 50u);
  EXPECT_EQ(c.listener.max_unauthenticated_request_size, 60u);
  EXPECT_EQ(c.listener.idle_timeout_s, 300);
  EXPECT_EQ(c.listener.header_timeout_s, 3);
  EXPECT_EQ(c.listener.max_header_size, 8192u);
  EXPECT_EQ(c.listener.max_connections, 16u);
  EXPECT_EQ(c.listener.worker_threads, 64);
  EXPECT_EQ(c.listener.wait_worker_threads, 100);
  EXPECT_EQ(c.api_addr, "https://sealbox.example:8200");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.disable_mlock);
}

TEST(ConfigTest, BackendIsAnAliasOfStorage) {
  ServerConfig c = MustParse(R"hcl(backend "rocksdb" { path = "/old" })hcl");
  EXPECT_EQ(c.storage_path, "/old");
}

TEST(ConfigTest, EtcdStorageTakesVaultsKeys) {
  ServerConfig c = MustParse(R"hcl(
storage "etcd" {
  address         = "https://10.0.0.1:2379,https://10.0.0.2:2379"
  path            = "/sealbox/"
  ha_enabled      = "false"
  tls_ca_file     = "/etc/etcd/ca.pem"
  tls_cert_file   = "/etc/etcd/client.pem"
  tls_key_file    = "/etc/etcd/client-key.pem"
  username        = "sealbox"
  password        = "pw"
  request_timeout = "2s"
  lock_timeout    = "4s"
  etcd_api        = "v3"
}
cluster_addr = "https://10.0.0.9:8201"
)hcl");
  EXPECT_EQ(c.storage_type, "etcd");
  EXPECT_EQ(c.etcd.address, "https://10.0.0.1:2379,https://10.0.0.2:2379");
  EXPECT_EQ(c.etcd.path, "/sealbox/");
  EXPECT_EQ(c.etcd.tls_ca_file, "/etc/etcd/ca.pem");
  EXPECT_EQ(c.etcd.tls_cert_file, "/etc/etcd/client.pem");
  EXPECT_EQ(c.etcd.tls_key_file, "/etc/etcd/client-key.pem");
  EXPECT_EQ(c.etcd.username, "sealbox");
  EXPECT_EQ(c.etcd.password, "pw");
  EXPECT_EQ(c.etcd.request_timeout_ms, 2000);
  EXPECT_EQ(c.etcd.lock_timeout_ms, 4000);
  EXPECT_EQ(c.cluster_addr, "https://10.0.0.9:8201");
  // Vault's defaults.
  ServerConfig d = MustParse(R"hcl(storage "etcd" {})hcl");
  EXPECT_EQ(d.etcd.address, "http://127.0.0.1:2379");
  EXPECT_EQ(d.etcd.path, "/vault/");
  EXPECT_EQ(d.etcd.request_timeout_ms, 5000);
  EXPECT_EQ(d.etcd.lock_timeout_ms, 15000);
}

TEST(ConfigTest, EtcdStorageRefusals) {
  // HA needs api_addr: that is where standbys send clients.
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { ha_enabled = true })hcl"), HasSubstr("api_addr"));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { adress = "http://a:1" })hcl"), HasSubstr("unknown key \"adress\""));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { address = "http://a" })hcl"), HasSubstr("storage.etcd.address"));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { username = "u" })hcl"), HasSubstr("username and password"));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { tls_cert_file = "/c" })hcl"), HasSubstr("tls_cert_file and"));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { request_timeout = "0s" })hcl"), HasSubstr("request_timeout"));
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" { etcd_api = "v2" })hcl"), HasSubstr("v3"));
  EXPECT_THAT(ParseError(R"hcl(storage "rocksdb" { path = "/d"  ha_enabled = true })hcl"), HasSubstr("HA needs etcd"));
}

// Sets an environment variable for one scope (unset before and after).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ConfigTest, AddressesFromTheEnvironmentOverrideTheFile) {
  // As Vault: VAULT_API_ADDR and VAULT_CLUSTER_ADDR win over the file, so a
  // Helm chart's one ConfigMap serves every pod of an HA StatefulSet.
  constexpr char kHa[] = R"hcl(storage "etcd" { ha_enabled = true }
api_addr = "https://file:8200"
cluster_addr = "https://file:8201")hcl";
  ServerConfig plain = MustParse(kHa);
  EXPECT_EQ(plain.api_addr, "https://file:8200");
  EXPECT_EQ(plain.cluster_addr, "https://file:8201");
  {
    ScopedEnv api("VAULT_API_ADDR", "https://sealbox-1.sealbox-internal:8200");
    ScopedEnv cluster("VAULT_CLUSTER_ADDR", "https://sealbox-1.sealbox-internal:8201");
    ServerConfig c = MustParse(kHa);
    EXPECT_EQ(c.api_addr, "https://sealbox-1.sealbox-internal:8200");
    EXPECT_EQ(c.cluster_addr, "https://sealbox-1.sealbox-internal:8201");
    // ha_enabled needs api_addr: the environment's is enough.
    EXPECT_EQ(MustParse(R"hcl(storage "etcd" { ha_enabled = true })hcl").api_addr,
              "https://sealbox-1.sealbox-internal:8200");
  }
  {
    ScopedEnv empty("VAULT_API_ADDR", "");  // set but empty: the file's value stays
    EXPECT_EQ(MustParse(kHa).api_addr, "https://file:8200");
  }
}

TEST(ConfigTest, EtcdCredentialsFromTheEnvironment) {
  {
    ScopedEnv user("ETCD_USERNAME", "env-user");
    ScopedEnv pass("ETCD_PASSWORD", "env-pw");
    ServerConfig c = MustParse(R"hcl(storage "etcd" {})hcl");
    EXPECT_EQ(c.etcd.username, "env-user");
    EXPECT_EQ(c.etcd.password, "env-pw");
    // The file's keys win over the environment.
    ServerConfig f = MustParse(R"hcl(storage "etcd" { username = "u"  password = "p" })hcl");
    EXPECT_EQ(f.etcd.username, "u");
    EXPECT_EQ(f.etcd.password, "p");
  }
  ScopedEnv user("ETCD_USERNAME", "env-user");
  EXPECT_THAT(ParseError(R"hcl(storage "etcd" {})hcl"), HasSubstr("username and password"));
  // RocksDB ignores them.
  EXPECT_EQ(MustParse(kMinimal).storage_type, "rocksdb");
}

TEST(ConfigTest, StorageIsRequiredAndOnlyRocksDbOrEtcd) {
  EXPECT_THAT(ParseError(R"hcl(api_addr = "https://x")hcl"), HasSubstr("storage"));
  EXPECT_THAT(ParseError(R"hcl(storage "consul" { path = "/x" })hcl"), HasSubstr("unsupported storage type"));
  EXPECT_THAT(ParseError(R"hcl(storage "consul" { path = "/x" })hcl"), HasSubstr("consul"));
  EXPECT_THAT(ParseError(R"hcl(backend "raft" { path = "/x" })hcl"), HasSubstr("unsupported storage type"));
  EXPECT_THAT(ParseError(R"hcl(storage "rocksdb" {})hcl"), HasSubstr("path is required"));
  EXPECT_THAT(ParseError(R"hcl(storage "rocksdb" { path = 7 })hcl"), HasSubstr("storage.path"));
}

TEST(ConfigTest, OnlyTcpListeners) {
  EXPECT_THAT(ParseError(R"hcl(storage "rocksdb" { path = "/d" }
listener "unix" { address = "/run/sealbox.sock" })hcl"),
              HasSubstr("unsupported listener type \"unix\""));
}

TEST(ConfigTest, TlsDisableIsRefused) {
  std::string err = ParseError(WithListener("tls_disable = true"));
  EXPECT_THAT(err, HasSubstr("listener.tls_disable"));
  EXPECT_THAT(err, HasSubstr("HTTPS only"));
  // Vault's string form is refused too; false is harmless.
  EXPECT_THAT(ParseError(WithListener("tls_disable = \"1\"")), HasSubstr("tls_disable"));
  MustParse(WithListener("tls_disable = false"));
}

TEST(ConfigTest, OldTlsVersionsAreRefused) {
  for (const char* v : {"tls10", "tls11", "ssl3", ""}) {
    EXPECT_THAT(ParseError(WithListener(std::string("tls_min_version = \"") + v + "\"")),
                HasSubstr("listener.tls_min_version"))
        << v;
  }
}

TEST(ConfigTest, MaxRequestSize) {
  EXPECT_EQ(MustParse(WithListener("max_request_size = 0")).listener.max_request_size, 33554432u);
  // Negative means unlimited, stored as 0.
  EXPECT_EQ(MustParse(WithListener("max_request_size = -1")).listener.max_request_size, 0u);
  EXPECT_EQ(MustParse(WithListener("max_request_size = \"2048\"")).listener.max_request_size, 2048u);
  EXPECT_THAT(ParseError(WithListener("max_request_size = \"big\"")), HasSubstr("listener.max_request_size"));
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(MustParse(WithListener("max_request_duration = \"90s\"")).listener.max_request_duration_s, 90);
  EXPECT_EQ(MustParse(WithListener("max_request_duration = 30")).listener.max_request_duration_s, 30);
  EXPECT_EQ(MustParse(WithListener("max_request_duration = \"1h\"")).listener.max_request_duration_s, 3600);
  EXPECT_EQ(MustParse(WithListener("max_request_duration = 0")).listener.max_request_duration_s, 90);
  EXPECT_THAT(ParseError(WithListener("max_request_duration = \"ninety\"")),
              HasSubstr("listener.max_request_duration"));
  EXPECT_THAT(ParseError(WithListener("max_request_duration = \"-5s\"")), HasSubstr("listener.max_request_duration"));
  EXPECT_THAT(ParseError(WithListener("idle_timeout = \"soon\"")), HasSubstr("listener.idle_timeout"));
}

TEST(ConfigTest, WrongTypesNameTheKey) {
  EXPECT_THAT(ParseError(WithListener("address = 8200")), HasSubstr("listener.address"));
  EXPECT_THAT(ParseError(WithListener("max_connections = 0")), HasSubstr("listener.max_connections"));
  EXPECT_THAT(ParseError(WithListener("worker_threads = 0")), HasSubstr("listener.worker_threads"));
  EXPECT_THAT(ParseError(WithListener("worker_threads = 5000")), HasSubstr("listener.worker_threads"));
  EXPECT_THAT(ParseError(WithListener("wait_worker_threads = -1")), HasSubstr("listener.wait_worker_threads"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "api_addr = [1]\n"), HasSubstr("api_addr"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "disable_mlock = \"perhaps\"\n"), HasSubstr("disable_mlock"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "log_level = \"loud\"\n"), HasSubstr("log_level"));
}

TEST(ConfigTest, UnknownKeysStopTheStartNamingKeyAndLine) {
  // WithListener puts the key on line 5; kMinimal ends on line 9.
  std::string err = ParseError(WithListener("adress = \"0.0.0.0:8200\""));
  EXPECT_THAT(err, HasSubstr("unknown key \"adress\" in listener \"tcp\""));
  EXPECT_THAT(err, HasSubstr("line 5:"));
  err = ParseError(std::string(kMinimal) + "max_lease_tll = \"2h\"\n");
  EXPECT_THAT(err, HasSubstr("unknown key \"max_lease_tll\""));
  EXPECT_THAT(err, HasSubstr("line 10:"));
  EXPECT_THAT(ParseError("storage \"rocksdb\" {\n  path = \"/d\"\n  node_id = \"a\"\n}\n"),
              HasSubstr("line 3: unknown key \"node_id\" in storage \"rocksdb\""));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "telemetry {\n  prefix_filter = [\"-vault.route\"]\n}\n"),
              HasSubstr("line 11: unknown key \"prefix_filter\" in telemetry"));
  // A setting whose loss would weaken security is never ignored.
  EXPECT_THAT(ParseError(WithListener("tls_require_and_verify_client_cert = true")),
              HasSubstr("tls_require_and_verify_client_cert"));
}

// Issue 20: connection caps and the file audit device limits.
TEST(ConfigTest, ConnectionCapsAndAuditFileLimits) {
  ServerConfig d = MustParse(kMinimal);
  EXPECT_EQ(d.listener.max_connections_per_address, 512u);
  EXPECT_EQ(d.listener.tls_handshake_timeout_s, 5);
  EXPECT_FALSE(d.allow_audit_log_prefixing);
  EXPECT_TRUE(d.audit_file_dirs.empty());
  ServerConfig c = MustParse(WithListener("max_connections_per_address = 8\n  tls_handshake_timeout = \"2s\"") +
                             "allow_audit_log_prefixing = true\naudit_file_dirs = [\"/var/log/a\", \"/srv/b\"]\n");
  EXPECT_EQ(c.listener.max_connections_per_address, 8u);
  EXPECT_EQ(c.listener.tls_handshake_timeout_s, 2);
  EXPECT_TRUE(c.allow_audit_log_prefixing);
  EXPECT_EQ(c.audit_file_dirs, (std::vector<std::string>{"/var/log/a", "/srv/b"}));
  EXPECT_THAT(ParseError(WithListener("max_connections_per_address = 0")),
              HasSubstr("listener.max_connections_per_address"));
  EXPECT_THAT(ParseError(WithListener("tls_handshake_timeout = \"never\"")), HasSubstr("listener.tls_handshake_timeout"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "allow_audit_log_prefixing = \"maybe\"\n"),
              HasSubstr("allow_audit_log_prefixing"));
  for (const char* bad : {"\"/var/log\"", "[\"relative/dir\"]", "[\"\"]", "[1]"})
    EXPECT_THAT(ParseError(std::string(kMinimal) + "audit_file_dirs = " + bad + "\n"), HasSubstr("audit_file_dirs"))
        << bad;
}

TEST(ConfigTest, VaultKeysThatChangeNothingAreAccepted) {
  ServerConfig c = MustParse(std::string(kMinimal) + "ui = true\ncluster_name = \"c\"\n" +
                             "cluster_addr = \"https://x:8201\"\n");
  EXPECT_EQ(c.storage_path, "/var/lib/sealbox");
  EXPECT_EQ(c.cluster_addr, "https://x:8201");
}

TEST(ConfigTest, ClusterListenerAddress) {
  EXPECT_EQ(MustParse(kMinimal).listener.cluster_address, "");  // HA derives it
  EXPECT_EQ(MustParse(WithListener("cluster_address = \"127.0.0.1:8201\"")).listener.cluster_address,
            "127.0.0.1:8201");
}

TEST(ConfigTest, SystemLeaseTtls) {
  ServerConfig c = MustParse(kMinimal);
  EXPECT_EQ(c.default_lease_ttl, 768 * 3600);
  EXPECT_EQ(c.max_lease_ttl, 768 * 3600);
  c = MustParse(std::string(kMinimal) + "default_lease_ttl = \"1h\"\nmax_lease_ttl = \"2h\"\n");
  EXPECT_EQ(c.default_lease_ttl, 3600);
  EXPECT_EQ(c.max_lease_ttl, 7200);
  // As Vault: a max under the 768h default default is an error, not a silent cap.
  EXPECT_THAT(ParseError(std::string(kMinimal) + "max_lease_ttl = \"2h\"\n"),
              HasSubstr("default_lease_ttl: must not exceed max_lease_ttl"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "max_lease_ttl = \"soon\"\n"), HasSubstr("max_lease_ttl"));
}

TEST(ConfigTest, KubernetesServiceRegistration) {
  EXPECT_FALSE(MustParse(kMinimal).service_registration.enabled);
  ServerConfig c = MustParse(std::string(kMinimal) +
                             "service_registration \"kubernetes\" {\n  namespace = \"vault\"\n  pod_name = \"v-0\"\n}\n");
  EXPECT_TRUE(c.service_registration.enabled);
  EXPECT_EQ(c.service_registration.namespace_name, "vault");
  EXPECT_EQ(c.service_registration.pod_name, "v-0");
  // Both keys may come from the environment instead (VAULT_K8S_*).
  EXPECT_TRUE(MustParse(std::string(kMinimal) + "service_registration \"kubernetes\" {}\n").service_registration.enabled);
  EXPECT_THAT(ParseError(std::string(kMinimal) + "service_registration \"kubernetes\" {\n  pod = \"v-0\"\n}\n"),
              HasSubstr("line 11: unknown key \"pod\" in service_registration \"kubernetes\""));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "service_registration \"consul\" {}\n"),
              HasSubstr("unsupported service registration type \"consul\" (supported: kubernetes)"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "service_registration \"kubernetes\" {\n  pod_name = 3\n}\n"),
              HasSubstr("service_registration.kubernetes.pod_name"));
}

TEST(ConfigTest, HclSyntaxErrorsCarryTheLine) {
  std::string err = ParseError("storage \"rocksdb\" {\n  path = \"/d\"\n}\nlistener \"tcp\" {\n  address = \n}\n");
  EXPECT_THAT(err, HasSubstr("line "));
  EXPECT_THAT(err, HasSubstr("config"));
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "sealbox-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(ConfigFileTest, LoadsAFile) {
  auto c = LoadConfigFile(Write("ok.hcl", kMinimal));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->storage_path, "/var/lib/sealbox");
}

TEST_F(ConfigFileTest, ErrorsNameTheFile) {
  std::string bad = Write("bad.hcl", "storage \"rocksdb\" {\n  path = \"/d\"\n\n  = oops\n}\n");
  auto c = LoadConfigFile(bad);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(bad));
  EXPECT_THAT(c.status().message(), HasSubstr("line 4"));

  std::string refused = Write("plain.hcl", WithListener("tls_disable = true"));
  c = LoadConfigFile(refused);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(refused));
  EXPECT_THAT(c.status().message(), HasSubstr("tls_disable"));

  c = LoadConfigFile(dir_ + "/missing.hcl");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("missing.hcl"));
  EXPECT_THAT(c.status().message(), HasSubstr("No such file"));

  c = LoadConfigFile(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("directory"));
}

Result<ServerFlags> Flags(std::vector<std::string> args) { return ParseServerFlags(args); }

TEST(FlagsTest, VaultSpellings) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-config=/etc/s.hcl"}, {"-config", "/etc/s.hcl"}, {"--config=/etc/s.hcl"}, {"--config", "/etc/s.hcl"}}) {
    auto f = Flags(args);
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(f->config, "/etc/s.hcl");
    EXPECT_FALSE(f->dev);
  }
  auto f = Flags({"-dev", "-dev-root-token-id=root", "--dev-listen-address", "127.0.0.1:0", "-log-level=debug"});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->dev);
  EXPECT_EQ(f->dev_root_token_id, "root");
  EXPECT_EQ(f->dev_listen_address, "127.0.0.1:0");
  EXPECT_EQ(f->log_level, "debug");
  EXPECT_EQ(Flags({"-dev"})->dev_listen_address, "127.0.0.1:8200");
}

TEST(FlagsTest, Errors) {
  EXPECT_THAT(Flags({}).status().message(), HasSubstr("config file is required"));
  EXPECT_THAT(Flags({"-dev=false"}).status().message(), HasSubstr("config file is required"));
  EXPECT_THAT(Flags({"-config"}).status().message(), HasSubstr("-config needs a value"));
  EXPECT_THAT(Flags({"-dev", "-frobnicate"}).status().message(), HasSubstr("unknown flag -frobnicate"));
  EXPECT_THAT(Flags({"-dev", "stray"}).status().message(), HasSubstr("unexpected argument"));
}

TEST(FlagsTest, FlagsOverrideTheFile) {
  ServerConfig c = MustParse(std::string(kMinimal) + "log_level = \"warn\"\n");
  auto f = Flags({"-config=x.hcl", "-log-level=trace"});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(ApplyFlags(*f, &c).ok());
  EXPECT_EQ(c.log_level, "trace");
  EXPECT_EQ(c.listener.address, "127.0.0.1:8200");  // not dev: the file's address stays

  ServerConfig keep = MustParse(std::string(kMinimal) + "log_level = \"warn\"\n");
  ASSERT_TRUE(ApplyFlags(*Flags({"-config=x.hcl"}), &keep).ok());
  EXPECT_EQ(keep.log_level, "warn");

  ServerConfig dev = MustParse(kMinimal);
  ASSERT_TRUE(ApplyFlags(*Flags({"-dev", "-dev-listen-address=[::1]:0"}), &dev).ok());
  EXPECT_EQ(dev.listener.address, "[::1]:0");

  Status st = ApplyFlags(*Flags({"-dev", "-log-level=loud"}), &dev);
  EXPECT_THAT(st.message(), HasSubstr("-log-level"));
}


TEST(SealConfigTest, StaticBlock) {
  ServerConfig c = MustParse(std::string(kMinimal) +
                             "seal \"static\" {\n current_key_id = \"a\"\n current_key = \"env://K\"\n"
                             " previous_key_id = \"b\"\n previous_key = \"file:///k\"\n}\n");
  EXPECT_TRUE(c.seal.enabled);
  EXPECT_EQ(c.seal.current_key_id, "a");
  EXPECT_EQ(c.seal.current_key, "env://K");
  EXPECT_EQ(c.seal.previous_key_id, "b");
  EXPECT_EQ(c.seal.previous_key, "file:///k");
  EXPECT_FALSE(MustParse(kMinimal).seal.enabled);

  auto err = [](const std::string& block) { return ParseConfig(std::string(kMinimal) + block).status().message(); };
  EXPECT_THAT(err("seal \"static\" {\n current_key_id = \"a\"\n}\n"), HasSubstr("current_key_id and current_key"));
  EXPECT_THAT(err("seal \"static\" {\n current_key_id = \"a\"\n current_key = \"x\"\n previous_key_id = \"b\"\n}\n"),
              HasSubstr("go together"));
  EXPECT_THAT(err("seal \"static\" {\n current_key_id = \"a\"\n current_key = \"x\"\n previous_key_id = \"a\"\n"
                  " previous_key = \"y\"\n}\n"),
              HasSubstr("must differ"));
  EXPECT_THAT(err("seal \"transit\" {\n}\n"), HasSubstr("unsupported seal type"));
}

TEST(SealConfigTest, LoadSealKeyForms) {
  const std::string hex(64, 'a');
  auto k = LoadSealKey(hex);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(k->view()[0]), 0xaa);

  ::setenv("SEALBOX_UNIT_SEAL_KEY", "  qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=\n", 1);
  auto e = LoadSealKey("env://SEALBOX_UNIT_SEAL_KEY");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->size(), 32u);
  ::unsetenv("SEALBOX_UNIT_SEAL_KEY");
  EXPECT_THAT(LoadSealKey("env://SEALBOX_UNIT_SEAL_KEY").status().message(), HasSubstr("is not set"));

  std::string dir = ::testing::TempDir();
  std::string raw_path = dir + "/seal-raw.key";
  {
    std::ofstream f(raw_path, std::ios::binary);
    f << std::string(32, '\n');  // raw bytes, even ones that look like whitespace
  }
  auto r = LoadSealKey("file://" + raw_path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->view(), std::string(32, '\n'));
  {
    std::ofstream f(raw_path, std::ios::binary);
    f << "short";
  }
  Status bad = LoadSealKey("file://" + raw_path).status();
  EXPECT_THAT(bad.message(), HasSubstr("does not hold a 32-byte key"));
  EXPECT_THAT(bad.message(), ::testing::Not(HasSubstr("short")));  // never the key material
  EXPECT_THAT(LoadSealKey("file://" + dir + "/nope").status().message(), HasSubstr("cannot read file"));
  EXPECT_FALSE(LoadSealKey("not-a-key").ok());
  std::filesystem::remove(raw_path);
}

}  // namespace
}  // namespace sealbox::server

namespace sealbox::server {
namespace {

TEST(TelemetryConfigTest, WithoutStanzaPrometheusIsOff) {
  ServerConfig c = MustParse(kMinimal);
  EXPECT_EQ(c.telemetry.prometheus_retention_s, 0);
  EXPECT_EQ(c.telemetry.usage_gauge_period_s, 600);
  EXPECT_TRUE(c.telemetry.filter_default);
  EXPECT_FALSE(c.listener.unauthenticated_metrics_access);
}

TEST(TelemetryConfigTest, StanzaKeys) {
  ServerConfig c = MustParse(std::string(kMinimal) + R"hcl(
telemetry {
  disable_hostname = true
  usage_gauge_period = "30s"
}
)hcl");
  EXPECT_EQ(c.telemetry.prometheus_retention_s, 24 * 3600);  // Vault's default once the stanza is there
  EXPECT_EQ(c.telemetry.usage_gauge_period_s, 30);
  EXPECT_TRUE(c.telemetry.disable_hostname);
  c = MustParse(std::string(kMinimal) +
                "telemetry {\n prometheus_retention_time = \"0\"\n usage_gauge_period = \"none\"\n"
                " filter_default = false\n}\n");
  EXPECT_EQ(c.telemetry.prometheus_retention_s, 0);
  EXPECT_EQ(c.telemetry.usage_gauge_period_s, 0);
  EXPECT_FALSE(c.telemetry.filter_default);
}

TEST(TelemetryConfigTest, Refusals) {
  EXPECT_THAT(ParseError(std::string(kMinimal) + "telemetry {\n statsd_address = \"127.0.0.1:8125\"\n}\n"),
              HasSubstr("telemetry.statsd_address: Sealbox exports metrics only through sys/metrics"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "telemetry {\n prometheus_retention = \"1h\"\n}\n"),
              HasSubstr("unknown key \"prometheus_retention\" in telemetry"));
  EXPECT_THAT(ParseError(std::string(kMinimal) + "telemetry {\n usage_gauge_period = \"soon\"\n}\n"),
              HasSubstr("telemetry.usage_gauge_period: expected a duration"));
}

TEST(TelemetryConfigTest, ListenerUnauthenticatedMetricsAccess) {
  ServerConfig c = MustParse(WithListener("telemetry {\n unauthenticated_metrics_access = true\n }"));
  EXPECT_TRUE(c.listener.unauthenticated_metrics_access);
  EXPECT_THAT(ParseError(WithListener("telemetry {\n unauthenticated_metrics = true\n }")),
              HasSubstr("unknown key \"unauthenticated_metrics\" in listener telemetry"));
}

}  // namespace
}  // namespace sealbox::server
