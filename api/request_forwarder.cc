#include "api/request_forwarder.h"

#include <array>
#include <coroutine>
#include <optional>
#include <string_view>

#include "base/log.h"
#include "core/core.h"

namespace sealbox::api {
namespace {

// Hop-by-hop and framing headers: each connection sets its own.
bool PerConnection(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 9> kNames = {
      "connection", "keep-alive", "transfer-encoding", "te",  "upgrade",
      "host",       "content-length", "proxy-connection", "x-forwarded-for"};
  for (auto n : kNames)
    if (n == lower_name) return true;
  return false;
}

std::string BaseUrl(std::string addr) {
  while (!addr.empty() && addr.back() == '/') addr.pop_back();
  if (addr.find("://") == std::string::npos) addr = "https://" + addr;
  return addr;
}

// Awaits the client's answer: suspended (the server loop serves other
// connections meanwhile) when there is a Resumer, blocking when not.
class ClientCall {
 public:
  ClientCall(HttpClient& client, const HttpClientRequest& req, Resumer* resumer)
      : client_(client), req_(req), resumer_(resumer) {}

  bool await_ready() {
    if (resumer_) return false;
    result_.emplace(client_.Do(req_));
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    client_.Start(req_, [this, h](Result<HttpClientResponse> r) {
      result_.emplace(std::move(r));
      resumer_->Post([h] { h.resume(); });
    });
  }
  Result<HttpClientResponse> await_resume() { return std::move(*result_); }

 private:
  HttpClient& client_;
  const HttpClientRequest& req_;
  Resumer* resumer_;
  std::optional<Result<HttpClientResponse>> result_;
};

HttpClientRequest ForwardedRequest(const ForwardTarget& to, const HttpRequest& http) {
  HttpClientRequest out;
  out.method = http.method;
  out.url = BaseUrl(to.cluster_addr) + http.target;
  for (const auto& [k, v] : http.headers)
    if (!PerConnection(k)) out.headers.emplace_back(k, v);
  out.headers.emplace_back("X-Forwarded-For", http.remote_addr);
  out.body = http.body;
  out.timeout_ms = to.timeout_ms;
  out.max_response_body = to.max_response_body;
  out.tls.ca_pem = to.identity->cert_pem;
  out.tls.server_name = core::kClusterTlsServerName;
  out.tls.client_identity = to.identity;
  out.replayable = false;
  return out;
}

}  // namespace

Task<Result<HttpResponse>> ForwardToActive(HttpClient& client, const ForwardTarget& to, const HttpRequest& http,
                                           Resumer* resumer) {
  if (to.cluster_addr.empty() || !to.identity) co_return Unavailable("no active node or cluster certificate known");
  const HttpClientRequest out = ForwardedRequest(to, http);
  auto got = co_await ClientCall(client, out, resumer);
  if (!got.ok()) {
    log::Warn("api: request forwarding to the active node failed: " + got.status().message());
    if (got.status().code() == StatusCode::kOutcomeUnknown)
      co_return OutcomeUnknown("request forwarding failed after the request was sent to the active node: "
                               "it may or may not have been applied");
    co_return Unavailable("request forwarding failed");
  }
  if (got->status == kNotActiveStatus) co_return Unavailable("the forwarding target is no longer active");
  HttpResponse r;
  r.status = got->status;
  for (auto& [k, v] : got->headers)
    if (!PerConnection(k)) r.headers.emplace_back(std::move(k), std::move(v));
  r.body = std::move(got->body);
  co_return r;
}

}  // namespace sealbox::api
