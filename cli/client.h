// The CLI's side of the HTTP API: where to connect and as whom (flags, then
// VAULT_* / SEALBOX_* environment, then ~/.vault-token), one call, and how
// failures are reported with vault's exit codes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/http_client.h"
#include "base/json_util.h"
#include "cli/flags.h"

namespace sealbox::cli {

// Exit codes, as the vault CLI: usage errors (flags, arguments) exit 1;
// failures after that (the server, the network, files) exit 2.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitError = 2;

// The composition root injects the HTTPS client (cli/ never includes Beast).
void SetClient(std::shared_ptr<HttpClient> client);

// VAULT_<name> with its SEALBOX_<name> alias, which wins. `name` is the
// part after the prefix ("ADDR").
std::string Env(const std::string& name);

std::string TokenHelperPath();  // ~/.vault-token

struct Connection {
  std::string addr;   // https://127.0.0.1:8200, no trailing slash
  std::string token;  // VAULT_TOKEN, else ~/.vault-token
  std::string wrap_ttl;  // -wrap-ttl or VAULT_WRAP_TTL: sent as X-Vault-Wrap-TTL
  TlsClientConfig tls;
  int timeout_ms = 60000;  // per request; long-running clients (kms/) answer faster
};

// The connection the common HTTP flags and the environment describe. Errors
// (InvalidArgument) for what Sealbox does not do: a namespace other than
// root, client certificates, agent addresses...
Result<Connection> ConnectionFrom(const FlagValues& flags);

// The flags every command that talks to a server accepts (vault's "HTTP
// Options"), the ones Sealbox refuses declared with their reason.
std::vector<FlagSpec> HttpFlagSpecs();

struct Reply {
  int status = 0;
  Json body;  // null for an empty or non-JSON body
  std::string url;
  std::string method;
};

// One request to <addr>/v1/<path>; a network failure is an error, any HTTP
// status a Reply.
Result<Reply> Call(const Connection& c, const std::string& method, const std::string& path,
                   const Json& body = nullptr);

// Vault's "Error <what>: Error making API request." block on stderr; 2.
int ApiError(const std::string& what, const Reply& r);
// "Error <what>: <message>" on stderr; returns `code`.
int Fail(const std::string& what, const Status& s, int code = kExitError);
int Fail(const std::string& message, int code = kExitError);

}  // namespace sealbox::cli
