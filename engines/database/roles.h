// The engine's typed entries besides connection configs: dynamic roles
// (roles/<name>), static roles (static-roles/<name>) and the internal data a
// credential's lease carries back on renew and revoke. Validation of writes
// lives here; FromJson/ToJson keep the stored field names, so existing data
// dirs and leases read unchanged.
// Plain values; thread-safe to copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::logical {
class FieldData;
}

namespace sealbox::engines::database {

struct Role {
  std::string db_name;
  std::vector<std::string> creation_statements;
  std::vector<std::string> revocation_statements;
  std::vector<std::string> renew_statements;
  std::vector<std::string> rollback_statements;  // accepted, never run (as Vault's PostgreSQL plugin)
  int64_t default_ttl = 0;                       // 0: the mount's
  int64_t max_ttl = 0;                           // 0: the mount's

  static Result<Role> FromFields(const logical::FieldData& f);
  static Result<Role> FromJson(const Json& j);
  Json ToJson() const;
};

struct StaticRole {
  std::string db_name;
  std::string username;
  int64_t rotation_period = 0;   // seconds, >= 5
  int64_t rotation_overlap = 0;  // seconds the previous password stays valid; 0: none
  std::vector<std::string> rotation_statements;
  std::string password;  // the current password (empty before the first rotation)
  int64_t last_vault_rotation_unix = 0;
  // During an overlap: the login holding the previous password, and until when.
  std::string twin_username;
  int64_t previous_valid_until_unix = 0;

  // A static-roles/<name> write onto this role (the stored one when
  // `existed`), in three steps so the engine's checks between them keep
  // Vault's order: the account, the rotation settings, the statements.
  Status ApplyAccount(const logical::FieldData& f, bool existed);
  Status ApplyRotation(const logical::FieldData& f, bool existed);
  Status ApplyStatements(const logical::FieldData& f, bool existed);

  bool HasTwin() const { return !twin_username.empty(); }
  void ForgetTwin() {
    twin_username.clear();
    previous_valid_until_unix = 0;
  }
  bool RotationDue(int64_t now) const { return rotation_period > 0 && now >= last_vault_rotation_unix + rotation_period; }
  bool OverlapEnded(int64_t now) const { return HasTwin() && now >= previous_valid_until_unix; }

  static Result<StaticRole> FromJson(const Json& j);
  Json ToJson() const;
  // The body of a static-roles/<name> read, or of static-creds/<name> when `creds`.
  Json ToReadResponse(int64_t now, bool creds) const;
};

// What a dynamic credential's lease keeps for its renewal and revocation.
struct CredentialLease {
  std::string username;
  std::string role;
  std::string db_name;
  std::vector<std::string> revocation_statements;
  std::vector<std::string> renew_statements;

  static Result<CredentialLease> FromJson(const Json& j);
  Json ToJson() const;
};

}  // namespace sealbox::engines::database
