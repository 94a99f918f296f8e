#include "server/config.h"

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
      if (body.is_object() && body.contains("path")) {
        SB_ASSIGN_OR_RETURN(c.storage_path, Str(body["path"], k + ".path"));
      }
      if (c.storage_path.empty()) return KeyError(k, "path is required");
      have_storage = true;
    } else if (k == "listener") {
      const Json& l = FirstBlock(v);
      if (!l.is_object() || !l.contains("tcp")) return KeyError(k, "expected listener \"tcp\" { ... }");
      SB_RETURN_IF_ERROR(ParseListener(FirstBlock(l["tcp"]), c.listener));
    } else if (k == "api_addr") {
      SB_ASSIGN_OR_RETURN(c.api_addr, Str(v, k));
    } else if (k == "log_level") {
      SB_ASSIGN_OR_RETURN(c.log_level, Str(v, k));
      log::Level lvl;
      if (!log::ParseLevel(c.log_level, &lvl)) return KeyError(k, "unknown level");
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("config: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseConfig(ss.str());
  if (!c.ok()) return InvalidArgument(path + ": " + c.status().message());
  return c;
}

}  // namespace sealbox::server
