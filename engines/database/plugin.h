// DatabasePlugin: what the database engine asks of one database, as Vault's
// database plugins (verify, new user, renew, revoke, change passwords). The
// engine owns roles, leases, usernames and passwords; a plugin owns the
// database's language (statements, their placeholders, password hashing) and
// its sessions. PostgreSQL (postgres/) is the first; the composition root
// passes the plugin types in (database_backend.h).
//
// Errors of the calls that run statements: InvalidArgument when the
// statements cannot be built (nothing ran, the message names the problem);
// any other code when the database refused them or could not be reached.
// Messages never contain a password: a plugin redacts what the database
// echoes back.
//
// Thread-safety: one instance per connection config, called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace sealbox::engines::database {

struct ConnectionConfig;

// A dynamic user to create (a creds/<role> read).
struct NewUser {
  std::string username;                 // rendered by the engine, checked by PluginType::check_username
  std::string password;                 // plaintext; the plugin may store a hash instead
  int64_t expiration_unix = 0;          // the login stops working then
  std::vector<std::string> statements;  // the role's creation_statements
};

// A static account's new password.
struct PasswordChange {
  std::string username;
  std::string password;
  std::vector<std::string> statements;  // rotation_statements; empty: the plugin's default
  // Drop the account's previous login (PreviousLogin) before the change.
  bool replace_previous_login = false;
  // rotation_overlap: when set, the previous password keeps logging in as
  // PreviousLogin(username) until previous_valid_until_unix.
  std::string previous_password;
  int64_t previous_valid_until_unix = 0;
};

// How far SetPassword got, so the engine records what changed even when it
// fails: a dropped previous login is gone either way.
struct PasswordChangeResult {
  Status status;
  bool previous_login_dropped = false;
  bool change_attempted = false;  // the change reached (or tried to reach) the database
};

class DatabasePlugin {
 public:
  virtual ~DatabasePlugin() = default;

  // Opens one session to check the connection details (verify_connection).
  virtual Status Verify() = 0;
  virtual Status CreateUser(const NewUser& user) = 0;
  // Moves a dynamic user's expiry (a lease renewal); empty statements: the default.
  virtual Status RenewUser(const std::string& username, const std::vector<std::string>& statements,
                           int64_t expiration_unix) = 0;
  // Removes a dynamic user and ends its sessions; empty statements: the default.
  virtual Status RevokeUser(const std::string& username, const std::vector<std::string>& statements) = 0;
  // Changes the config's own password (its username and root_rotation_statements).
  virtual Status RotateRoot(const std::string& new_password) = 0;
  // Builds the statements, drops the previous login when asked, then runs the
  // change and the new previous login in one transaction.
  virtual PasswordChangeResult SetPassword(const PasswordChange& change) = 0;

  // The login that carries a static account's previous password during rotation_overlap.
  virtual std::string PreviousLogin(const std::string& username) const = 0;
  // Refuses rotation_overlap when PreviousLogin(username) cannot be made (too
  // long a name, or held by a role the plugin did not create).
  virtual Status CheckPreviousLoginFree(const std::string& username) = 0;
  // Drops PreviousLogin(username) if it exists and the plugin made it.
  virtual Status DropPreviousLogin(const std::string& username) = 0;
};

// A kind of database a connection config names (Vault's plugin_name).
struct PluginType {
  std::string name;  // "postgresql-database-plugin"
  // Whether the database takes `username` as a user name; the message never
  // contains the name.
  std::function<Status(const std::string& username)> check_username;
  // The plugin for one connection config; it connects lazily. `clock`
  // outlives it.
  std::function<std::unique_ptr<DatabasePlugin>(const ConnectionConfig& config, const Clock* clock)> open;
};

}  // namespace sealbox::engines::database
