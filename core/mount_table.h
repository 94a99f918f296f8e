// MountEntry and MountTable: what is mounted where, persisted under the
// barrier at core/mounts (secrets engines) and core/auth (auth methods).
// Plain values; the Router guards the live table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::core {

struct MountConfig {
  int64_t default_lease_ttl = 0;  // 0 = system default
  int64_t max_lease_ttl = 0;
  bool force_no_cache = false;
  std::string listing_visibility;
  std::vector<std::string> audit_non_hmac_request_keys;
  std::vector<std::string> audit_non_hmac_response_keys;
  std::vector<std::string> passthrough_request_headers;
  std::vector<std::string> allowed_response_headers;
  std::string token_type;  // auth mounts: "default-service"
};

struct MountEntry {
  std::string path;         // "secret/" (auth mounts: "kubernetes/", routed as "auth/kubernetes/")
  std::string type;         // "kv", "system", "token", "cubbyhole", "identity", "database", "kubernetes"
  std::string description;
  std::string uuid;
  std::string accessor;     // "<type>_<8 hex>"
  bool local = false;
  bool seal_wrap = false;
  bool external_entropy_access = false;
  Json options = nullptr;   // string map or null
  MountConfig config;
  bool auth = false;        // true for entries of the auth table

  // Routed prefix: "secret/" or "auth/kubernetes/".
  std::string RoutePath() const { return auth ? "auth/" + path : path; }
  // Storage prefix of the mount's private view.
  std::string StoragePrefix() const { return (auth ? "auth/" : "logical/") + uuid + "/"; }

  Json ToJson() const;
  static Result<MountEntry> FromJson(const Json& j);
  // The mount-info object of sys/mounts (stored TTLs, options as strings).
  Json ToApiJson() const;
};

std::string NewAccessor(const std::string& type, bool auth);

}  // namespace sealbox::core
