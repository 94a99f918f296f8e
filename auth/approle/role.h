// An AppRole role: what a login must present (bind_secret_id, the CIDRs the
// secret-ids may be used from), the secret-ids' default limits, and the
// token_* fields of the tokens it issues. Validation and the stored and read
// forms are pure functions here, so they are unit-tested without a server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/token_fields.h"
#include "base/json_util.h"
#include "base/status.h"
#include "logical/routed_backend.h"

namespace sealbox::auth::approle {

// Vault refuses to HMAC (and so to store) names and secret-ids past this.
inline constexpr size_t kMaxHmacInput = 4096;

struct Role {
  std::string name;      // lower-cased
  std::string role_id;
  std::string hmac_key;  // random per role; keys the HMACs its secret-ids are stored under
  bool bind_secret_id = true;
  std::vector<std::string> secret_id_bound_cidrs;
  int64_t secret_id_num_uses = 0;
  int64_t secret_id_ttl = 0;  // seconds, 0: no expiry
  bool local_secret_ids = false;
  TokenParams token;
  // Set through the deprecated "policies"/"period" names: echoed on read
  // under those names, as Vault does.
  std::vector<std::string> deprecated_policies;
  int64_t deprecated_period = 0;
};

// The fields a role write accepts (role/<name> and its per-field paths).
std::vector<logical::FieldSpec> RoleFieldSpecs();

// Applies the fields `fd` supplies to `r`, Vault's way: on `create` absent
// fields take their defaults, on update they keep their values. `r` must
// already hold a role_id (a fresh one on create). `mount_max_ttl` bounds the
// period. Appends Vault's warnings.
Status ApplyRoleFields(const logical::FieldData& fd, bool create, int64_t mount_max_ttl, Role* r,
                       std::vector<std::string>* warnings);

// The stored form and back (`name` from the storage key).
Json RoleToJson(const Role& r);
Result<Role> RoleFromJson(const std::string& name, const Json& j);

// What role/<name> reads: the role's fields without its role_id or key.
Json RoleReadData(const Role& r);

}  // namespace sealbox::auth::approle
