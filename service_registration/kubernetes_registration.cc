#include "service_registration/kubernetes_registration.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <utility>

#include "base/json_util.h"
#include "base/log.h"

namespace sealbox::service_registration {
namespace {

constexpr const char* kLabelsPath = "/metadata/labels";
// The largest pod object read back (a pod with many annotations is a few KiB).
constexpr size_t kMaxPodSize = 1u << 20;
// What a token or CA file may hold: more is not one.
constexpr std::streamsize kMaxCredentialFileSize = 64 * 1024;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The file's content without trailing whitespace; empty when unreadable.
std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string out(static_cast<size_t>(kMaxCredentialFileSize), '\0');
  in.read(out.data(), kMaxCredentialFileSize);
  out.resize(static_cast<size_t>(in.gcount()));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return out;
}

Json Labels(const NodeState& s, const std::string& version) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  return Json{{"vault-active", b(s.active)},
              {"vault-sealed", b(s.sealed)},
              {"vault-perf-standby", "false"},
              {"vault-initialized", b(s.initialized)},
              {"vault-version", version}};
}

// One JSON Patch operation per label ("add" sets a member whether or not it
// exists), or one that adds the labels object when the pod has none.
std::string PatchBody(const Json& labels, bool pod_has_labels) {
  Json ops = Json::array();
  if (!pod_has_labels) {
    ops.push_back(Json{{"op", "add"}, {"path", kLabelsPath}, {"value", labels}});
  } else {
    for (const auto& [k, v] : labels.items())
      ops.push_back(Json{{"op", "add"}, {"path", std::string(kLabelsPath) + "/" + k}, {"value", v}});
  }
  return ops.dump();
}

// A failed call's description: the status and the API's own message (a
// Status object names the object and the user, never the credential).
Status ApiError(const std::string& what, const HttpClientResponse& r) {
  Json body = Json::parse(r.body, nullptr, false);
  std::string msg = body.is_object() ? body.value("message", "") : "";
  if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
  return Unavailable(what + ": the Kubernetes API answered " + std::to_string(r.status) +
                     (msg.empty() ? "" : ": " + msg));
}

}  // namespace

Result<KubernetesOptions> ResolveKubernetesOptions(const std::string& config_namespace,
                                                   const std::string& config_pod_name, const std::string& version) {
  KubernetesOptions o;
  std::string dir = Env("SEALBOX_K8S_SERVICE_ACCOUNT_DIR");
  if (dir.empty()) dir = kServiceAccountDir;
  o.token_file = dir + "/token";
  o.ca_file = dir + "/ca.crt";
  o.namespace_name = Env("VAULT_K8S_NAMESPACE");
  if (o.namespace_name.empty()) o.namespace_name = config_namespace;
  if (o.namespace_name.empty()) o.namespace_name = ReadSmallFile(dir + "/namespace");
  if (o.namespace_name.empty())
    return InvalidArgument("service_registration \"kubernetes\": namespace must be provided via \"VAULT_K8S_NAMESPACE\" "
                           "or the \"namespace\" config parameter");
  o.pod_name = Env("VAULT_K8S_POD_NAME");
  if (o.pod_name.empty()) o.pod_name = config_pod_name;
  if (o.pod_name.empty())
    return InvalidArgument("service_registration \"kubernetes\": pod_name must be provided via \"VAULT_K8S_POD_NAME\" "
                           "or the \"pod_name\" config parameter");
  for (const std::string* name : {&o.namespace_name, &o.pod_name})
    if (name->size() > 253 || name->find_first_of("/?#% ") != std::string::npos)
      return InvalidArgument("service_registration \"kubernetes\": invalid namespace or pod name \"" +
                             name->substr(0, 64) + "\"");
  const std::string host = Env("KUBERNETES_SERVICE_HOST"), port = Env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    return InvalidArgument("service_registration \"kubernetes\": KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                           "must be set (they are inside a pod)");
  o.api_url = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  o.version = version;
  return o;
}

KubernetesRegistration::KubernetesRegistration(KubernetesOptions options, std::shared_ptr<HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

KubernetesRegistration::~KubernetesRegistration() { Stop(); }

void KubernetesRegistration::Start(StateReader read) {
  read_ = std::move(read);
  thread_ = std::thread([this] { Run(); });
}

void KubernetesRegistration::Notify() {
  std::lock_guard l(mu_);
  changed_ = true;
  cv_.notify_one();
}

void KubernetesRegistration::Stop() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool KubernetesRegistration::WaitForWork(const std::chrono::steady_clock::time_point* retry_at) {
  std::unique_lock l(mu_);
  // After a failure only the backoff ends the wait: the retry publishes the
  // state of that moment, changes included.
  if (retry_at) cv_.wait_until(l, *retry_at, [this] { return stop_; });
  else cv_.wait(l, [this] { return changed_ || stop_; });
  changed_ = false;
  return !stop_;
}

void KubernetesRegistration::Run() {
  std::optional<NodeState> published;  // what the pod's labels say, as far as we know
  bool failing = false;
  auto backoff = options_.min_backoff;
  std::chrono::steady_clock::time_point retry_at;
  while (WaitForWork(failing ? &retry_at : nullptr)) {
    const NodeState state = read_();
    if (!failing && published == state) continue;
    Status s = Publish(state, failing || !published);
    if (s.ok()) {
      if (failing) log::Info("service_registration: pod labels updated after earlier failures");
      published = state;
      failing = false;
      backoff = options_.min_backoff;
      continue;
    }
    if (!failing) log::Warn("service_registration: cannot label the pod, will retry: " + s.message());
    failing = true;
    retry_at = std::chrono::steady_clock::now() + backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

Status KubernetesRegistration::Publish(const NodeState& state, bool read_pod_first) {
  bool has_labels = true;
  if (read_pod_first) {
    SB_ASSIGN_OR_RETURN(HttpClientResponse r, Call("GET", ""));
    if (r.status != 200) return ApiError("reading pod " + options_.namespace_name + "/" + options_.pod_name, r);
    Json pod = Json::parse(r.body, nullptr, false);
    if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object())
      return Unavailable("reading pod: the Kubernetes API answered no pod object");
    const Json& meta = pod["metadata"];
    has_labels = meta.contains("labels") && meta["labels"].is_object();
  }
  SB_ASSIGN_OR_RETURN(HttpClientResponse r, Call("PATCH", PatchBody(Labels(state, options_.version), has_labels)));
  if (r.status != 200) return ApiError("patching pod " + options_.namespace_name + "/" + options_.pod_name, r);
  return Status::Ok();
}

Result<HttpClientResponse> KubernetesRegistration::Call(const std::string& method, const std::string& body) {
  const std::string token = ReadSmallFile(options_.token_file);
  if (token.empty()) return Unavailable("cannot read the service account token file " + options_.token_file);
  HttpClientRequest req;
  req.method = method;
  req.url = options_.api_url + "/api/v1/namespaces/" + options_.namespace_name + "/pods/" + options_.pod_name;
  req.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json-patch+json");
  req.body = body;
  req.timeout_ms = options_.request_timeout_ms;
  req.max_response_body = kMaxPodSize;
  req.replayable = true;  // setting labels to given values: twice is once
  req.tls.ca_pem = ReadSmallFile(options_.ca_file);
  if (req.tls.ca_pem.empty()) return Unavailable("cannot read the Kubernetes CA file " + options_.ca_file);
  return client_->Do(req);
}

}  // namespace sealbox::service_registration
