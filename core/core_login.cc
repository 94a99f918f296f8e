// The login half of the pipeline: an auth method's login path returned an
// Auth block; turn it into a real token (Vault's handleLoginRequest).
#include <algorithm>

#include "auth/policy.h"
#include "base/log.h"
#include "base/saturating.h"
#include "core/core_impl.h"

namespace sealbox::core {

namespace {
// Vault prefixes the method's display name with its mount path ("auth/k8s/"
// → "k8s-prod-app-sa"), slashes turned into dashes, no dash left at the end.
std::string LoginDisplayName(const std::string& mount_point, const std::string& name) {
  std::string source = mount_point.rfind("auth/", 0) == 0 ? mount_point.substr(5) : mount_point;
  std::replace(source.begin(), source.end(), '/', '-');
  std::string out = source + name;
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}
}  // namespace

Status CoreImpl::CompleteLogin(logical::Request& req, const RouteEntry& route, const std::string& login_role,
                               logical::Response& resp) {
  if (resp.secret) {
    log::Error("core: login response carried a secret");
    return Internal();
  }
  logical::Auth& a = *resp.auth;

  // Policies: normalised, deduplicated, sorted; "default" unless opted out.
  // An auth method can never mint a root token, whatever its role says.
  std::vector<std::string> policies;
  for (const auto& p : a.policies) {
    std::string n = auth::NormalizePolicyName(p);
    if (n.empty()) continue;
    if (n == "root") return PermissionDenied();
    policies.push_back(n);
  }
  std::vector<std::string> token_policies = policies;
  if (!a.no_default_policy) policies.push_back("default");
  std::sort(policies.begin(), policies.end());
  policies.erase(std::unique(policies.begin(), policies.end()), policies.end());
  std::sort(token_policies.begin(), token_policies.end());
  token_policies.erase(std::unique(token_policies.begin(), token_policies.end()), token_policies.end());
  if (!a.no_default_policy && std::find(token_policies.begin(), token_policies.end(), "default") == token_policies.end()) {
    token_policies.push_back("default");
    std::sort(token_policies.begin(), token_policies.end());
  }

  // TTL: the role's, else the mount's default; capped by the role's max, the
  // mount's max and the explicit max. A period makes the token periodic.
  const int64_t mount_default = route.mount_view->DefaultLeaseTtl();
  const int64_t mount_max = route.mount_view->MaxLeaseTtl();
  int64_t max_ttl = a.max_ttl > 0 ? std::min(a.max_ttl, mount_max) : mount_max;
  if (a.explicit_max_ttl > 0) max_ttl = std::min(max_ttl, a.explicit_max_ttl);
  int64_t ttl = a.period > 0 ? a.period : (a.ttl > 0 ? a.ttl : mount_default);
  if (a.period <= 0 || a.explicit_max_ttl > 0) ttl = std::min(ttl, max_ttl);

  const int64_t now = options_.clock->NowNanos();
  auth::TokenEntry e;
  e.policies = policies;
  e.path = req.mount_point + req.path;
  e.login_role = login_role;
  e.display_name = LoginDisplayName(req.mount_point, a.display_name);
  e.meta = a.metadata;
  e.creation_time = now / 1'000'000'000;
  e.creation_time_nanos = now;
  e.issue_time_nanos = now;
  e.creation_ttl = ttl;
  e.explicit_max_ttl = a.explicit_max_ttl;
  e.period = a.period;
  e.expire_time_nanos = ttl > 0 ? AddSeconds(now, ttl) : 0;
  e.num_uses = a.num_uses;
  e.renewable = a.renewable;
  e.orphan = true;
  e.no_default_policy = a.no_default_policy;
  e.type = "service";
  e.bound_cidrs = a.bound_cidrs;
  // Kept for renewals, which re-check the binding with the auth method.
  e.internal = Json{{"mount_accessor", route.mount.accessor},
                    {"login_path", req.path},
                    {"alias_name", a.alias_name},
                    {"max_ttl", max_ttl},
                    {"data", a.internal_data}};
  // The alias the login established: its entity (made on the first login
  // through it) goes on the token, and the alias itself, for templated policies.
  if (!a.alias_name.empty()) {
    AliasRequest request{.mount_accessor = route.mount.accessor,
                         .mount_type = route.mount.type,
                         .mount_path = req.mount_point,
                         .name = a.alias_name,
                         .metadata = a.alias_metadata};
    SB_ASSIGN_OR_RETURN(e.entity_id, identity_->EntityForAlias(request));
    auth::IdentityAlias alias;
    alias.mount_accessor = route.mount.accessor;
    alias.name = a.alias_name;
    if (a.alias_metadata.is_object()) {
      for (const auto& [k, v] : a.alias_metadata.items()) {
        if (v.is_string()) alias.metadata.emplace(k, v.get<std::string>());
      }
    }
    e.alias = std::move(alias);
  }
  SB_ASSIGN_OR_RETURN(std::string token, tokens_->Create(e));

  a.client_token = token;
  a.accessor = e.accessor;
  a.policies = policies;
  a.token_policies = token_policies;
  a.ttl = ttl;
  a.orphan = true;
  a.token_type = "service";
  a.entity_id = e.entity_id;
  a.internal_data = nullptr;
  a.alias_metadata = nullptr;
  return Status::Ok();
}

}  // namespace sealbox::core
