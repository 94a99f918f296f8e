// TokenStore: service tokens, stored only under a salted hash.
//
// Layout in its storage view (the barrier under "sys/token/"):
//   salt                        random 32 bytes (base64), created on first setup
//   id/<hmac(salt, token)>      TokenEntry JSON
//   accessor/<hmac(salt, acc)>  {"token_hash": ...}
//   parent/<parent hash>/<child hash>  the tree, for revoking descendants
// Lookups hash the presented token and read one key, so their timing does not
// depend on how much of a guess matches a real token.
//
// Thread-safety: all methods may be called concurrently after Setup().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox {
class Storage;
}

namespace sealbox::auth {

struct TokenEntry {
  std::string hash;       // salted hash of the token id (its storage key)
  std::string accessor;   // plaintext accessor (returned to the owner only)
  std::string parent_hash;
  std::vector<std::string> policies;
  std::string path;
  std::string display_name;
  Json meta = nullptr;
  int64_t creation_time = 0;       // unix seconds
  int64_t creation_time_nanos = 0;
  int64_t creation_ttl = 0;
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t expire_time_nanos = 0;   // 0: never expires
  int64_t issue_time_nanos = 0;
  int64_t last_renewal_nanos = 0;
  int num_uses = 0;
  bool renewable = false;
  bool orphan = true;
  bool no_default_policy = false;
  std::string type = "service";
  std::string entity_id;
  std::string role;
  std::vector<std::string> bound_cidrs;
  Json internal = nullptr;  // auth-method data for renewal re-checks

  Json ToJson() const;
  static Result<TokenEntry> FromJson(const Json& j);
};

class TokenStore {
 public:
  TokenStore(Storage* view, const Clock* clock) : view_(view), clock_(clock) {}

  // Loads or creates the salt. REQUIRES: the barrier is unsealed.
  Status Setup();
  // Drops the salt from memory (on seal).
  void Reset();

  // Generates "hvs." + 24 base62 (or uses `custom_id`), stores the entry under
  // its hash, and returns the token. Fills entry.hash and entry.accessor.
  Result<std::string> Create(TokenEntry& entry, const std::string& custom_id = "");
  // The entry for `token`, or nullopt if unknown or expired (an expired entry is
  // deleted on sight).
  Result<std::optional<TokenEntry>> Lookup(std::string_view token);
  Result<std::optional<TokenEntry>> LookupByHash(const std::string& hash);
  Result<std::optional<TokenEntry>> LookupByAccessor(std::string_view accessor);
  Status Save(const TokenEntry& entry);
  // Revokes the token and every descendant.
  Status RevokeTree(const std::string& hash);
  Result<std::vector<std::string>> ListAccessors();

  std::string HashToken(std::string_view token) const;

 private:
  Status RevokeOne(const TokenEntry& e);
  Storage* view_;        // not owned
  const Clock* clock_;   // not owned
  std::mutex mu_;
  SecureBytes salt_;     // guarded by mu_ during Setup/Reset; read-only otherwise
};

}  // namespace sealbox::auth
