// sealbox: the server (`sealbox server ...`) and the client commands of the
// same binary. This is the composition root: it picks the storage, registers
// the secrets engines and auth methods with core's registry, and wires the
// HTTPS listener to the API handler.
#include <linux/capability.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "api/api_handler.h"
#include "audit/audit_broker.h"
#include "base/log.h"
#include "base/version.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "core/core.h"
#include "auth/approle/approle_backend.h"
#include "auth/userpass/userpass_backend.h"
#include "auth/jwt/jwt_backend.h"
#include "auth/kubernetes/kubernetes_backend.h"
#include "engines/database/database_engine.h"
#include "engines/database/postgres/postgres_plugin.h"
#include "engines/kv/register.h"
#include "engines/transit/register.h"
#include "kms/plugin.h"
#include "server/beast_http_client.h"
#include "service_registration/kubernetes_registration.h"
#include "server/config.h"
#include "server/dev_certs.h"
#include "server/http_server.h"
#include "etcd/etcd_storage.h"
#include "metrics/process.h"
#include "metrics/registry.h"
#include "storage/rocksdb_storage.h"

namespace sealbox::server {
namespace {

// Capability bit test without libcap: is CAP_IPC_LOCK in our effective set?
bool HasIpcLockCapability() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32))) != 0;
}

// Start-up hardening, before any key material exists in this process.
void DisableCoreDumps() {
  // Secrets live in this process's memory: no core files, no ptrace or
  // /proc/<pid>/mem reads by other processes of the same user.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
}

// Each connection is a descriptor: lift the soft limit to the hard one (as
// Go does for Vault), so max_connections, not a soft limit of 1024, bounds
// them, and say so when even the hard limit is below it.
void RaiseFileLimit(size_t max_connections) {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max_connections + 256)
    log::Warn("server: the open file limit (" + std::to_string(rl.rlim_cur) + ") is below max_connections (" +
              std::to_string(max_connections) + ") plus room for storage and audit files; raise it (ulimit -n, "
              "LimitNOFILE=) or lower max_connections");
}

void LockMemory() {
  // With MCL_FUTURE and a finite RLIMIT_MEMLOCK, every allocation past the
  // limit would later fail (threads, RocksDB caches): lock only when the limit
  // cannot bite (CAP_IPC_LOCK or an unlimited rlimit).
  struct rlimit rl {};
  bool unlimited = getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY;
  if (!unlimited && !HasIpcLockCapability()) {
    log::Warn(
        "server: not locking memory (mlockall): the process lacks CAP_IPC_LOCK and RLIMIT_MEMLOCK is limited, "
        "so memory may be swapped to disk. Grant CAP_IPC_LOCK (e.g. setcap cap_ipc_lock=+ep sealbox) or set "
        "disable_mlock = true to silence this warning.");
    return;
  }
  // MCL_ONFAULT (Linux 4.4+): a page is locked when it is first touched,
  // not faulted in at once. Without it every mapping was pinned whole, 8 MiB
  // per thread stack, and the idle server held 435 MB against 28 MB unlocked
  // (docs/operations.md). A page that ever held a secret has been touched,
  // so it is locked just the same.
  int rc = mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
  if (rc != 0 && errno == EINVAL) rc = mlockall(MCL_CURRENT | MCL_FUTURE);  // an older kernel
  if (rc != 0) {
    log::Warn(std::string("server: mlockall failed (") + std::strerror(errno) +
              "); memory may be swapped to disk. Grant CAP_IPC_LOCK or set disable_mlock = true.");
  }
}

// The data directory holds only ciphertext, but its file names, sizes and
// times are nobody else's business: 0700 (the process runs with umask 077),
// and a wider one left by an older version or an installer is tightened,
// with its files, with a warning.
Status PrepareDataDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return InvalidArgument("cannot create the data directory " + path + ": " + ec.message());
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return InvalidArgument("cannot stat the data directory " + path);
  if ((st.st_mode & 077) == 0) return Status::Ok();
  if (::chmod(path.c_str(), st.st_mode & 0700) != 0)
    return InvalidArgument("the data directory " + path + " is open to other users and cannot be tightened: " +
                           std::strerror(errno));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    struct stat fst {};
    if (::lstat(entry.path().c_str(), &fst) == 0 && S_ISREG(fst.st_mode) && (fst.st_mode & 077) != 0 &&
        ::chmod(entry.path().c_str(), fst.st_mode & 0700) == 0)
      ++files;
  }
  char was[8];
  std::snprintf(was, sizeof was, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  log::Warn("server: the data directory " + path + " was open to other users (mode " + was +
            "); tightened it to 0700 and " + std::to_string(files) + " of its files to owner-only");
  return Status::Ok();
}

// The engines and auth methods this binary links, by mount type.
core::BackendRegistry Backends() {
  core::BackendRegistry r;
  r.Register("kv", engines::kv::Factory());
  r.Register("cubbyhole", engines::kv::CubbyholeFactory());
  r.Register("kubernetes", auth::k8s::Factory(NewBeastHttpClient()));
  r.Register("approle", auth::approle::Factory());
  r.Register("userpass", auth::userpass::Factory());
  const auto jwt = auth::jwt::Factory(NewBeastHttpClient());
  r.Register("jwt", jwt);
  r.Register("oidc", jwt);
  r.Register("database", engines::database::Factory({engines::database::postgres::Plugin()}));
  r.Register("transit", engines::transit::Factory());
  return r;
}

struct RemoveDirOnExit {
  std::string dir;
  ~RemoveDirOnExit() {
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

// Dev mode always runs from its own temporary directory (storage and TLS); a
// config file given alongside supplies the other settings.
Result<DevCertPaths> PrepareDevMode(const ServerFlags& flags, ServerConfig& cfg, RemoveDirOnExit& cleanup) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/sealbox-dev-XXXXXX";
  if (!mkdtemp(dir.data())) return Internal(std::string("cannot create a temporary directory: ") + std::strerror(errno));
  cleanup.dir = dir;
  SB_ASSIGN_OR_RETURN(DevCertPaths certs, GenerateDevCerts(dir));
  cfg.storage_type = "rocksdb";
  cfg.storage_path = dir + "/data";
  cfg.listener.tls_cert_file = certs.server_cert;
  cfg.listener.tls_key_file = certs.server_key;
  if (flags.config.empty()) cfg.disable_mlock = true;
  if (cfg.seal.enabled) {
    log::Warn("server: dev mode ignores the seal \"static\" block (dev vaults are throwaway)");
    cfg.seal = {};
  }
  return certs;
}

// The static seal's keys, resolved from their specs (which are wiped after).
Result<core::StaticSealKeys> LoadStaticSeal(ServerConfig& cfg) {
  core::StaticSealKeys keys;
  keys.current_key_id = cfg.seal.current_key_id;
  auto current = LoadSealKey(cfg.seal.current_key);
  if (!current.ok()) return InvalidArgument("seal \"static\": current_key: " + current.status().message());
  keys.current_key = std::move(current).value();
  if (!cfg.seal.previous_key_id.empty()) {
    keys.previous_key_id = cfg.seal.previous_key_id;
    auto previous = LoadSealKey(cfg.seal.previous_key);
    if (!previous.ok()) return InvalidArgument("seal \"static\": previous_key: " + previous.status().message());
    keys.previous_key = std::move(previous).value();
  }
  // A key written into the config itself should not outlive this point.
  for (std::string* spec : {&cfg.seal.current_key, &cfg.seal.previous_key}) OPENSSL_cleanse(spec->data(), spec->size());
  return keys;
}

// The configured physical storage, opened, with its HA lock if enabled.
Status OpenStorage(const ServerConfig& cfg, core::CoreOptions& co) {
  if (cfg.storage_type == "etcd") {
    if (cfg.max_entry_size + 4096 > cfg.etcd.max_request_bytes)
      log::Warn("server: max_entry_size (" + std::to_string(cfg.max_entry_size) +
                ") is near or past what one etcd request holds; larger entries are refused by storage \"etcd\"");
    SB_ASSIGN_OR_RETURN(etcd::EtcdBackend backend, etcd::OpenEtcd(cfg.etcd));
    co.physical = std::move(backend.storage);
    co.ha_lock = std::move(backend.ha);
    co.change_feed = std::move(backend.feed);
    return Status::Ok();
  }
  SB_RETURN_IF_ERROR(PrepareDataDir(cfg.storage_path));
  SB_ASSIGN_OR_RETURN(co.physical, OpenRocksDbStorage(cfg.storage_path));
  return Status::Ok();
}

bool HaEnabled(const ServerConfig& cfg) { return cfg.storage_type == "etcd" && cfg.etcd.ha_enabled; }

// HA, as Vault: the cluster listener binds the API listener's host with the
// next port unless told otherwise, and the node advertises api_addr's host
// with the cluster listener's port unless cluster_addr says otherwise.
Status DeriveClusterAddresses(ServerConfig& cfg) {
  ListenerConfig& l = cfg.listener;
  if (l.cluster_address.empty()) {
    const size_t colon = l.address.rfind(':');
    int port = colon == std::string::npos ? 0 : std::atoi(l.address.c_str() + colon + 1);
    if (port <= 0 || port >= 65535)
      return InvalidArgument("listener: set cluster_address (cannot derive it from address " + l.address + ")");
    l.cluster_address = l.address.substr(0, colon + 1) + std::to_string(port + 1);
  }
  if (cfg.cluster_addr.empty()) {
    std::string host = cfg.api_addr;
    if (size_t scheme = host.find("://"); scheme != std::string::npos) host.erase(0, scheme + 3);
    host = host.substr(0, host.find('/'));
    const size_t port_colon = host.rfind(':');
    if (port_colon != std::string::npos && host.find(']', port_colon) == std::string::npos) host.resize(port_colon);
    cfg.cluster_addr = "https://" + host + l.cluster_address.substr(l.cluster_address.rfind(':'));
  }
  return Status::Ok();
}

// Opens the storage and creates the core, unsealing it with a static seal.
Result<std::unique_ptr<core::Core>> StartCore(ServerConfig& cfg, std::function<void()> on_state_change) {
  core::CoreOptions co;
  co.on_state_change = std::move(on_state_change);
  SB_RETURN_IF_ERROR(OpenStorage(cfg, co));
  co.api_addr = cfg.api_addr;
  co.cache_size = cfg.disable_cache ? 0 : cfg.cache_size;
  co.cluster_addr = cfg.cluster_addr;
  co.storage_type = cfg.storage_type;
  co.max_entry_size = cfg.max_entry_size;
  co.backends = Backends();
  co.default_lease_ttl = cfg.default_lease_ttl;
  co.max_lease_ttl = cfg.max_lease_ttl;
  co.audit_file_limits.allow_prefix = cfg.allow_audit_log_prefixing;
  co.audit_file_limits.allowed_dirs = cfg.audit_file_dirs;
  co.usage_gauge_period_s = cfg.telemetry.usage_gauge_period_s;
  co.sanitized_config = SanitizedConfig(cfg);  // before the seal keys are wiped
  if (cfg.seal.enabled) {
    SB_ASSIGN_OR_RETURN(co.static_seal, LoadStaticSeal(cfg));
  }
  SB_ASSIGN_OR_RETURN(auto core, core::Core::Create(std::move(co)));
  if (cfg.seal.enabled && core->Initialized()) {
    Status s = core->AutoUnseal();
    if (s.code() == StatusCode::kInvalidArgument) return s;
    // A key that does not open the root key leaves the vault sealed and
    // serving (seal-status, health) so the operator can see what is wrong.
    if (!s.ok()) log::Error("server: static seal: auto-unseal failed, the vault stays sealed: " + s.message());
  }
  return core;
}

api::ApiOptions ApiOptionsOf(const ListenerConfig& l) {
  api::ApiOptions ao;
  ao.max_request_size = l.max_request_size;
  ao.max_unauthenticated_request_size = l.max_unauthenticated_request_size;
  ao.disable_unauthed_generate_root = l.disable_unauthed_generate_root_endpoints;
  ao.disable_unauthed_rekey = l.disable_unauthed_rekey_endpoints;
  ao.unauthenticated_metrics_access = l.unauthenticated_metrics_access;
  ao.json.max_depth = l.max_json_depth;
  ao.json.max_strings = l.max_json_strings;
  ao.json.max_elements = l.max_json_elements;
  ao.json.max_string_size = l.max_json_string_value_length;
  ao.json.max_key_size = l.max_json_key_length;
  return ao;
}

void PrintBanner(const ServerConfig& cfg, const std::string& url) {
  if (cfg.log_format == "json") {  // every line a JSON object: the banner is a log line
    log::WriteFields(log::Level::kInfo, "server started",
                     {{"version", kSealboxVersion}, {"storage", cfg.storage_type}, {"listen", url}});
    return;
  }
  std::printf("==> Sealbox server started! Log data will stream in below:\n\n");
  std::printf("    Sealbox version: %s (Vault API %s)\n", kSealboxVersion, kVaultApiVersion);
  if (cfg.storage_type == "etcd")
    std::printf("            Storage: etcd (%s, path %s)\n", cfg.etcd.address.c_str(), cfg.etcd.path.c_str());
  else
    std::printf("            Storage: rocksdb (%s)\n", cfg.storage_path.c_str());
  if (cfg.seal.enabled) std::printf("               Seal: static (key id %s)\n", cfg.seal.current_key_id.c_str());
  std::printf("Listening on %s\n\n", url.c_str());
}

void PrintDevCredentials(const std::string& url, const DevCertPaths& certs, const core::DevCredentials& creds) {
  std::printf(
      "WARNING! dev mode is enabled! In this mode, Sealbox runs entirely from a\n"
      "temporary directory, is already initialized and unsealed, and the root\n"
      "token is printed below. Do not run dev mode in production!\n\n"
      "You may need to set the following environment variables:\n\n"
      "    $ export VAULT_ADDR='%s'\n"
      "    $ export VAULT_CACERT='%s'\n\n"
      "The unseal key and root token are displayed below in case you want to\n"
      "seal/unseal the Vault or re-authenticate.\n\n"
      "Unseal Key: %s\n"
      "Root Token: %s\n\n"
      "Development mode should NOT be used in production installations!\n\n",
      url.c_str(), certs.ca_cert.c_str(), creds.unseal_key_b64.c_str(), creds.root_token.c_str());
}

// The configuration, the file's and the flags', with logging set up.
Result<ServerConfig> LoadServerConfig(const ServerFlags& flags) {
  ServerConfig cfg;
  if (!flags.config.empty()) {
    SB_ASSIGN_OR_RETURN(cfg, LoadConfigFile(flags.config));
  }
  SB_RETURN_IF_ERROR(ApplyFlags(flags, &cfg));
  log::Level level;
  if (!log::ParseLevel(cfg.log_level, &level)) return InvalidArgument("unknown log level " + cfg.log_level);
  log::Format format;
  if (!log::ParseFormat(cfg.log_format, &format)) return InvalidArgument("unknown log format " + cfg.log_format);
  log::SetFormat(format);
  log::SetConfiguredLevel(level);
  return cfg;
}

// SIGHUP: log_level from the file again (a -log-level flag still wins). A
// file that no longer parses keeps the level in force.
void ReloadLogLevel(const ServerFlags& flags) {
  std::string wanted = flags.log_level;
  if (wanted.empty() && !flags.config.empty()) {
    auto cfg = LoadConfigFile(flags.config);
    if (!cfg.ok()) {
      log::Warn("server: SIGHUP: cannot re-read the configuration, log level unchanged: " + cfg.status().message());
      return;
    }
    wanted = cfg->log_level;
  }
  log::Level level;
  if (wanted.empty() || !log::ParseLevel(wanted, &level)) return;
  log::SetConfiguredLevel(level);
  log::WriteFields(log::Level::kInfo, "log level reloaded", {{"level", log::LevelName(level)}});
}

int RunServer(int argc, char** argv) {
  // Everything the server creates (data, dev certificates, audit files
  // unless their mode says otherwise) is its own.
  ::umask(077);
  auto flags = ParseServerFlags(std::vector<std::string>(argv, argv + argc));
  if (!flags.ok()) return Fail(flags.status().message());
  auto loaded = LoadServerConfig(*flags);
  if (!loaded.ok()) return Fail(loaded.status().message());
  ServerConfig cfg = std::move(loaded).value();
  if (!cfg.enable_core_dumps) DisableCoreDumps();
  std::optional<DevCertPaths> dev_certs;
  RemoveDirOnExit dev_cleanup;  // dev data is throwaway, also on errors
  if (flags->dev) {
    auto certs = PrepareDevMode(*flags, cfg, dev_cleanup);
    if (!certs.ok()) return Fail(certs.status().message());
    dev_certs = *certs;
  }
  if (cfg.listener.tls_cert_file.empty() || cfg.listener.tls_key_file.empty())
    return Fail("listener \"tcp\" needs tls_cert_file and tls_key_file (Sealbox serves HTTPS only)");
  RaiseFileLimit(cfg.listener.max_connections);
  metrics::SetEnabled(cfg.telemetry.filter_default);
  metrics::DefaultRegistry().SetPrometheusRetentionSeconds(cfg.telemetry.prometheus_retention_s);
  metrics::RegisterProcessCollector(metrics::DefaultRegistry());
  if (!cfg.disable_mlock) LockMemory();
  if (HaEnabled(cfg)) {
    if (Status s = DeriveClusterAddresses(cfg); !s.ok()) return Fail(s.message());
  }
  std::shared_ptr<service_registration::KubernetesRegistration> registration;
  if (cfg.service_registration.enabled) {
    auto k8s = service_registration::ResolveKubernetesOptions(cfg.service_registration.namespace_name,
                                                              cfg.service_registration.pod_name, kSealboxVersion);
    if (!k8s.ok()) return Fail(k8s.status().message());
    registration = std::make_shared<service_registration::KubernetesRegistration>(*k8s, NewBeastHttpClient());
  }
  auto core = StartCore(cfg, registration ? std::function<void()>([registration] { registration->Notify(); })
                                          : std::function<void()>());
  if (!core.ok()) return Fail(core.status().message());
  core::Core* core_ptr = core->get();
  api::ApiOptions ao = ApiOptionsOf(cfg.listener);
  HttpServer::Options so;
  so.listener = cfg.listener;
  so.worker_threads = cfg.listener.worker_threads;
  so.wait_worker_threads = cfg.listener.wait_worker_threads;
  if (HaEnabled(cfg)) {
    ao.forward_client = NewBeastHttpClient();
    ao.forward_timeout_ms = cfg.listener.max_request_duration_s * 1000;
    so.cluster_address = cfg.listener.cluster_address;
    so.cluster_identity = [core_ptr] { return core_ptr->ClusterTls(); };
  }
  auto handler = api::NewApiHandler(core_ptr, ao);
  auto server = HttpServer::Create(so, handler.get());
  if (!server.ok()) return Fail(server.status().message());
  std::string host = cfg.listener.address.substr(0, cfg.listener.address.rfind(':'));
  std::string url = "https://" + host + ":" + std::to_string((*server)->port());
  PrintBanner(cfg, url);
  if (flags->dev) {
    auto creds = (*core)->DevSetup(flags->dev_root_token_id);
    if (!creds.ok()) return Fail("dev setup failed: " + creds.status().message());
    PrintDevCredentials(url, *dev_certs, *creds);
  }
  std::fflush(stdout);
  (*server)->SetReloadHook([core_ptr, reload_flags = *flags] {
    ReloadLogLevel(reload_flags);
    core_ptr->OnSighup();
  });
  if (registration) {
    registration->Start([core_ptr] {
      return service_registration::NodeState{core_ptr->Initialized(), core_ptr->Sealed(),
                                             core_ptr->GetHaStatus().active};
    });
  }
  (*server)->Run();
  if (registration) registration->Stop();  // before the core it reads goes away
  server->reset();
  (*core)->Shutdown();
  core->reset();
  log::Info("server: stopped");
  return 0;
}

}  // namespace
}  // namespace sealbox::server

namespace sealbox::server {
namespace {

// `sealbox audit verify -file F -key HEX [-prefix P]`: checks an audit file's
// hash chain offline (the key comes from sys/audit/<path>/chain-key).
int RunAuditVerify(int argc, char** argv) {
  std::string file, key, prefix;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    while (!a.empty() && a[0] == '-') a.erase(0, 1);
    std::string name = a, value;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    if (name == "file") file = value;
    else if (name == "key") key = value;
    else if (name == "prefix") prefix = value;
    else {
      std::fprintf(stderr, "flag provided but not defined: -%s\n", name.c_str());
      return 1;
    }
  }
  if (file.empty() || key.empty()) {
    std::fprintf(stderr, "Usage: sealbox audit verify -file=FILE -key=HEX [-prefix=P]\n");
    return 1;
  }
  std::string report;
  int rc = audit::VerifyFile(file, key, prefix, &report);
  std::fputs(report.c_str(), rc == 0 ? stdout : stderr);
  return rc;
}

}  // namespace
}  // namespace sealbox::server

namespace sealbox::server {
namespace {

constexpr char kServerUsage[] =
    "Usage: sealbox server [options]\n\n"
    "  Starts a Sealbox server: -config=FILE for a real one, -dev for a throwaway\n"
    "  one (temporary directory, TLS with a generated CA, initialised, unsealed).\n\n"
    "Command Options:\n\n"
    "  -config=<string>\n      Path to the HCL configuration file (docs/configuration.md).\n\n"
    "  -dev\n      Run a development server.\n\n"
    "  -dev-root-token-id=<string>\n      The root token of the dev server (default: generated).\n\n"
    "  -dev-listen-address=<string>\n      Address of the dev server. The default is 127.0.0.1:8200.\n\n"
    "  -log-level=<string>\n      trace, debug, info, warn or error.\n"
    "  -log-format=<string>\n      standard or json.\n";

constexpr char kAuditVerifyUsage[] =
    "Usage: sealbox audit verify -file=FILE -key=HEX [-prefix=P]\n\n"
    "  Checks an audit file's hash chain offline; the key comes from\n"
    "  sys/audit/<path>/chain-key (docs/audit.md).\n";

// -h, -help or --help: print `usage` and exit 0, before anything else runs.
bool PrintedHelp(int argc, char** argv, const char* usage) {
  if (!cli::WantsHelp(std::vector<std::string>(argv, argv + argc))) return false;
  std::fputs(usage, stdout);
  return true;
}

}  // namespace
}  // namespace sealbox::server

int main(int argc, char** argv) {
  using sealbox::server::PrintedHelp;
  if (argc >= 3 && std::strcmp(argv[1], "audit") == 0 && std::strcmp(argv[2], "verify") == 0) {
    if (PrintedHelp(argc - 3, argv + 3, sealbox::server::kAuditVerifyUsage)) return 0;
    return sealbox::server::RunAuditVerify(argc - 3, argv + 3);
  }
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) {
    if (PrintedHelp(argc - 2, argv + 2, sealbox::server::kServerUsage)) return 0;
    return sealbox::server::RunServer(argc - 2, argv + 2);
  }
  if (argc >= 2 && (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "-version") == 0 ||
                    std::strcmp(argv[1], "--version") == 0)) {
    std::printf("Sealbox v%s (Vault API %s)\n", sealbox::kSealboxVersion, sealbox::kVaultApiVersion);
    return 0;
  }
  // The client is ended before main returns: OpenSSL frees its I/O thread's
  // state when that thread exits, which must come before OpenSSL's own
  // atexit cleanup (a static would end after it, and leak that state).
  sealbox::cli::SetHttpClient(sealbox::server::NewBeastHttpClient());
  const int rc = argc >= 2 && std::strcmp(argv[1], "kms-plugin") == 0 ? sealbox::kms::RunPlugin(argc - 2, argv + 2)
                                                                      : sealbox::cli::Run(argc, argv);
  sealbox::cli::SetHttpClient(nullptr);
  return rc;
}
