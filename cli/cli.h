// The client commands of the sealbox binary (`sealbox status`, `operator
// init`, `kv get`...), speaking Vault's HTTP API as the vault CLI does: same
// verbs, flags, environment (VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, ... and
// SEALBOX_* aliases), output formats and exit codes (0 ok, 1 usage error,
// 2 error from the server or sealed; 127 unknown command). docs/cli.md.
#pragma once

#include <memory>

#include "base/http_client.h"

namespace sealbox::cli {

// The composition root injects the HTTPS client (cli/ never includes Beast).
void SetHttpClient(std::shared_ptr<HttpClient> client);

// Runs the command in argv[1..]; returns the process exit code.
int Run(int argc, char** argv);

}  // namespace sealbox::cli
