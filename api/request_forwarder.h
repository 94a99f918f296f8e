// Request forwarding (HA): a standby sends a request it may not serve to the
// active node over the cluster channel (mutual TLS with the cluster
// certificate, on the active's advertised cluster_addr) and answers with the
// active's response, as Vault's standbys do. The client's address travels in
// X-Forwarded-For, set here from the connection, never taken from the client.
#pragma once

#include <memory>
#include <string>

#include "api/http.h"
#include "base/http_client.h"
#include "base/status.h"
#include "base/task.h"
#include "base/x509_cert.h"

namespace sealbox::api {

struct ForwardTarget {
  std::string cluster_addr;                           // the active's, as advertised
  std::shared_ptr<const PemKeyPair> identity;         // the cluster certificate
  int timeout_ms = 90000;
  size_t max_response_body = 64u << 20;
};

// The active node's response, or why there is none:
// - kUnavailable: the request never reached an active node (none known, no
//   cluster certificate, the channel failed before sending, or the peer is
//   no longer active), so the caller may redirect it there, as Vault does;
// - kOutcomeUnknown: it was sent and no answer came back. The active may
//   have applied it, so it must not be redirected (the client would send it
//   twice): the caller answers 502.
// With a Resumer the task suspends while the request is out and resumes
// through it; without one it blocks. `to` and `http` must outlive it.
Task<Result<HttpResponse>> ForwardToActive(HttpClient& client, const ForwardTarget& to, const HttpRequest& http,
                                           Resumer* resumer);

// Status code the cluster listener answers with when this node is not the
// active one, so the forwarding standby falls back to a redirect.
inline constexpr int kNotActiveStatus = 421;

}  // namespace sealbox::api
