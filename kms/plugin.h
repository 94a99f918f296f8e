// `sealbox kms-plugin -socket PATH -transit-key NAME [-transit-mount transit]`:
// serves the Kubernetes KMS v2 API on a unix socket until SIGTERM or SIGINT,
// backed by a Transit key of the Sealbox at VAULT_ADDR (docs/kms.md). The
// composition root (server/main.cc) injects the HTTPS client first
// (cli::SetHttpClient).
#pragma once

namespace sealbox::kms {

// args: what follows "kms-plugin". Returns the exit code (1 for usage).
int RunPlugin(int argc, char** argv);

}  // namespace sealbox::kms
