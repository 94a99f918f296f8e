// JWT/OIDC auth method (Vault's "jwt", and "oidc" for its JWT logins):
// clients log in with a JWT signed by an identity provider that Sealbox
// trusts through PEM keys, a JWKS URL or OIDC discovery (a Kubernetes
// cluster's service-account issuer is one), checked against a role's bounds
// (audiences, subject, bound claims) without asking the issuer anything
// but its keys. The OIDC browser flow (oidc/auth_url, oidc/callback) is not
// served (docs/compatibility.md).
//
// Storage (the mount's view): config, role/<name>. Outbound HTTP (discovery
// and JWKS) goes through the injected HttpClient.
// Thread-safety: handlers run concurrently; the key cache locks itself.
#pragma once

#include <memory>

#include "base/http_client.h"
#include "logical/backend.h"

namespace sealbox::auth::jwt {

// Factory for mount types "jwt" and "oidc". `client` is shared by every mount.
logical::BackendFactory Factory(std::shared_ptr<HttpClient> client);

}  // namespace sealbox::auth::jwt
