#include "kms/plugin.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "base/log.h"
#include "cli/client.h"
#include "cli/flags.h"
#include "kms/kms_service.h"
#include "kms/token_keeper.h"
#include "kms/transit_key.h"

namespace sealbox::kms {
namespace {

constexpr char kUsage[] =
    "Usage: sealbox kms-plugin -socket=PATH -transit-key=NAME [options]\n\n"
    "  Serves the Kubernetes KMS v2 API on a unix socket for kube-apiserver's\n"
    "  EncryptionConfiguration, backed by a Transit key (docs/kms.md).\n"
    "  Sealbox is reached through VAULT_ADDR and VAULT_CACERT; the plugin\n"
    "  authenticates with VAULT_TOKEN, or AppRole (VAULT_ROLE_ID, VAULT_SECRET_ID\n"
    "  or VAULT_SECRET_ID_FILE), or Kubernetes (VAULT_K8S_ROLE, VAULT_K8S_TOKEN_FILE),\n"
    "  and keeps its token renewed.\n\n"
    "Command Options:\n\n"
    "  -socket=<string>\n      Path of the unix socket to serve (created 0600).\n\n"
    "  -transit-key=<string>\n      Name of the Transit key.\n\n"
    "  -transit-mount=<string>\n      Mount path of the Transit engine. The default is transit.\n\n"
    "  -address, -ca-cert, -ca-path, -tls-server-name, -tls-skip-verify, -namespace\n"
    "      As for every client command (docs/cli.md).\n";

// Sealbox answers a healthy key read in milliseconds; kube-apiserver's own
// call timeout is 3 s, so a request must give up well before.
constexpr int kSealboxTimeoutMs = 2500;
constexpr int kMaxMessage = 256 * 1024;

std::vector<cli::FlagSpec> PluginFlags() {
  std::vector<cli::FlagSpec> specs = {
      {"socket", cli::FlagType::kString, "", ""},
      {"transit-key", cli::FlagType::kString, "", ""},
      {"transit-mount", cli::FlagType::kString, "", "transit"},
  };
  // The connection flags cli::ConnectionFrom reads, but -wrap-ttl: the
  // plugin never wraps.
  static const std::set<std::string> kConnection = {"address", "ca-cert", "ca-path", "tls-server-name",
                                                    "tls-skip-verify", "namespace", "ns"};
  for (auto& f : cli::HttpFlagSpecs())
    if (kConnection.count(f.name)) specs.push_back(std::move(f));
  return specs;
}

bool IsName(const std::string& s, bool slashes) {
  if (s.empty() || s.size() > 128 || s.front() == '/' || s.back() == '/') return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || (slashes && c == '/')))
      return false;
  return s.find("..") == std::string::npos;
}

struct Settings {
  std::string socket;
  std::string mount;
  std::string key;
  cli::Connection conn;
};

Result<Settings> ParseSettings(int argc, char** argv) {
  SB_ASSIGN_OR_RETURN(cli::ParsedArgs parsed,
                      cli::FlagSet(PluginFlags()).Parse(std::vector<std::string>(argv, argv + argc)));
  if (!parsed.args.empty()) return InvalidArgument("unexpected argument " + parsed.args[0]);
  Settings s;
  s.socket = parsed.flags.String("socket");
  s.key = parsed.flags.String("transit-key");
  s.mount = parsed.flags.String("transit-mount");
  if (s.socket.empty()) return InvalidArgument("-socket is required");
  if (!IsName(s.key, false)) return InvalidArgument("-transit-key must be a Transit key name");
  if (!IsName(s.mount, true)) return InvalidArgument("-transit-mount must be a mount path");
  SB_ASSIGN_OR_RETURN(s.conn, cli::ConnectionFrom(parsed.flags));
  s.conn.timeout_ms = kSealboxTimeoutMs;
  s.conn.wrap_ttl.clear();  // VAULT_WRAP_TTL in the environment would wrap every reply
  return s;
}

// A socket left by an earlier run is replaced; any other file is not.
Status PrepareSocketPath(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISSOCK(st.st_mode)) return InvalidArgument(path + " exists and is not a socket");
  if (::unlink(path.c_str()) != 0) return InvalidArgument("cannot remove the old socket " + path);
  return Status::Ok();
}

// Blocks SIGINT and SIGTERM in every thread (call before any starts) and
// returns once one arrives.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

int Serve(Settings s) {
  Session session(s.conn);
  auto auth = AuthConfigFromEnv(session.HasToken());
  if (!auth.ok()) return Fail(auth.status().message());
  if (Status st = PrepareSocketPath(s.socket); !st.ok()) return Fail(st.message());
  sigset_t stop = BlockStopSignals();
  TransitKey key(&session, s.mount, s.key);
  TokenKeeper keeper(&session, *auth);
  keeper.Start();
  auto service = NewKmsService(&key);
  ::umask(077);  // the socket is 0600: only kube-apiserver's user may call it
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + s.socket, grpc::InsecureServerCredentials());
  builder.RegisterService(service.get());
  builder.SetMaxReceiveMessageSize(kMaxMessage);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return Fail("cannot serve on unix://" + s.socket);
  ::chmod(s.socket.c_str(), 0600);
  log::Info("kms-plugin: serving KMS v2 on unix://" + s.socket + " with transit key " + s.mount + "/" + s.key);
  int sig = 0;
  sigwait(&stop, &sig);
  log::Info("kms-plugin: stopping");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  keeper.Stop();
  ::unlink(s.socket.c_str());
  return 0;
}

}  // namespace

int RunPlugin(int argc, char** argv) {
  if (cli::WantsHelp(std::vector<std::string>(argv, argv + argc))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto settings = ParseSettings(argc, argv);
  if (!settings.ok()) {
    std::fprintf(stderr, "Error: %s\n\n%s", settings.status().message().c_str(), kUsage);
    return 1;
  }
  return Serve(std::move(settings).value());
}

}  // namespace sealbox::kms
