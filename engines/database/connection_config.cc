#include "engines/database/connection_config.h"

#include "base/clock.h"
#include "engines/database/stored_entry.h"
#include "engines/database/username_template.h"
#include "logical/routed_backend.h"

namespace sealbox::engines::database {
namespace {

// The template is parsed and tried once with empty metadata, as Vault does.
Status CheckUsernameTemplate(const std::string& text, const PluginType& plugin) {
  if (text.empty()) return Status::Ok();
  auto parsed = UsernameTemplate::Parse(text);
  if (!parsed.ok())
    return InvalidArgument("error creating database object: unable to initialize username template: " +
                           parsed.status().message());
  auto trial = parsed->Render(UsernameMetadata{});
  if (!trial.ok())
    return InvalidArgument("error creating database object: invalid username template: " + trial.status().message());
  Status name_ok = plugin.check_username(*trial);
  if (!name_ok.ok() && !trial->empty())  // empty metadata may legitimately render ""
    return InvalidArgument("error creating database object: invalid username template: " + name_ok.message());
  return Status::Ok();
}

Status ReadPoolSettings(const logical::FieldData& f, ConnectionConfig& c) {
  SB_ASSIGN_OR_RETURN(int64_t max_open, f.GetInt("max_open_connections"));
  SB_ASSIGN_OR_RETURN(int64_t max_idle, f.GetInt("max_idle_connections"));
  SB_ASSIGN_OR_RETURN(int64_t lifetime, f.GetDuration("max_connection_lifetime"));
  if (max_idle < 0 || lifetime < 0)
    return InvalidArgument("max_idle_connections and max_connection_lifetime must not be negative");
  if (f.Has("max_open_connections")) c.max_open_connections = max_open;
  if (f.Has("max_idle_connections")) c.max_idle_connections = max_idle;
  if (f.Has("max_connection_lifetime")) c.max_connection_lifetime = lifetime;
  return Status::Ok();
}

}  // namespace

const PluginType* FindPlugin(const std::vector<PluginType>& plugins, const std::string& name) {
  for (const auto& p : plugins)
    if (p.name == name) return &p;
  return nullptr;
}

Result<ConnectionConfig> ConnectionConfig::FromFields(const logical::FieldData& f,
                                                      const std::vector<PluginType>& plugins) {
  ConnectionConfig c;
  SB_ASSIGN_OR_RETURN(c.plugin_name, f.GetString("plugin_name"));
  if (c.plugin_name.empty()) return InvalidArgument("empty plugin name");
  const PluginType* plugin = FindPlugin(plugins, c.plugin_name);
  if (plugin == nullptr) return InvalidArgument("unsupported plugin");
  SB_ASSIGN_OR_RETURN(c.connection_url, f.GetString("connection_url"));
  if (c.connection_url.empty())
    return InvalidArgument("error creating database object: connection_url cannot be empty");
  SB_ASSIGN_OR_RETURN(c.username, f.GetString("username"));
  SB_ASSIGN_OR_RETURN(c.password, f.GetString("password"));
  SB_ASSIGN_OR_RETURN(c.allowed_roles, f.GetStringList("allowed_roles"));
  SB_ASSIGN_OR_RETURN(c.verify_connection, f.GetBool("verify_connection"));
  SB_ASSIGN_OR_RETURN(c.root_rotation_statements, f.GetStringList("root_rotation_statements"));
  SB_ASSIGN_OR_RETURN(c.disable_escaping, f.GetBool("disable_escaping"));
  SB_ASSIGN_OR_RETURN(std::string auth_mode, f.GetString("password_authentication"));
  if (!auth_mode.empty() && auth_mode != "password" && auth_mode != "scram-sha-256")
    return InvalidArgument("password_authentication must be password or scram-sha-256");
  if (!auth_mode.empty()) c.password_authentication = auth_mode;
  SB_ASSIGN_OR_RETURN(c.username_template, f.GetString("username_template"));
  SB_RETURN_IF_ERROR(CheckUsernameTemplate(c.username_template, *plugin));
  SB_ASSIGN_OR_RETURN(c.password_policy, f.GetString("password_policy"));
  SB_RETURN_IF_ERROR(ReadPoolSettings(f, c));
  return c;
}

Result<ConnectionConfig> ConnectionConfig::FromJson(const Json& j) {
  ConnectionConfig c;
  EntryReader r(j);
  r.Read("plugin_name", c.plugin_name);
  r.Read("connection_url", c.connection_url);
  r.Read("username", c.username);
  r.Read("password", c.password);
  r.Read("allowed_roles", c.allowed_roles);
  r.Read("verify_connection", c.verify_connection);
  r.Read("root_rotation_statements", c.root_rotation_statements);
  r.Read("disable_escaping", c.disable_escaping);
  r.Read("password_authentication", c.password_authentication);
  r.Read("username_template", c.username_template);
  r.Read("password_policy", c.password_policy);
  r.Read("max_open_connections", c.max_open_connections);
  r.Read("max_idle_connections", c.max_idle_connections);
  r.Read("max_connection_lifetime", c.max_connection_lifetime);
  SB_RETURN_IF_ERROR(r.status());
  return c;
}

Json ConnectionConfig::ToJson() const {
  Json j = {{"plugin_name", plugin_name},
            {"connection_url", connection_url},
            {"username", username},
            {"password", password},
            {"allowed_roles", allowed_roles},
            {"verify_connection", verify_connection},
            {"root_rotation_statements", root_rotation_statements},
            {"disable_escaping", disable_escaping},
            {"username_template", username_template},
            {"password_policy", password_policy}};
  if (password_authentication) j["password_authentication"] = *password_authentication;
  if (max_open_connections) j["max_open_connections"] = *max_open_connections;
  if (max_idle_connections) j["max_idle_connections"] = *max_idle_connections;
  if (max_connection_lifetime) j["max_connection_lifetime"] = *max_connection_lifetime;
  return j;
}

Json ConnectionConfig::ToReadResponse() const {
  Json details = {{"connection_url", connection_url}, {"username", username}};
  if (max_open_connections) details["max_open_connections"] = *max_open_connections;
  if (max_idle_connections) details["max_idle_connections"] = *max_idle_connections;
  if (password_authentication) details["password_authentication"] = *password_authentication;
  if (max_connection_lifetime) details["max_connection_lifetime"] = GoDurationString(*max_connection_lifetime);
  if (!username_template.empty()) details["username_template"] = username_template;
  return Json{{"plugin_name", plugin_name},
              {"plugin_version", ""},
              {"connection_details", details},
              {"allowed_roles", allowed_roles},
              {"root_credentials_rotate_statements", root_rotation_statements},
              {"password_policy", password_policy}};
}

bool ConnectionConfig::AllowsRole(const std::string& role) const {
  for (const auto& a : allowed_roles) {
    if (a == "*" || a == role) return true;
    if (!a.empty() && a.back() == '*' && role.rfind(a.substr(0, a.size() - 1), 0) == 0) return true;
  }
  return false;
}

}  // namespace sealbox::engines::database
