#include "server/config.h"

#include <openssl/crypto.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/crypto.h"
#include "base/hcl.h"
#include "base/json_util.h"
#include "base/log.h"
#include "etcd/etcd_plan.h"

namespace sealbox::server {
namespace {

Status KeyError(const std::string& key, const std::string& why) {
  return InvalidArgument("config: " + key + ": " + why);
}

std::string EnvOrEmpty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Result<std::string> Str(const Json& v, const std::string& key) {
  if (!v.is_string()) return KeyError(key, "expected a string");
  return v.get<std::string>();
}

// Where each key was written, to name the line of one that is refused.
class KeyLines {
 public:
  explicit KeyLines(std::vector<hcl::KeyLine> lines) : lines_(std::move(lines)) {}
  // The line of the first `key` at or after `from_line` (0 if not found).
  size_t Find(const std::string& key, size_t from_line) const {
    for (const auto& kl : lines_)
      if (kl.line >= from_line && kl.key == key) return kl.line;
    return 0;
  }

 private:
  std::vector<hcl::KeyLine> lines_;
};

// A key Sealbox does not know stops the start: a typo must never silently
// keep a default (`adress`, `max_lease_tll`).
Status UnknownKey(const KeyLines& lines, const std::string& block, const std::string& key, size_t from_line) {
  size_t line = lines.Find(key, from_line);
  std::string where = line ? "line " + std::to_string(line) + ": " : "";
  std::string in = block.empty() ? "" : " in " + block;
  std::string shown = key.size() > 64 ? key.substr(0, 64) + "..." : key;
  return InvalidArgument("config: " + where + "unknown key \"" + shown + "\"" + in);
}

// Vault settings that Sealbox accepts and ignores because they change nothing
// a client can see here; each is named in a warning, never silently dropped.
bool IgnoredVaultKey(const std::string& k) {
  return k == "ui" || k == "cluster_name" || k == "disable_clustering" ||
         k == "disable_performance_standby" || k == "log_format";
}

// HCL lets a block appear as an object or a list of objects; take the first.
const Json& FirstBlock(const Json& v) {
  if (v.is_array() && !v.empty()) return v[0];
  return v;
}

// The listener's limits on what one request body may hold, by key (Vault's
// and OpenBao's spellings); null for any other key.
size_t* RequestLimit(ListenerConfig& l, const std::string& k) {
  if (k == "max_json_depth" || k == "max_request_json_depth") return &l.max_json_depth;
  if (k == "max_json_strings" || k == "max_request_json_strings") return &l.max_json_strings;
  if (k == "max_json_elements") return &l.max_json_elements;
  if (k == "max_json_string_value_length") return &l.max_json_string_value_length;
  if (k == "max_json_key_length") return &l.max_json_key_length;
  if (k == "max_unauthenticated_request_size") return &l.max_unauthenticated_request_size;
  return nullptr;
}

Status ParseListener(const Json& block, ListenerConfig& l, const KeyLines& lines, size_t block_line) {
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
    } else if (size_t* limit = RequestLimit(l, k)) {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      *limit = static_cast<size_t>(*n);
    } else if (k == "idle_timeout" || k == "http_idle_timeout") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d <= 0) return KeyError(key, "expected a duration");
      l.idle_timeout_s = static_cast<int>(*d);
    } else if (k == "header_timeout" || k == "http_read_header_timeout") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d <= 0) return KeyError(key, "expected a duration");
      l.header_timeout_s = static_cast<int>(*d);
    } else if (k == "tls_handshake_timeout") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d <= 0) return KeyError(key, "expected a duration");
      l.tls_handshake_timeout_s = static_cast<int>(*d);
    } else if (k == "max_connections_per_address") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_connections_per_address = static_cast<size_t>(*n);
    } else if (k == "max_header_size") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_header_size = static_cast<size_t>(*n);
    } else if (k == "max_connections") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0) return KeyError(key, "expected a positive integer");
      l.max_connections = static_cast<size_t>(*n);
    } else if (k == "worker_threads") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0 || *n > 1024) return KeyError(key, "expected an integer from 1 to 1024");
      l.worker_threads = static_cast<int>(*n);
    } else if (k == "wait_worker_threads") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n <= 0 || *n > 1024) return KeyError(key, "expected an integer from 1 to 1024");
      l.wait_worker_threads = static_cast<int>(*n);
    } else if (k == "disable_unauthed_generate_root_endpoints" || k == "disable_unauthed_rekey_endpoints") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(key, "expected a boolean");
      (k == "disable_unauthed_rekey_endpoints" ? l.disable_unauthed_rekey_endpoints
                                               : l.disable_unauthed_generate_root_endpoints) = *b;
    } else if (k == "telemetry") {
      const Json& t = FirstBlock(v);
      if (!t.is_object()) return KeyError(key, "expected telemetry { unauthenticated_metrics_access = true }");
      for (auto& [tk, tv] : t.items()) {
        if (tk != "unauthenticated_metrics_access") return UnknownKey(lines, "listener telemetry", tk, block_line);
        auto b = JsonToBool(tv);
        if (!b.ok()) return KeyError(key + "." + tk, "expected a boolean");
        l.unauthenticated_metrics_access = *b;
      }
    } else if (k == "cluster_address") {
      SB_ASSIGN_OR_RETURN(l.cluster_address, Str(v, key));
    } else {
      return UnknownKey(lines, "listener \"tcp\"", k, block_line);
    }
  }
  return Status::Ok();
}

Result<int64_t> TimeoutMs(const Json& v, const std::string& key) {
  auto d = JsonToDurationSeconds(v);
  if (!d.ok() || *d <= 0 || *d > 3600) return KeyError(key, "expected a duration from 1s to 1h");
  return *d * 1000;
}

// The etcd settings that are plain strings, by key; null for any other key.
std::string* EtcdString(etcd::EtcdOptions& e, const std::string& k) {
  if (k == "tls_ca_file") return &e.tls_ca_file;
  if (k == "tls_cert_file") return &e.tls_cert_file;
  if (k == "tls_key_file") return &e.tls_key_file;
  if (k == "username") return &e.username;
  if (k == "password") return &e.password;
  return nullptr;
}

// storage "etcd" { ... }: Vault's etcd backend keys (etcd v3 API only).
Status ParseEtcd(const std::string& k, const Json& body, const KeyLines& lines, etcd::EtcdOptions& e) {
  for (auto& [sk, sv] : body.items()) {
    std::string key = k + ".etcd." + sk;
    if (sk == "address") {
      SB_ASSIGN_OR_RETURN(e.address, Str(sv, key));
    } else if (sk == "path") {
      SB_ASSIGN_OR_RETURN(e.path, Str(sv, key));
      if (e.path.empty()) e.path = "/vault/";
    } else if (sk == "ha_enabled") {
      auto b = JsonToBool(sv);
      if (!b.ok()) return KeyError(key, "expected a boolean");
      e.ha_enabled = *b;
    } else if (std::string* field = EtcdString(e, sk)) {
      SB_ASSIGN_OR_RETURN(*field, Str(sv, key));
    } else if (sk == "request_timeout") {
      SB_ASSIGN_OR_RETURN(e.request_timeout_ms, TimeoutMs(sv, key));
    } else if (sk == "lock_timeout") {
      SB_ASSIGN_OR_RETURN(e.lock_timeout_ms, TimeoutMs(sv, key));
    } else if (sk == "etcd_api") {
      SB_ASSIGN_OR_RETURN(std::string api, Str(sv, key));
      if (api != "v3") return KeyError(key, "only etcd's v3 API is supported");
    } else {
      return UnknownKey(lines, "storage \"etcd\"", sk, lines.Find(k, 0));
    }
  }
  // As Vault's etcd backend: the credentials may come from the environment
  // (a Kubernetes Secret, say) instead of the file; the file's keys win.
  if (e.username.empty()) e.username = EnvOrEmpty("ETCD_USERNAME");
  if (e.password.empty()) e.password = EnvOrEmpty("ETCD_PASSWORD");
  if (e.username.empty() != e.password.empty()) return KeyError(k + ".etcd", "username and password go together");
  if (e.tls_cert_file.empty() != e.tls_key_file.empty())
    return KeyError(k + ".etcd", "tls_cert_file and tls_key_file go together");
  auto endpoints = etcd::ParseEndpoints(e.address, !e.tls_ca_file.empty() || !e.tls_cert_file.empty());
  if (!endpoints.ok()) return KeyError(k + ".etcd.address", endpoints.status().message());
  return Status::Ok();
}

// storage "rocksdb" { path = "..." } or storage "etcd" { ... } (`backend` is an alias).
Status ParseStorage(const std::string& k, const Json& v, const KeyLines& lines, ServerConfig& c) {
  const Json& s = FirstBlock(v);
  if (!s.is_object() || s.size() != 1) return KeyError(k, "expected one storage block: storage \"rocksdb\" { ... }");
  auto it = s.begin();
  if (it.key() != "rocksdb" && it.key() != "etcd")
    return KeyError(k, "unsupported storage type \"" + it.key() + "\" (supported: rocksdb, etcd)");
  c.storage_type = it.key();
  const Json& body = FirstBlock(it.value());
  if (!body.is_object()) return KeyError(k, "expected storage \"" + it.key() + "\" { ... }");
  if (c.storage_type == "etcd") return ParseEtcd(k, body, lines, c.etcd);
  for (auto& [sk, sv] : body.items()) {
    if (sk == "ha_enabled") return KeyError(k + ".rocksdb.ha_enabled", "RocksDB is one node's storage; HA needs etcd");
    if (sk != "path") return UnknownKey(lines, "storage \"rocksdb\"", sk, lines.Find(k, 0));
    SB_ASSIGN_OR_RETURN(c.storage_path, Str(sv, k + ".path"));
  }
  if (c.storage_path.empty()) return KeyError(k, "path is required");
  return Status::Ok();
}

// listener "tcp" { ... }
Status ParseListenerBlock(const std::string& k, const Json& v, const KeyLines& lines, ServerConfig& c) {
  const Json& l = FirstBlock(v);
  if (!l.is_object() || l.size() != 1) return KeyError(k, "expected one listener block: listener \"tcp\" { ... }");
  if (l.begin().key() != "tcp")
    return KeyError(k, "unsupported listener type \"" + l.begin().key() + "\" (supported: tcp)");
  const Json& body = FirstBlock(l.begin().value());
  if (!body.is_object()) return KeyError(k, "expected listener \"tcp\" { ... }");
  SB_RETURN_IF_ERROR(ParseListener(body, c.listener, lines, lines.Find("listener", 0)));
  return Status::Ok();
}

// seal "static" { current_key_id = ... current_key = ... previous_* }
Status ParseSeal(const std::string& k, const Json& v, const KeyLines& lines, ServerConfig& c) {
  const Json& sb = FirstBlock(v);
  if (!sb.is_object() || sb.size() != 1) return KeyError(k, "expected one seal block: seal \"static\" { ... }");
  if (sb.begin().key() != "static")
    return KeyError(k, "unsupported seal type \"" + sb.begin().key() + "\" (supported: static)");
  const Json& body = FirstBlock(sb.begin().value());
  if (!body.is_object()) return KeyError(k, "expected seal \"static\" { ... }");
  c.seal.enabled = true;
  for (auto& [sk, sv] : body.items()) {
    std::string key = "seal.static." + sk;
    if (sk == "current_key_id") {
      SB_ASSIGN_OR_RETURN(c.seal.current_key_id, Str(sv, key));
    } else if (sk == "current_key") {
      SB_ASSIGN_OR_RETURN(c.seal.current_key, Str(sv, key));
    } else if (sk == "previous_key_id") {
      SB_ASSIGN_OR_RETURN(c.seal.previous_key_id, Str(sv, key));
    } else if (sk == "previous_key") {
      SB_ASSIGN_OR_RETURN(c.seal.previous_key, Str(sv, key));
    } else if (sk == "disabled") {
      auto b = JsonToBool(sv);
      if (!b.ok()) return KeyError(key, "expected a boolean");
      if (*b) return KeyError(key, "seal migration is not supported");
    } else {
      return UnknownKey(lines, "seal \"static\"", sk, lines.Find("seal", 0));
    }
  }
  if (c.seal.current_key_id.empty() || c.seal.current_key.empty())
    return KeyError("seal.static", "current_key_id and current_key are required");
  if (c.seal.previous_key_id.empty() != c.seal.previous_key.empty())
    return KeyError("seal.static", "previous_key_id and previous_key go together");
  if (!c.seal.previous_key_id.empty() && c.seal.previous_key_id == c.seal.current_key_id)
    return KeyError("seal.static", "previous_key_id must differ from current_key_id");
  return Status::Ok();
}

// service_registration "kubernetes" { namespace = ... pod_name = ... }
Status ParseServiceRegistration(const std::string& k, const Json& v, const KeyLines& lines, ServerConfig& c) {
  const Json& sb = FirstBlock(v);
  if (!sb.is_object() || sb.size() != 1)
    return KeyError(k, "expected one block: service_registration \"kubernetes\" { ... }");
  if (sb.begin().key() != "kubernetes")
    return KeyError(k, "unsupported service registration type \"" + sb.begin().key() + "\" (supported: kubernetes)");
  const Json& body = FirstBlock(sb.begin().value());
  if (!body.is_object()) return KeyError(k, "expected service_registration \"kubernetes\" { ... }");
  c.service_registration.enabled = true;
  for (auto& [sk, sv] : body.items()) {
    std::string key = "service_registration.kubernetes." + sk;
    if (sk == "namespace") {
      SB_ASSIGN_OR_RETURN(c.service_registration.namespace_name, Str(sv, key));
    } else if (sk == "pod_name") {
      SB_ASSIGN_OR_RETURN(c.service_registration.pod_name, Str(sv, key));
    } else {
      return UnknownKey(lines, "service_registration \"kubernetes\"", sk, lines.Find(k, 0));
    }
  }
  return Status::Ok();
}

// Vault telemetry keys for sinks Sealbox does not have: refused, so an
// operator expecting statsd never silently gets nothing.
bool TelemetrySinkKey(const std::string& k) {
  return k.rfind("statsd", 0) == 0 || k.rfind("dogstatsd", 0) == 0 || k.rfind("circonus", 0) == 0 ||
         k.rfind("stackdriver", 0) == 0;
}

// Vault telemetry keys about labels and cardinality that change nothing here.
bool IgnoredTelemetryKey(const std::string& k) {
  return k == "enable_hostname_label" || k == "maximum_gauge_cardinality" || k == "lease_metrics_epsilon" ||
         k == "num_lease_metrics_buckets" || k == "add_lease_metrics_namespace_labels" ||
         k == "add_mount_point_rollback_metrics" || k == "metrics_prefix";
}

// telemetry { ... }
Status ParseTelemetry(const Json& v, const KeyLines& lines, TelemetryConfig& t) {
  const Json& block = FirstBlock(v);
  if (!block.is_object()) return KeyError("telemetry", "expected telemetry { ... }");
  t.prometheus_retention_s = 24 * 3600;  // Vault's default once the stanza is there
  const size_t block_line = lines.Find("telemetry", 0);
  for (auto& [k, v] : block.items()) {
    std::string key = "telemetry." + k;
    if (k == "prometheus_retention_time" || k == "usage_gauge_period") {
      const bool none = k == "usage_gauge_period" && v.is_string() && v.get_ref<const std::string&>() == "none";
      auto d = none ? Result<int64_t>(0) : JsonToDurationSeconds(v);
      if (!d.ok() || *d < 0) return KeyError(key, "expected a duration");
      (k == "prometheus_retention_time" ? t.prometheus_retention_s : t.usage_gauge_period_s) = *d;
    } else if (k == "disable_hostname" || k == "filter_default") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(key, "expected a boolean");
      (k == "disable_hostname" ? t.disable_hostname : t.filter_default) = *b;
    } else if (TelemetrySinkKey(k)) {
      return KeyError(key, "Sealbox exports metrics only through sys/metrics (JSON or Prometheus); no push sinks");
    } else if (IgnoredTelemetryKey(k)) {
      log::Warn("config: " + key + " is ignored (it changes nothing in Sealbox)");
    } else {
      return UnknownKey(lines, "telemetry", k, block_line);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ServerConfig> ParseConfig(std::string_view hcl_text) {
  std::vector<hcl::KeyLine> key_lines;
  auto parsed = hcl::Parse(hcl_text, {}, hcl::Blocks::kMerge, &key_lines);
  if (!parsed.ok()) return InvalidArgument("config: " + parsed.status().message());
  const KeyLines lines(std::move(key_lines));
  const Json& root = *parsed;
  if (!root.is_object()) return InvalidArgument("config: expected an object");
  ServerConfig c;
  bool have_storage = false;
  for (auto& [k, v] : root.items()) {
    if (k == "storage" || k == "backend") {
      SB_RETURN_IF_ERROR(ParseStorage(k, v, lines, c));
      have_storage = true;
    } else if (k == "listener") {
      SB_RETURN_IF_ERROR(ParseListenerBlock(k, v, lines, c));
    } else if (k == "seal") {
      SB_RETURN_IF_ERROR(ParseSeal(k, v, lines, c));
    } else if (k == "telemetry") {
      SB_RETURN_IF_ERROR(ParseTelemetry(v, lines, c.telemetry));
    } else if (k == "service_registration") {
      SB_RETURN_IF_ERROR(ParseServiceRegistration(k, v, lines, c));
    } else if (k == "api_addr") {
      SB_ASSIGN_OR_RETURN(c.api_addr, Str(v, k));
    } else if (k == "log_format") {
      SB_ASSIGN_OR_RETURN(c.log_format, Str(v, k));
      log::Format fmt;
      if (!log::ParseFormat(c.log_format, &fmt))
        return KeyError(k, "unknown format \"" + c.log_format + "\" (standard, json)");
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
    } else if (k == "default_lease_ttl" || k == "max_lease_ttl") {
      auto d = JsonToDurationSeconds(v);
      if (!d.ok() || *d < 0) return KeyError(k, "expected a duration");
      (k == "default_lease_ttl" ? c.default_lease_ttl : c.max_lease_ttl) = *d;
    } else if (k == "cluster_addr") {
      SB_ASSIGN_OR_RETURN(c.cluster_addr, Str(v, k));
    } else if (k == "disable_cache") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(k, "expected a boolean");
      c.disable_cache = *b;
    } else if (k == "cache_size") {
      auto n = JsonToInt(v);
      if (!n.ok() || *n < 0 || *n > (int64_t{1} << 26)) return KeyError(k, "expected a number of entries");
      c.cache_size = static_cast<size_t>(*n);
    } else if (IgnoredVaultKey(k)) {
      log::Warn("config: " + k + " is ignored (it changes nothing in Sealbox)");
    } else if (k == "allow_audit_log_prefixing") {
      auto b = JsonToBool(v);
      if (!b.ok()) return KeyError(k, "expected a boolean");
      c.allow_audit_log_prefixing = *b;
    } else if (k == "audit_file_dirs") {
      if (!v.is_array()) return KeyError(k, "expected a list of absolute directory paths");
      for (const Json& d : v) {
        if (!d.is_string() || d.get_ref<const std::string&>().empty() || d.get_ref<const std::string&>()[0] != '/')
          return KeyError(k, "expected a list of absolute directory paths");
        c.audit_file_dirs.push_back(d.get<std::string>());
      }
    } else {
      return UnknownKey(lines, "", k, 0);
    }
  }
  if (!have_storage) return InvalidArgument("config: a storage block is required (storage \"rocksdb\" or storage \"etcd\")");
  // As Vault: the environment overrides the file, so one file serves every
  // node of a cluster (each pod sets its own addresses).
  if (std::string env = EnvOrEmpty("VAULT_API_ADDR"); !env.empty()) c.api_addr = env;
  if (std::string env = EnvOrEmpty("VAULT_CLUSTER_ADDR"); !env.empty()) c.cluster_addr = env;
  if (c.storage_type == "etcd" && c.etcd.ha_enabled && c.api_addr.empty())
    return KeyError("api_addr",
                    "required with ha_enabled (or VAULT_API_ADDR): standbys send clients to the active node's api_addr");
  // As Vault: 0 keeps the 768h default, and the default may not pass the max.
  if (c.default_lease_ttl == 0) c.default_lease_ttl = kDefaultLeaseTtl;
  if (c.max_lease_ttl == 0) c.max_lease_ttl = kDefaultLeaseTtl;
  if (c.default_lease_ttl > c.max_lease_ttl)
    return KeyError("default_lease_ttl", "must not exceed max_lease_ttl (the default is 768h: set both)");
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

Result<SecureBytes> LoadSealKey(const std::string& spec) {
  std::string source = "the key";
  SecureBytes text;
  if (spec.rfind("file://", 0) == 0) {
    std::string path = spec.substr(7);
    source = "file " + path;
    std::ifstream in(path, std::ios::binary);
    if (!in) return InvalidArgument("seal key: cannot read " + source + ": " + std::strerror(errno));
    std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text = SecureBytes(buf);
    OPENSSL_cleanse(buf.data(), buf.size());
    if (text.size() == 32) return text;  // raw bytes, as `openssl rand -out k 32` writes
  } else if (spec.rfind("env://", 0) == 0) {
    std::string var = spec.substr(6);
    source = "environment variable " + var;
    const char* v = std::getenv(var.c_str());
    if (!v || !*v) return InvalidArgument("seal key: " + source + " is not set");
    text = SecureBytes(std::string_view(v));
  } else {
    text = SecureBytes(std::string_view(spec));
  }
  std::string_view t = text.view();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t.size() == 64) {
    if (auto k = crypto::HexDecode(t); k.ok() && k->size() == 32) return k;
  }
  if (auto k = crypto::Base64Decode(t); k.ok() && k->size() == 32) return k;
  return InvalidArgument("seal key: " + source + " does not hold a 32-byte key (raw, hex or base64)");
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
    } else if (name == "log-format") {
      SB_RETURN_IF_ERROR(take(&f.log_format));
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
  if (!flags.log_format.empty()) {
    log::Format fmt;
    if (!log::ParseFormat(flags.log_format, &fmt))
      return InvalidArgument("flag -log-format: unknown format \"" + flags.log_format + "\" (standard, json)");
    config->log_format = flags.log_format;
  }
  if (flags.dev) config->listener.address = flags.dev_listen_address;
  return Status::Ok();
}

}  // namespace sealbox::server
