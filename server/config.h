// ServerConfig: the Vault-style HCL configuration file (storage, listener,
// api_addr, log_level) and the `sealbox server` flags that override it.
//
//   storage "rocksdb" { path = "/var/lib/sealbox" }     # `backend` is an alias
//   # or: storage "etcd" { address = "https://a:2379,https://b:2379"  path = "/vault/"
//   #       tls_ca_file tls_cert_file tls_key_file username password
//   #       request_timeout = "5s"  lock_timeout = "15s"  ha_enabled = false }
//   listener "tcp" {
//     address       = "127.0.0.1:8200"                   # or "[::1]:8200"; port 0 = any
//     tls_cert_file = "/etc/sealbox/server.pem"
//     tls_key_file  = "/etc/sealbox/server-key.pem"
//     max_request_size = 33554432                        # 0 = default, negative = unlimited
//     max_request_duration = "90s"
//   }
//   api_addr = "https://sealbox.example:8200"
//   log_level = "info"
//   disable_mlock = false
//   allow_audit_log_prefixing = false
//   audit_file_dirs = ["/var/log/sealbox"]               # absolute; default: anywhere
//
//   default_lease_ttl = "768h"   max_lease_ttl = "768h"   # system-wide, as Vault's
//   telemetry {                                          # sys/metrics (docs/monitoring.md)
//     prometheus_retention_time = "24h"                  # 0 (or no stanza): no Prometheus format
//     usage_gauge_period = "10m"  disable_hostname = true  filter_default = true
//   }
//   # and in the listener: telemetry { unauthenticated_metrics_access = true }
//
// An unknown key is an error naming the key and its line (a typo must never
// keep a default); a few Vault keys that change nothing here (`ui`,
// `cluster_name`, ...) are accepted with a warning. A wrong type or value is
// an error naming the key. `tls_disable = true` is refused: Sealbox serves HTTPS only.
// Pure parsing; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"
#include "etcd/etcd_options.h"

namespace sealbox::server {

struct ListenerConfig {
  std::string address = "127.0.0.1:8200";
  // HA: where the cluster listener binds (request forwarding from standbys);
  // empty: the address's host with its port plus one, as Vault.
  std::string cluster_address;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_min_version = "tls12";   // tls12 | tls13
  size_t max_request_size = 33554432;      // 0 in the file → default; negative → unlimited
  int max_request_duration_s = 90;
  // What one request body may hold (base/json_util.h JsonLimits; form
  // bodies too); bodies with no token, or to paths that take none, are
  // refused past max_unauthenticated_request_size before they are read.
  size_t max_json_depth = 100;
  size_t max_json_strings = 1000;
  size_t max_json_elements = 10000;
  size_t max_json_string_value_length = 1 << 20;
  size_t max_json_key_length = 1024;
  size_t max_unauthenticated_request_size = 64 << 10;
  int idle_timeout_s = 60;                 // between keep-alive requests
  int header_timeout_s = 10;               // request headers (slowloris)
  int tls_handshake_timeout_s = 5;         // from accept to the end of the TLS handshake
  size_t max_header_size = 16384;
  size_t max_connections = 4096;
  // One client address (an IPv6 /64) holds at most this many connections; in
  // the last eighth of max_connections, an address holding an eighth of this
  // waits, so light clients still find room.
  size_t max_connections_per_address = 512;
  // The token-free break-glass endpoints (sys/generate-root/*, sys/rekey/*,
  // sys/rekey-recovery-key/*): off by default, as in OpenBao 2.5+, since
  // anyone who reaches them can cancel a ceremony in progress.
  bool disable_unauthed_generate_root_endpoints = true;
  bool disable_unauthed_rekey_endpoints = true;
  // listener telemetry { unauthenticated_metrics_access }: sys/metrics
  // without a token.
  bool unauthenticated_metrics_access = false;
  // Threads for requests that may block: `worker_threads` for those that
  // mostly compute (reads while an audit device is on; few, on few cores),
  // `wait_worker_threads` for those that mostly wait (synced writes, database
  // credentials, Kubernetes logins), each holding a thread while it waits.
  int worker_threads = 8;
  int wait_worker_threads = 32;
};

// seal "static" { current_key_id = "2026-1"  current_key = "file:///k" ... }
// Keys are specs, resolved at start by LoadSealKey: "file://PATH",
// "env://VAR", or the key itself in hex or base64.
struct StaticSealConfig {
  bool enabled = false;
  std::string current_key_id;
  std::string current_key;
  std::string previous_key_id;
  std::string previous_key;
};

// telemetry { ... }: what sys/metrics exports. Without the stanza the JSON
// format is served and the Prometheus one is off, as in Vault.
struct TelemetryConfig {
  int64_t prometheus_retention_s = 0;  // 0: ?format=prometheus answers 400; with the stanza, 24h by default
  int64_t usage_gauge_period_s = 600;  // token and lease counts; 0 ("none"): not counted
  bool disable_hostname = false;       // accepted; metric names never carry the host name here
  bool filter_default = true;          // false: the request path records nothing (Vault's filter, no prefix allowed)
};

// service_registration "kubernetes" { namespace = "..."  pod_name = "..." }:
// the pod labels itself with its state (service_registration/). The env
// (VAULT_K8S_NAMESPACE, VAULT_K8S_POD_NAME) wins over the keys, as in Vault.
struct ServiceRegistrationConfig {
  bool enabled = false;
  std::string namespace_name;
  std::string pod_name;
};

inline constexpr int64_t kDefaultLeaseTtl = 768 * 3600;  // Vault's 32 days

struct ServerConfig {
  std::string storage_type = "rocksdb";  // rocksdb | etcd
  std::string storage_path;              // rocksdb
  etcd::EtcdOptions etcd;                // etcd
  ListenerConfig listener;
  std::string api_addr;
  std::string log_level = "info";
  std::string log_format;  // "" or "standard": text; "json"
  bool disable_mlock = false;
  bool enable_core_dumps = false;
  size_t max_entry_size = 1 << 20;
  int64_t default_lease_ttl = kDefaultLeaseTtl;  // seconds; tokens, leases and mounts inherit it
  int64_t max_lease_ttl = kDefaultLeaseTtl;
  bool disable_cache = false;   // Vault's key: no read cache in front of storage
  size_t cache_size = 131072;   // read cache entries (Vault's default)
  std::string cluster_addr;  // HA: advertised to standbys; empty: api_addr's host, cluster port
  StaticSealConfig seal;
  // File audit devices (HCSEC-2025-14): `prefix` only with this set, and,
  // when audit_file_dirs lists directories, files only in or under them.
  bool allow_audit_log_prefixing = false;
  std::vector<std::string> audit_file_dirs;
  TelemetryConfig telemetry;
  ServiceRegistrationConfig service_registration;
};

// Parses HCL text. Errors are InvalidArgument("config: <key>: <why>"), or
// "config: line N, column M: ..." for HCL syntax errors.
Result<ServerConfig> ParseConfig(std::string_view hcl_text);
// Reads and parses a file; errors are prefixed with the path.
Result<ServerConfig> LoadConfigFile(const std::string& path);

// The configuration for sys/config/state/sanitized (config_sanitized.cc):
// Vault's key names, nothing secret (no seal key, no storage password).
Json SanitizedConfig(const ServerConfig& config);

// Resolves a static seal key spec to its 32 bytes. A file holds the raw 32
// bytes or their hex/base64 text (surrounding whitespace ignored). Errors
// name the source (file path, variable), never the key.
Result<SecureBytes> LoadSealKey(const std::string& spec);

// `sealbox server` flags, Vault's spelling: -name=value, -name value, and
// the same with two dashes; -dev alone is true.
struct ServerFlags {
  std::string config;  // -config=FILE
  bool dev = false;    // -dev
  std::string dev_root_token_id;
  std::string dev_listen_address = "127.0.0.1:8200";
  std::string log_level;  // empty: keep the file's
  std::string log_format;  // empty: keep the file's
};

// Parses the arguments after `server`. Errors: InvalidArgument for an unknown
// flag, a missing value, or neither -config nor -dev.
Result<ServerFlags> ParseServerFlags(const std::vector<std::string>& args);

// Flags win over the file: -log-level, and in dev mode -dev-listen-address.
// Errors: InvalidArgument for an unknown -log-level.
Status ApplyFlags(const ServerFlags& flags, ServerConfig* config);

}  // namespace sealbox::server
