// KubernetesRegistration: Vault's service_registration "kubernetes". The node
// labels its own pod with its state through the Kubernetes API, so that
// Services can select the active node (vault-active=true) or the standbys:
//
//   vault-active        "true" on the active node (an unsealed node without HA)
//   vault-sealed        "true" / "false"
//   vault-initialized   "true" / "false"
//   vault-perf-standby  always "false" (no performance standbys)
//   vault-version       the Sealbox version
//
// Writes are JSON Patches (application/json-patch+json) to
// /api/v1/namespaces/<ns>/pods/<name>; the first one after start (or after a
// failure) reads the pod first and, when it has no labels at all, adds the
// whole labels object. One background thread does every call: Notify() only
// marks the state as changed, so the vault never waits on the API. Changes
// are coalesced (the thread publishes the state it reads when it runs) and a
// failed publication is retried with exponential backoff until it lands.
// The service account token is read from its file at every call (projected
// tokens rotate) and never logged.
// Thread-safety: Notify() may be called from any thread, also with core locks
// held (it takes only this object's mutex); Start/Stop from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/http_client.h"
#include "base/status.h"

namespace sealbox::service_registration {

// Where the in-cluster API and the pod's credentials are, as Vault finds them.
inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubernetesOptions {
  std::string namespace_name;  // the pod's namespace
  std::string pod_name;
  std::string api_url;         // https://host:port of the API server
  std::string token_file;      // the service account token
  std::string ca_file;         // the API server's CA (PEM)
  std::string version;         // vault-version
  int request_timeout_ms = 3000;
  std::chrono::milliseconds min_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
};

// The stanza's keys and the environment, resolved as Vault does: the env
// (VAULT_K8S_NAMESPACE, VAULT_K8S_POD_NAME) wins over `namespace`/`pod_name`;
// the namespace falls back to the service account's namespace file. The API
// address is KUBERNETES_SERVICE_HOST/_PORT; the token and CA are in
// SEALBOX_K8S_SERVICE_ACCOUNT_DIR (default kServiceAccountDir; tests set it).
// Errors name what is missing.
Result<KubernetesOptions> ResolveKubernetesOptions(const std::string& config_namespace,
                                                   const std::string& config_pod_name, const std::string& version);

struct NodeState {
  bool initialized = false;
  bool sealed = true;
  bool active = false;
  bool operator==(const NodeState&) const = default;
};

class KubernetesRegistration {
 public:
  using StateReader = std::function<NodeState()>;

  KubernetesRegistration(KubernetesOptions options, std::shared_ptr<HttpClient> client);
  ~KubernetesRegistration();  // Stop()
  KubernetesRegistration(const KubernetesRegistration&) = delete;
  KubernetesRegistration& operator=(const KubernetesRegistration&) = delete;

  // Starts the thread; it publishes the state `read` returns at once, and
  // again after every Notify(). `read` must stay callable until Stop().
  void Start(StateReader read);
  // The node's state may have changed. Never blocks on the API.
  void Notify();
  // Ends the thread (waits for a call in flight, at most its timeout).
  void Stop();

 private:
  void Run();
  // Waits until notified or stopped; with `retry_at`, until then or stopped.
  // False: stop.
  bool WaitForWork(const std::chrono::steady_clock::time_point* retry_at);
  Status Publish(const NodeState& state, bool read_pod_first);
  Result<HttpClientResponse> Call(const std::string& method, const std::string& body);

  const KubernetesOptions options_;
  const std::shared_ptr<HttpClient> client_;
  StateReader read_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool changed_ = true;  // guarded by mu_
  bool stop_ = false;    // guarded by mu_
};

}  // namespace sealbox::service_registration
