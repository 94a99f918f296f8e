// The checks of a Kubernetes login that need no storage or network: the
// role's bounds (names, CIDRs, namespace selectors), the ServiceAccount JWT's
// claims (issuer, audience, times) and the TokenReview exchange (the request
// body and the API server's answer).
// Pure functions (CheckTokenReview logs why it refuses); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/cidr.h"
#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::k8s {

// Glob match as the role bounds use it ("*" alone,
// or one '*' at the start and/or end).
bool GlobMatch(const std::string& pattern, const std::string& value);
// IpInCidrs and CidrAddressValid: auth/cidr.h (shared with the other methods).
using auth::CidrAddressValid;
using auth::IpInCidrs;
// Kubernetes LabelSelector (matchLabels / matchExpressions) against labels.
Result<bool> SelectorMatches(const Json& selector, const Json& labels);

// Who a ServiceAccount token names: the nested projected-token claims
// ("kubernetes.io": {...}) win over the legacy flat ones.
struct ServiceAccountClaims {
  std::string ns, name, uid, secret_name;
};
ServiceAccountClaims ExtractClaims(const Json& claims);

// The "aud" claim as a list (a string or an array of strings).
std::vector<std::string> Audiences(const Json& claims);

// The claims a login checks locally, at `now` (unix seconds, 60 s of skew):
// the issuer (when configured and validated), the role's `audience` (when
// set) among `token_aud`, and exp/nbf/iat. PermissionDenied with Vault's
// message otherwise.
Status CheckClaims(const Json& claims, const Json& cfg, const std::string& audience,
                   const std::vector<std::string>& token_aud, int64_t now);

// The TokenReview request for `token`: the bytes nlohmann would dump for
// {"apiVersion", "kind", "spec": {"audiences" (when any), "token"}}.
std::string TokenReviewBody(const std::string& token, const std::vector<std::string>& audiences);

// The API server's answer (`http_status`, `body`) to a TokenReview: the token
// authenticated, for one of `audiences` (when any), as the ServiceAccount
// `c` names (username and uid). PermissionDenied (no detail: the cause is
// logged) otherwise.
Status CheckTokenReview(int http_status, std::string_view body, const std::vector<std::string>& audiences,
                        const ServiceAccountClaims& c);

}  // namespace sealbox::auth::k8s
