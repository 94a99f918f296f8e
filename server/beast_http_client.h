// BeastHttpClient: the HttpClient used by auth methods (Kubernetes
// TokenReview) and the CLI. Blocking calls with every socket operation
// bounded by the request timeout, TLS with peer and host-name verification,
// and a keep-alive pool per (host, port, TLS settings) so hot paths such as
// logins reuse connections.
#pragma once

#include <memory>

#include "base/http_client.h"

namespace sealbox::server {

std::shared_ptr<HttpClient> NewBeastHttpClient();

}  // namespace sealbox::server
