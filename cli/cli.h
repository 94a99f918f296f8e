// The client commands of the sealbox binary (`sealbox status`, `operator
// init`, `kv get`...), speaking Vault's HTTP API like the vault CLI does.
#pragma once

namespace sealbox::cli {

// Runs the command in argv[1..]; returns the process exit code (0 ok, 1 error,
// 2 usage error or sealed, as vault).
int Run(int argc, char** argv);

}  // namespace sealbox::cli
