// AppRole secret-ids at rest: never stored as given, only as an HMAC-SHA256
// under the role's random key (itself under the barrier), and compared in
// constant time. The entry a secret-id is stored as, its limits (uses,
// expiry, CIDRs) and how a lookup shows it are pure functions here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/approle/role.h"
#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::approle {

// Hex HMAC-SHA256 of `value` under `key` (Vault's createHMAC): the name a
// secret-id (or a role name) is stored under. Refuses an empty key and
// values past kMaxHmacInput.
Result<std::string> KeyedHash(std::string_view key, std::string_view value);
// Whether two hashes are equal, in time independent of where they differ.
bool HashesEqual(std::string_view a, std::string_view b);

struct SecretIdEntry {
  std::string hmac;      // KeyedHash of the secret-id: checked again on login
  std::string accessor;  // random UUID: names the secret-id without revealing it
  int64_t num_uses = 0;  // logins left; 0: unlimited
  int64_t ttl = 0;       // seconds as requested; 0: no expiry
  int64_t creation_nanos = 0;
  int64_t expiration_nanos = 0;  // 0: never
  int64_t last_updated_nanos = 0;
  Json metadata = Json::object();  // string map
  std::vector<std::string> cidr_list;
  std::vector<std::string> token_bound_cidrs;
};

Json SecretIdToJson(const SecretIdEntry& e);
Result<SecretIdEntry> SecretIdFromJson(const Json& j);
// Expired at `now_nanos` (an expired secret-id is treated as absent).
bool SecretIdExpired(const SecretIdEntry& e, int64_t now_nanos);
// What secret-id/lookup and secret-id-accessor/lookup return (no secret-id,
// no hash).
Json SecretIdLookupData(const SecretIdEntry& e);

// A secret-id's `metadata` field (Vault's ParseArbitraryKeyValues): a JSON
// object of strings (possibly base64-encoded), or "k1=v1,k2=v2".
Result<Json> ParseSecretIdMetadata(const std::string& raw);

// A new secret-id's limits from the request and the role: `num_uses` and
// `ttl` default to the role's and may only narrow them. `has_*` says
// whether the request supplied the field.
struct SecretIdLimits {
  int64_t num_uses = 0;
  int64_t ttl = 0;
};
Result<SecretIdLimits> ResolveSecretIdLimits(const Role& role, bool has_num_uses, int64_t num_uses, bool has_ttl,
                                             int64_t ttl);
// The CIDR lists of a new secret-id: valid, and within the role's.
Status CheckSecretIdCidrs(const Role& role, const std::vector<std::string>& cidr_list,
                          const std::vector<std::string>& token_bound_cidrs);

}  // namespace sealbox::auth::approle
