// ApiHandler: Vault's HTTP API over a Core. Parses the request (method,
// path, query, body, token headers), answers the raw sys endpoints (init,
// seal-status, unseal, health, leader), runs everything else through
// Core::HandleRequest, and renders Vault's envelopes and error bodies.
// Thread-safe (Core is).
#pragma once

#include <cstddef>
#include <memory>

#include "api/http.h"
#include "base/http_client.h"
#include "base/json_util.h"

namespace sealbox::core {
class Core;
}

namespace sealbox::api {

struct ApiOptions {
  // Body limit; the server enforces it while reading and answers 413, this is
  // a second check for handlers called directly.
  size_t max_request_size = 32 << 20;
  // The largest body a request may carry when nothing vouches for it: no
  // token, or a path that takes none (sys/init, sys/unseal, logins). Larger
  // ones are refused before they are read.
  size_t max_unauthenticated_request_size = 64 << 10;
  JsonLimits json;
  // The token-free break-glass endpoints answer 405 while these are set.
  bool disable_unauthed_generate_root = true;
  bool disable_unauthed_rekey = true;
  // The listener's telemetry.unauthenticated_metrics_access: sys/metrics
  // answers without a token (and while sealed), as Vault's.
  bool unauthenticated_metrics_access = false;
  // HA: how a standby forwards requests to the active node (null: it
  // redirects with 307 instead), and for how long at most.
  std::shared_ptr<HttpClient> forward_client;
  int forward_timeout_ms = 90000;
};

std::unique_ptr<HttpHandler> NewApiHandler(core::Core* core, ApiOptions options);

// Body and headers for a request the server rejected before parsing it fully
// (413 over the body limit, 400 malformed HTTP...): `{"errors":[msg]}` with the
// standard headers.
HttpResponse ErrorResponse(int status, const std::string& message);

}  // namespace sealbox::api
