// Keeps the plugin's Sealbox token valid for as long as the plugin runs: a
// token given in VAULT_TOKEN is renewed (renew-self) at half its TTL; with
// AppRole or Kubernetes auth the plugin logs in, renews the same way, and
// logs in again when renewal is refused or the token reaches its max TTL.
// Sealbox being sealed or away is retried with a capped backoff, so the
// plugin can start before Sealbox and ride out a seal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "kms/transit_key.h"

namespace sealbox::kms {

struct AuthConfig {
  enum class Method { kToken, kAppRole, kKubernetes };
  Method method = Method::kToken;
  std::string mount;  // auth mount path: "approle", "kubernetes"
  std::string role;   // AppRole role_id, or the Kubernetes role name
  std::string secret_id;
  std::string jwt_file;  // Kubernetes: the service account token, read at each login
};

// From the environment (VAULT_* or SEALBOX_*): ROLE_ID and SECRET_ID (or
// SECRET_ID_FILE) with APPROLE_MOUNT; else K8S_ROLE with K8S_TOKEN_FILE and
// K8S_MOUNT; else the token (VAULT_TOKEN) the session already holds.
Result<AuthConfig> AuthConfigFromEnv(bool have_token);

class TokenKeeper {
 public:
  TokenKeeper(Session* session, AuthConfig auth) : session_(session), auth_(std::move(auth)) {}
  ~TokenKeeper() { Stop(); }
  void Start();
  void Stop();

 private:
  struct Lease {
    int64_t ttl = 0;  // seconds; 0: does not expire
    bool renewable = false;
  };
  void Loop();
  Result<Lease> Refresh(const std::optional<Lease>& current, bool* logged_in);
  Result<Lease> Login();
  Result<Lease> Renew();
  Result<Lease> LookupSelf();
  // Waits up to `seconds` or until Stop; false when stopping.
  bool Wait(int64_t seconds);

  Session* session_;
  AuthConfig auth_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealbox::kms
