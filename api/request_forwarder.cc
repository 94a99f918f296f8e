#include "api/request_forwarder.h"

#include <array>
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

}  // namespace

Result<HttpResponse> ForwardToActive(HttpClient& client, const ForwardTarget& to, const HttpRequest& http) {
  if (to.cluster_addr.empty() || !to.identity) return Unavailable("no active node or cluster certificate known");
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
  auto got = client.Do(out);
  if (!got.ok()) {
    log::Warn("api: request forwarding to the active node failed: " + got.status().message());
    if (got.status().code() == StatusCode::kOutcomeUnknown)
      return OutcomeUnknown("request forwarding failed after the request was sent to the active node: "
                            "it may or may not have been applied");
    return Unavailable("request forwarding failed");
  }
  if (got->status == kNotActiveStatus) return Unavailable("the forwarding target is no longer active");
  HttpResponse r;
  r.status = got->status;
  for (auto& [k, v] : got->headers)
    if (!PerConnection(k)) r.headers.emplace_back(std::move(k), std::move(v));
  r.body = std::move(got->body);
  return r;
}

}  // namespace sealbox::api
