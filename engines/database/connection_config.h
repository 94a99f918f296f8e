// ConnectionConfig: a database/config/<name> entry, typed. Validation of a
// write lives in FromFields; FromJson/ToJson keep the stored field names, so
// existing data dirs read unchanged. Settings with defaults are optional and
// stored only when written: a read shows the connection details as written,
// as Vault's does.
// Plain values; thread-safe to copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "engines/database/plugin.h"

namespace sealbox::logical {
class FieldData;
}

namespace sealbox::engines::database {

struct ConnectionConfig {
  std::string plugin_name;
  std::string connection_url;  // may hold {{username}} / {{password}}
  std::string username;
  std::string password;  // never returned by a read
  std::vector<std::string> allowed_roles;
  bool verify_connection = true;
  std::vector<std::string> root_rotation_statements;
  bool disable_escaping = false;
  std::optional<std::string> password_authentication;  // "password" (default) or "scram-sha-256"
  std::string username_template;                      // empty: Vault's default
  std::string password_policy;                        // empty: the built-in generator
  // Session pool, as Vault's plugins read it: 4 open, idle = open, forever.
  std::optional<int64_t> max_open_connections;
  std::optional<int64_t> max_idle_connections;
  std::optional<int64_t> max_connection_lifetime;  // seconds

  // Validates a config/<name> write. `plugins` are the known plugin types;
  // the username template is parsed and rendered once with the plugin's
  // username check, so a bad one is a 400 here rather than at every creds.
  static Result<ConnectionConfig> FromFields(const logical::FieldData& f, const std::vector<PluginType>& plugins);
  static Result<ConnectionConfig> FromJson(const Json& j);
  Json ToJson() const;
  // The body of a config/<name> read (no password).
  Json ToReadResponse() const;

  bool AllowsRole(const std::string& role) const;
  bool UsesScram() const { return password_authentication.value_or("password") == "scram-sha-256"; }
  int64_t MaxOpen() const { return max_open_connections.value_or(4); }
  int64_t MaxIdle() const { return max_idle_connections.value_or(0); }
  int64_t MaxLifetime() const { return max_connection_lifetime.value_or(0); }
};

// The plugin type named `name`, or null.
const PluginType* FindPlugin(const std::vector<PluginType>& plugins, const std::string& name);

}  // namespace sealbox::engines::database
