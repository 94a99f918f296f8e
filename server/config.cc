#include "server/config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/hcl.h"
#include "base/json_util.h"
#include "base/log.h"

namespace sealbox::server {
namespace {

Status KeyError(const std::string& key, const std::string& why) {
  return InvalidArgument("config: " + key + ": " + why);
}

Result<std::string> Str(const Json& v, const std::string& key) {
  if (!v.is_string()) return KeyError(key, "expected a string");
  return v.get<std::string>();
}

// HCL lets a block appear as an object or a list of objects; take the first.
const Json& FirstBlock(const Json& v) {
  if (v.is_array() && !v.empty()) return v[0];
  return v;
}

Status ParseListener(const Json& block, ListenerConfig& l) {
  for (auto& [k, v] : block.items()) {
    std::string key = "listener." + k;
    if (k == "address") {
      SB_ASSIGN_OR_RETURN(l.address, Str(v, key));
      if (l.address.empty()) return KeyError(key, "must not be empty");
    } else if (k == "tls_cert_file") {
      SB_ASSIGN_OR_RETURN(l.tls_cert_file, Str(v, key));
    } else if (k == "tls_key_file") {
      SB_ASSIGN_OR_RETURN(l.tls_key_file, Str(v, key));
    } else if (k == "tls_min_version") {
      SB_ASSIGN_OR_RETURN(l.tls_min_version, Str(v, key));
      if (l.tls_min_version != "tls12" && l.tls_min_version != "tls13")
        return KeyError(key, "must be tls12 or tls13 (older versions are refused)");
    } else if (k == "tls_disable") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(key, "expected a boolean");
      if (*b) return KeyError(key, "Sealbox serves HTTPS only; tls_disable is not supported");
    } else if (k == "max_request_size") {
      auto n = JsonToInt(v);
      if (!n.ok()) return KeyError(key, "expected an integer");
      l.max_request_size = *n == 0 ? 33554432 : *n < 0 ? 0 : static_cast<size_t>(*n);
    } else if (k == "max_request_duration") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d < 0) return KeyError(key, "expected a duration");
      l.max_request_duration_s = *d == 0 ? 90 : static_cast<int>(*d);
    } else if (k == "max_json_depth" || k == "max_request_json_depth") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_json_depth = static_cast<size_t>(*n);
    } else if (k == "max_json_strings" || k == "max_request_json_strings") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_json_strings = static_cast<size_t>(*n);
    } else if (k == "idle_timeout" || k == "http_idle_timeout") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d <= 0) return KeyError(key, "expected a duration");
      l.idle_timeout_s = static_cast<int>(*d);
    } else if (k == "header_timeout" || k == "http_read_header_timeout") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d <= 0) return KeyError(key, "expected a duration");
      l.header_timeout_s = static_cast<int>(*d);
    } else if (k == "max_header_size") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_header_size = static_cast<size_t>(*n);
    } else if (k == "max_connections") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_connections = static_cast<size_t>(*n);
    } else {
      log::Warn("config: ignoring unknown listener option " + k);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ServerConfig> ParseConfig(std::string_view hcl_text) {
  auto parsed = hcl::Parse(hcl_text);
  if (!parsed.ok()) return InvalidArgument("config: " + parsed.status().message());
  const Json& root = *parsed;
  if (!root.is_object()) return InvalidArgument("config: expected an object");
  ServerConfig c;
  bool have_storage = false;
  for (auto& [k, v] : root.items()) {
    if (k == "storage" || k == "backend") {
      const Json& s = FirstBlock(v);
      if (!s.is_object() || s.size() != 1) return KeyError(k, "expected one storage block: storage \"rocksdb\" { ... }");
      auto it = s.begin();
      if (it.key() != "rocksdb") return KeyError(k, "unsupported storage type \"" + it.key() + "\" (supported: rocksdb)");
      c.storage_type = "rocksdb";
      const Json& body = FirstBlock(it.value());
      if (!body.is_object()) return KeyError(k, "expected storage \"rocksdb\" { path = \"...\" }");
      if (body.contains("path")) {
        SB_ASSIGN_OR_RETURN(c.storage_path, Str(body["path"], k + ".path"));
      }
      if (c.storage_path.empty()) return KeyError(k, "path is required");
      have_storage = true;
    } else if (k == "listener") {
      const Json& l = FirstBlock(v);
      if (!l.is_object() || l.size() != 1) return KeyError(k, "expected one listener block: listener \"tcp\" { ... }");
      if (l.begin().key() != "tcp")
        return KeyError(k, "unsupported listener type \"" + l.begin().key() + "\" (supported: tcp)");
      const Json& body = FirstBlock(l.begin().value());
      if (!body.is_object()) return KeyError(k, "expected listener \"tcp\" { ... }");
      SB_RETURN_IF_ERROR(ParseListener(body, c.listener));
    } else if (k == "api_addr") {
      SB_ASSIGN_OR_RETURN(c.api_addr, Str(v, k));
    } else if (k == "log_level") {
      SB_ASSIGN_OR_RETURN(c.log_level, Str(v, k));
      log::Level lvl;
      if (!log::ParseLevel(c.log_level, &lvl))
        return KeyError(k, "unknown level \"" + c.log_level + "\" (trace, debug, info, warn, error)");
    } else if (k == "disable_mlock") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(k, "expected a boolean");
      c.disable_mlock = *b;
    } else if (k == "enable_core_dumps") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(k, "expected a boolean");
      c.enable_core_dumps = *b;
    } else if (k == "max_entry_size") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(k, "expected a positive integer");
      c.max_entry_size = static_cast<size_t>(*n);
    } else {
      log::Warn("config: ignoring unknown key " + k);
    }
  }
  if (!have_storage) return InvalidArgument("config: a storage \"rocksdb\" block is required");
  return c;
}

Result<ServerConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return InvalidArgument(path + ": config: is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": config: cannot read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": config: read error");
  auto c = ParseConfig(ss.str());
  if (!c.ok()) return InvalidArgument(path + ": " + c.status().message());
  return c;
}

Result<ServerFlags> ParseServerFlags(const std::vector<std::string>& args) {
  ServerFlags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) == 0) a.erase(0, 1);
    if (a.size() < 2 || a[0] != '-') return InvalidArgument("unexpected argument \"" + args[i] + "\"");
    a.erase(0, 1);
    std::string name = a, value;
    bool has_value = false;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    auto take = [&](std::string* out) -> Status {
      if (!has_value) {
        if (i + 1 >= args.size()) return InvalidArgument("flag -" + name + " needs a value");
        value = args[++i];
      }
      *out = value;
      return Status::Ok();
    };
    if (name == "config") {
      SB_RETURN_IF_ERROR(take(&f.config));
      if (f.config.empty()) return InvalidArgument("flag -config needs a file name");
    } else if (name == "dev") {
      auto b = has_value ? ParseBoolString(value) : std::optional<bool>(true);
      if (!b) return InvalidArgument("flag -dev expects a boolean");
      f.dev = *b;
    } else if (name == "dev-root-token-id") {
      SB_RETURN_IF_ERROR(take(&f.dev_root_token_id));
    } else if (name == "dev-listen-address") {
      SB_RETURN_IF_ERROR(take(&f.dev_listen_address));
      if (f.dev_listen_address.empty()) return InvalidArgument("flag -dev-listen-address needs an address");
    } else if (name == "log-level") {
      SB_RETURN_IF_ERROR(take(&f.log_level));
    } else if (name == "dev-no-store-token" || name == "dev-tls") {
      // Vault flags with nothing to do here: dev mode never stores the token
      // in a helper file and always serves TLS.
    } else {
      return InvalidArgument("unknown flag -" + name);
    }
  }
  if (!f.dev && f.config.empty())
    return InvalidArgument("a config file is required: sealbox server -config=FILE (or -dev)");
  return f;
}

Status ApplyFlags(const ServerFlags& flags, ServerConfig* config) {
  if (!flags.log_level.empty()) {
    log::Level lvl;
    if (!log::ParseLevel(flags.log_level, &lvl))
      return InvalidArgument("flag -log-level: unknown level \"" + flags.log_level +
                             "\" (trace, debug, info, warn, error)");
    config->log_level = flags.log_level;
  }
  if (flags.dev) config->listener.address = flags.dev_listen_address;
  return Status::Ok();
}

}  // namespace sealbox::server
