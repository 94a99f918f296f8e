// Kubernetes auth method: pods log in with their ServiceAccount JWT, which
// Sealbox checks locally (algorithm, optional signature, audience, times)
// and then has the API server confirm through the TokenReview API
// (contract: kv-database-leases-kubernetes.md §5–6).
//
// Outbound HTTP goes through the injected HttpClient, so this folder never
// includes Beast. Thread-safety: handlers run concurrently; state is in the
// mount's storage view.
#pragma once

#include <memory>

// GlobMatch, IpInCidrs and SelectorMatches (the role bounds) are in login_checks.h.
#include "auth/kubernetes/login_checks.h"
#include "base/http_client.h"
#include "logical/backend.h"

namespace sealbox::auth::k8s {

// Factory for mount type "kubernetes". `client` is shared by every mount.
logical::BackendFactory Factory(std::shared_ptr<HttpClient> client);

}  // namespace sealbox::auth::k8s
