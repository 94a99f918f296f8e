// BeastHttpClient: the HttpClient used by auth methods (Kubernetes
// TokenReview, JWKS), the HA forwarder and the CLI. Requests run on the
// client's own I/O thread, each operation bounded by the request's deadline;
// TLS with peer and host-name verification, and a keep-alive pool per (host,
// port, TLS settings) so hot paths such as logins reuse connections.
#pragma once

#include <memory>

#include "base/http_client.h"

namespace sealbox::server {

std::shared_ptr<HttpClient> NewBeastHttpClient();

}  // namespace sealbox::server
