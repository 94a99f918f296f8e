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

#include "base/http_client.h"
#include "logical/backend.h"

namespace sealbox::auth::k8s {

// Factory for mount type "kubernetes". `client` is shared by every mount.
logical::BackendFactory Factory(std::shared_ptr<HttpClient> client);

// Exposed for unit tests: glob match as the role bounds use it ("*" alone,
// or one '*' at the start and/or end).
bool GlobMatch(const std::string& pattern, const std::string& value);
// True if `ip` is inside any of the CIDRs ("10.0.0.0/8", "::1/128", or a bare address).
bool IpInCidrs(const std::string& ip, const std::vector<std::string>& cidrs);
// Kubernetes LabelSelector (matchLabels / matchExpressions) against labels.
Result<bool> SelectorMatches(const Json& selector, const Json& labels);

}  // namespace sealbox::auth::k8s
