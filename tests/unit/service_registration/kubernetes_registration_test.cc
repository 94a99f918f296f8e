#include "service_registration/kubernetes_registration.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "base/json_util.h"

namespace sealbox::service_registration {
namespace {

using namespace std::chrono_literals;

// A Kubernetes API that records every call and answers from a pod it keeps,
// or fails every call while `down`.
class FakeApi : public HttpClient {
 public:
  Result<HttpClientResponse> Do(const HttpClientRequest& req) override {
    std::lock_guard l(mu_);
    calls.push_back(req);
    cv_.notify_all();
    if (down) return Unavailable("connection refused");
    HttpClientResponse r;
    r.status = 200;
    if (req.method == "PATCH") {
      for (const Json& op : Json::parse(req.body)) {
        std::string path = op["path"];
        if (path == "/metadata/labels") labels = op["value"];
        else labels[path.substr(std::string("/metadata/labels/").size())] = op["value"];
      }
    }
    Json pod{{"metadata", {{"name", "p-0"}}}};
    if (!labels.is_null()) pod["metadata"]["labels"] = labels;
    r.body = pod.dump();
    return r;
  }

  // Waits (bounded) until `pred` holds over the calls and labels.
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, 10s, [&] { return pred(); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpClientRequest> calls;  // guarded by mu_
  Json labels;                           // null: the pod has no labels object
  bool down = false;
};

class KubernetesRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sb-k8s-reg-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "token") << "sa-token-value\n";
    std::ofstream(dir_ / "ca.crt") << "-----BEGIN CERTIFICATE-----\n";
    opts_.namespace_name = "ns";
    opts_.pod_name = "p-0";
    opts_.api_url = "https://10.0.0.1:443";
    opts_.token_file = (dir_ / "token").string();
    opts_.ca_file = (dir_ / "ca.crt").string();
    opts_.version = "0.1.0";
    opts_.min_backoff = 10ms;
    opts_.max_backoff = 40ms;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  NodeState Read() {
    std::lock_guard l(state_mu_);
    ++reads_;
    state_cv_.notify_all();
    return state_;
  }
  bool WaitForReads(int n) {
    std::unique_lock l(state_mu_);
    return state_cv_.wait_for(l, 10s, [&] { return reads_ >= n; });
  }
  void Set(NodeState s) {
    std::lock_guard l(state_mu_);
    state_ = s;
  }

  std::filesystem::path dir_;
  KubernetesOptions opts_;
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  NodeState state_;
  int reads_ = 0;
  std::shared_ptr<FakeApi> api_ = std::make_shared<FakeApi>();
};

Json Expected(const std::string& active, const std::string& sealed, const std::string& initialized) {
  return Json{{"vault-active", active}, {"vault-sealed", sealed}, {"vault-initialized", initialized},
              {"vault-perf-standby", "false"}, {"vault-version", "0.1.0"}};
}

TEST_F(KubernetesRegistrationTest, FirstReadsThePodThenAddsTheLabelsObjectWithJsonPatch) {
  KubernetesRegistration reg(opts_, api_);
  reg.Start([this] { return Read(); });
  ASSERT_TRUE(api_->WaitFor([&] { return api_->labels == Expected("false", "true", "false"); }));
  reg.Stop();
  std::lock_guard l(api_->mu_);
  ASSERT_EQ(api_->calls.size(), 2u);
  EXPECT_EQ(api_->calls[0].method, "GET");
  const HttpClientRequest& patch = api_->calls[1];
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.url, "https://10.0.0.1:443/api/v1/namespaces/ns/pods/p-0");
  bool json_patch = false, bearer = false;
  for (const auto& [k, v] : patch.headers) {
    json_patch |= k == "Content-Type" && v == "application/json-patch+json";
    bearer |= k == "Authorization" && v == "Bearer sa-token-value";  // the file's token, newline trimmed
  }
  EXPECT_TRUE(json_patch && bearer);
  EXPECT_EQ(patch.tls.ca_pem, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(Json::parse(patch.body), Json::parse(R"([{"op":"add","path":"/metadata/labels","value":{
      "vault-active":"false","vault-sealed":"true","vault-initialized":"false","vault-perf-standby":"false",
      "vault-version":"0.1.0"}}])"));
}

TEST_F(KubernetesRegistrationTest, ChangesPatchEachLabelAndKeepTheOthers) {
  api_->labels = Json{{"app", "sealbox"}};
  KubernetesRegistration reg(opts_, api_);
  reg.Start([this] { return Read(); });
  ASSERT_TRUE(api_->WaitFor([&] { return api_->labels.contains("vault-active"); }));
  Set(NodeState{true, false, true});
  reg.Notify();
  ASSERT_TRUE(api_->WaitFor([&] { return api_->labels["vault-active"] == "true"; }));
  reg.Stop();
  std::lock_guard l(api_->mu_);
  EXPECT_EQ(api_->labels["app"], "sealbox");
  EXPECT_EQ(api_->labels["vault-sealed"], "false");
  EXPECT_EQ(api_->labels["vault-initialized"], "true");
  const Json last = Json::parse(api_->calls.back().body);
  ASSERT_EQ(last.size(), 5u);
  for (const Json& op : last) {
    EXPECT_EQ(op["op"], "add");
    EXPECT_EQ(op["path"].get<std::string>().rfind("/metadata/labels/vault-", 0), 0u);
  }
}

TEST_F(KubernetesRegistrationTest, AnUnchangedStateSendsNothing) {
  KubernetesRegistration reg(opts_, api_);
  reg.Start([this] { return Read(); });
  ASSERT_TRUE(api_->WaitFor([&] { return api_->calls.size() == 2; }));
  reg.Notify();
  ASSERT_TRUE(WaitForReads(2));  // the unchanged state is read before it changes
  Set(NodeState{true, false, true});
  reg.Notify();  // the one after this change
  ASSERT_TRUE(api_->WaitFor([&] { return api_->labels["vault-active"] == "true"; }));
  reg.Stop();
  std::lock_guard l(api_->mu_);
  EXPECT_EQ(api_->calls.size(), 3u);  // GET, first PATCH, the change's PATCH: nothing for the unchanged one
}

TEST_F(KubernetesRegistrationTest, FailuresAreRetriedWithTheLatestStateWithoutBlockingNotify) {
  api_->down = true;
  KubernetesRegistration reg(opts_, api_);
  reg.Start([this] { return Read(); });
  ASSERT_TRUE(api_->WaitFor([&] { return api_->calls.size() >= 3; }));  // retried
  const auto t0 = std::chrono::steady_clock::now();
  Set(NodeState{true, false, true});
  reg.Notify();
  Set(NodeState{true, true, false});
  reg.Notify();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  {
    std::lock_guard l(api_->mu_);
    api_->down = false;
  }
  // Back: the pod is read again, then the state of now is written.
  ASSERT_TRUE(api_->WaitFor([&] { return api_->labels == Expected("false", "true", "true"); }));
  reg.Stop();
}

TEST(ResolveKubernetesOptionsTest, EnvironmentWinsAndMissingPiecesAreNamed) {
  unsetenv("VAULT_K8S_POD_NAME");
  unsetenv("VAULT_K8S_NAMESPACE");
  setenv("SEALBOX_K8S_SERVICE_ACCOUNT_DIR", "/nonexistent", 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto o = ResolveKubernetesOptions("ns", "", "0.1.0");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("pod_name must be provided via \"VAULT_K8S_POD_NAME\""), std::string::npos);
  EXPECT_FALSE(ResolveKubernetesOptions("", "p", "0.1.0").ok());  // no namespace anywhere
  setenv("VAULT_K8S_POD_NAME", "from-env", 1);
  o = ResolveKubernetesOptions("ns", "from-config", "0.1.0");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->pod_name, "from-env");
  EXPECT_EQ(o->namespace_name, "ns");
  EXPECT_EQ(o->api_url, "https://10.0.0.1:443");
  EXPECT_EQ(o->token_file, "/nonexistent/token");
  EXPECT_EQ(o->ca_file, "/nonexistent/ca.crt");
  EXPECT_FALSE(ResolveKubernetesOptions("ns/../x", "", "0.1.0").ok());
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(ResolveKubernetesOptions("ns", "", "0.1.0")->api_url, "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(ResolveKubernetesOptions("ns", "", "0.1.0").ok());
  for (const char* n : {"VAULT_K8S_POD_NAME", "SEALBOX_K8S_SERVICE_ACCOUNT_DIR", "KUBERNETES_SERVICE_PORT"}) unsetenv(n);
}

}  // namespace
}  // namespace sealbox::service_registration
