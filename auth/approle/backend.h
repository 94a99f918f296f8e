// The AppRole backend's class, shared by its three sources:
// approle_backend.cc (routes, roles, role-id), secret_ids.cc (issuing,
// looking up, destroying and tidying secret-ids) and login.cc.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "auth/approle/role.h"
#include "auth/approle/secret_id.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::auth::approle {

using logical::FieldData;
using logical::Request;
using logical::Response;

class AppRoleBackend final : public logical::RoutedBackend {
 public:
  explicit AppRoleBackend(const logical::BackendConfig& cfg);
  void Cleanup() override;
  // A login's role: the one its role_id names (login.cc).
  Result<std::string> QuotaRole(Request& req) override;

 private:
  // A per-field path of a role (role/<name>/policies ...): the field names
  // it reads and writes (the first is the one a write must supply).
  struct RoleFieldPath {
    const char* segment;
    std::vector<std::string> keys;
    bool read_only = false;
  };

  std::vector<logical::PathSpec> RoleRoutes();
  std::vector<logical::PathSpec> SecretIdRoutes();

  // ---- roles (approle_backend.cc) ----
  Result<Response> ListRoles(Request& req, FieldData& f);
  Result<Response> WriteRole(Request& req, FieldData& f);
  Result<Response> ReadRole(Request& req, FieldData& f);
  Result<Response> DeleteRole(Request& req, FieldData& f);
  Result<Response> ReadRoleField(const RoleFieldPath& p, Request& req, FieldData& f);
  Result<Response> WriteRoleField(const RoleFieldPath& p, Request& req, FieldData& f);
  Result<Response> ResetRoleField(const RoleFieldPath& p, Request& req, FieldData& f);
  Result<Response> ReadRoleId(Request& req, FieldData& f);
  Result<Response> WriteRoleId(Request& req, FieldData& f);
  Result<bool> RoleExists(Request& req, FieldData& f);

  // The role named by the request's role_name; nullopt when absent.
  Result<std::optional<Role>> LoadRole(Storage* s, const std::string& name);
  // Stores `r` and its role_id index (replacing `previous_role_id`'s).
  Status SaveRole(Storage* s, const Role& r, const std::string& previous_role_id);
  // The role a role_id belongs to; nullopt when none.
  Result<std::optional<Role>> RoleByRoleId(Storage* s, const std::string& role_id);
  // The mount's salt (random, created on first use) and a salted hash.
  Result<std::string> SaltedHash(Storage* s, std::string_view value);

  // ---- secret-ids (secret_ids.cc) ----
  Result<Response> GenerateSecretId(Request& req, FieldData& f);
  Result<Response> CustomSecretId(Request& req, FieldData& f);
  Result<Response> IssueSecretId(Request& req, FieldData& f, const std::string& secret_id);
  Result<Response> ListSecretIds(Request& req, FieldData& f);
  Result<Response> LookupSecretId(Request& req, FieldData& f);
  Result<Response> DestroySecretId(Request& req, FieldData& f);
  Result<Response> LookupAccessor(Request& req, FieldData& f);
  Result<Response> DestroyAccessor(Request& req, FieldData& f);
  Result<Response> TidySecretIds(Request& req, FieldData& f);

  // Where a role's secret-ids live ("secret_id/<HMAC(role key, name)>/")
  // and where their accessors do.
  static Result<std::string> SecretIdDir(const Role& r);
  static std::string AccessorPrefix(const Role& r);
  Result<std::string> SecretIdKey(const Role& r, std::string_view secret_id);
  // The live (stored, unexpired) entry at `key`; nullopt otherwise.
  Result<std::optional<SecretIdEntry>> LoadSecretId(Storage* s, const std::string& key);
  // Deletes a secret-id and its accessor in one batch.
  Status DeleteSecretId(Storage* s, const Role& r, const std::string& key, const SecretIdEntry& e);
  // The secret-id key an accessor names, within role `r`; nullopt if none.
  Result<std::optional<std::string>> KeyForAccessor(Storage* s, const Role& r, const std::string& accessor);

  // ---- login (login.cc) ----
  Result<Response> Login(Request& req, FieldData& f);
  Result<Response> LoginRenew(Request& req, FieldData& f);
  // Checks and spends one use of the secret-id (under its lock); its entry.
  Result<SecretIdEntry> SpendSecretId(Request& req, const Role& role, const std::string& secret_id);

  std::shared_mutex& RoleLock(const std::string& name);
  std::mutex& SecretIdLock(const std::string& key);

  const Clock* clock_;
  const logical::MountView* mount_;
  std::array<std::shared_mutex, 64> role_locks_;
  std::array<std::mutex, 256> secret_id_locks_;
  // Shared by secret-id issuing, exclusive for a tidy (which must not take a
  // new secret-id's accessor for a dangling one).
  std::shared_mutex tidy_mu_;
  std::mutex salt_mu_;
  std::string salt_;  // guarded by salt_mu_; empty until loaded
};

}  // namespace sealbox::auth::approle
