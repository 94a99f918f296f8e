// sealbox: the server (`sealbox server ...`) and the client commands of the
// same binary. This is the composition root: it picks the storage, registers
// the secrets engines and auth methods with core's registry, and wires the
// HTTPS listener to the API handler.
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "api/api_handler.h"
#include "audit/audit_broker.h"
#include "base/log.h"
#include "base/version.h"
#include "cli/cli.h"
#include "core/core.h"
#include "core/core_impl.h"
#include "auth/kubernetes/kubernetes_backend.h"
#include "engines/database/database_backend.h"
#include "engines/kv/register.h"
#include "server/beast_http_client.h"
#include "server/config.h"
#include "server/dev_certs.h"
#include "server/http_server.h"
#include "storage/rocksdb_storage.h"

namespace sealbox::server {
namespace {

struct Flags {
  std::string config;
  bool dev = false;
  std::string dev_root_token_id;
  std::string dev_listen_address = "127.0.0.1:8200";
  std::string log_level;
};

// Vault-style flags: -name=value, -name value, --name=value; bools bare.
bool ParseFlags(int argc, char** argv, Flags* f, std::string* err) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) a = a.substr(1);
    if (a.empty() || a[0] != '-') {
      *err = "unexpected argument " + a;
      return false;
    }
    a = a.substr(1);
    std::string name = a, value;
    bool has_value = false;
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto take = [&](std::string* out) {
      if (!has_value) {
        if (i + 1 >= argc) return false;
        value = argv[++i];
      }
      *out = value;
      return true;
    };
    bool ok = true;
    if (name == "config") ok = take(&f->config);
    else if (name == "dev") f->dev = !has_value || value == "true" || value == "1";
    else if (name == "dev-root-token-id") ok = take(&f->dev_root_token_id);
    else if (name == "dev-listen-address") ok = take(&f->dev_listen_address);
    else if (name == "log-level") ok = take(&f->log_level);
    else if (name == "dev-no-store-token" || name == "dev-tls") continue;
    else {
      *err = "unknown flag -" + name;
      return false;
    }
    if (!ok) {
      *err = "flag -" + name + " needs a value";
      return false;
    }
  }
  if (!f->dev && f->config.empty()) {
    *err = "a config file is required: sealbox server -config=FILE (or -dev)";
    return false;
  }
  return true;
}

void Harden(const ServerConfig& cfg) {
  // Secrets live in this process's memory: no core files, no ptrace by peers.
  if (!cfg.enable_core_dumps) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
  }
  if (!cfg.disable_mlock && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    log::Warn(std::string("server: mlockall failed (") + std::strerror(errno) +
              "); memory may be swapped. Grant CAP_IPC_LOCK or set disable_mlock = true.");
  }
}

void RegisterBackends() {
  core::GlobalRegistry().Register("kv", engines::kv::Factory());
  core::GlobalRegistry().Register("cubbyhole", engines::kv::CubbyholeFactory());
  core::GlobalRegistry().Register("kubernetes", auth::k8s::Factory(NewBeastHttpClient()));
  core::GlobalRegistry().Register("database", engines::database::Factory());
}

int RunServer(int argc, char** argv) {
  Flags flags;
  std::string err;
  if (!ParseFlags(argc, argv, &flags, &err)) {
    std::fprintf(stderr, "Error: %s\n", err.c_str());
    return 1;
  }
  ServerConfig cfg;
  std::string dev_dir;
  std::optional<DevCertPaths> dev_certs;
  if (flags.dev) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/sealbox-dev-XXXXXX";
    if (!mkdtemp(tmpl.data())) {
      std::fprintf(stderr, "Error: cannot create a temporary directory: %s\n", std::strerror(errno));
      return 1;
    }
    dev_dir = tmpl;
    auto certs = GenerateDevCerts(dev_dir);
    if (!certs.ok()) {
      std::fprintf(stderr, "Error: %s\n", certs.status().message().c_str());
      return 1;
    }
    dev_certs = *certs;
    cfg.storage_path = dev_dir + "/data";
    cfg.listener.address = flags.dev_listen_address;
    cfg.listener.tls_cert_file = certs->server_cert;
    cfg.listener.tls_key_file = certs->server_key;
    cfg.disable_mlock = true;
  }
  if (!flags.config.empty()) {
    auto loaded = LoadConfigFile(flags.config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "Error: %s\n", loaded.status().message().c_str());
      return 1;
    }
    if (flags.dev) {
      // Dev mode keeps its own storage and TLS; the file adds the rest.
      loaded->storage_path = cfg.storage_path;
      loaded->listener.tls_cert_file = cfg.listener.tls_cert_file;
      loaded->listener.tls_key_file = cfg.listener.tls_key_file;
      loaded->listener.address = cfg.listener.address;
    }
    cfg = *loaded;
  }
  if (!flags.log_level.empty()) cfg.log_level = flags.log_level;
  log::Level level;
  if (!log::ParseLevel(cfg.log_level, &level)) {
    std::fprintf(stderr, "Error: unknown log level %s\n", cfg.log_level.c_str());
    return 1;
  }
  log::SetLevel(level);
  if (cfg.listener.tls_cert_file.empty() || cfg.listener.tls_key_file.empty()) {
    std::fprintf(stderr, "Error: listener \"tcp\" needs tls_cert_file and tls_key_file (HTTPS only)\n");
    return 1;
  }
  Harden(cfg);
  RegisterBackends();

  std::error_code fs_ec;
  std::filesystem::create_directories(cfg.storage_path, fs_ec);
  auto storage = OpenRocksDbStorage(cfg.storage_path);
  if (!storage.ok()) {
    std::fprintf(stderr, "Error: %s\n", storage.status().message().c_str());
    return 1;
  }
  core::CoreOptions co;
  co.physical = std::move(storage).value();
  co.storage_type = "rocksdb";
  co.max_entry_size = cfg.max_entry_size;
  auto core = core::Core::Create(std::move(co));
  if (!core.ok()) {
    std::fprintf(stderr, "Error: %s\n", core.status().message().c_str());
    return 1;
  }
  api::ApiOptions ao;
  ao.max_request_size = cfg.listener.max_request_size;
  ao.max_json_depth = cfg.listener.max_json_depth;
  ao.max_json_strings = cfg.listener.max_json_strings;
  auto handler = api::NewApiHandler(core->get(), ao);

  HttpServer::Options so;
  so.listener = cfg.listener;
  auto server = HttpServer::Create(so, handler.get());
  if (!server.ok()) {
    std::fprintf(stderr, "Error: %s\n", server.status().message().c_str());
    return 1;
  }
  std::string host = cfg.listener.address.substr(0, cfg.listener.address.rfind(':'));
  std::string url = "https://" + host + ":" + std::to_string((*server)->port());

  std::printf("==> Sealbox server started! Log data will stream in below:\n\n");
  std::printf("    Sealbox version: %s (Vault API %s)\n", kSealboxVersion, kVaultApiVersion);
  std::printf("            Storage: rocksdb (%s)\n", cfg.storage_path.c_str());
  std::printf("Listening on %s\n\n", url.c_str());
  if (flags.dev) {
    auto creds = (*core)->DevSetup(flags.dev_root_token_id);
    if (!creds.ok()) {
      std::fprintf(stderr, "Error: dev setup failed: %s\n", creds.status().message().c_str());
      return 1;
    }
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
        url.c_str(), dev_certs->ca_cert.c_str(), creds->unseal_key_b64.c_str(), creds->root_token.c_str());
  }
  std::fflush(stdout);
  core::Core* core_ptr = core->get();
  (*server)->SetReloadHook([core_ptr] { core_ptr->OnSighup(); });
  (*server)->Run();
  server->reset();
  (*core)->Shutdown();
  core->reset();
  if (flags.dev) std::filesystem::remove_all(dev_dir, fs_ec);
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
      std::fprintf(stderr, "Usage: sealbox audit verify -file=FILE -key=HEX [-prefix=P]\n");
      return 2;
    }
  }
  if (file.empty() || key.empty()) {
    std::fprintf(stderr, "Usage: sealbox audit verify -file=FILE -key=HEX [-prefix=P]\n");
    return 2;
  }
  std::string report;
  int rc = audit::VerifyFile(file, key, prefix, &report);
  std::fputs(report.c_str(), rc == 0 ? stdout : stderr);
  return rc;
}

}  // namespace
}  // namespace sealbox::server

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "audit") == 0 && std::strcmp(argv[2], "verify") == 0)
    return sealbox::server::RunAuditVerify(argc - 3, argv + 3);
  if (argc >= 2 && std::strcmp(argv[1], "server") == 0) return sealbox::server::RunServer(argc - 2, argv + 2);
  if (argc >= 2 && (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "-version") == 0 ||
                    std::strcmp(argv[1], "--version") == 0)) {
    std::printf("Sealbox v%s (Vault API %s)\n", sealbox::kSealboxVersion, sealbox::kVaultApiVersion);
    return 0;
  }
  sealbox::cli::SetHttpClient(sealbox::server::NewBeastHttpClient());
  return sealbox::cli::Run(argc, argv);
}
