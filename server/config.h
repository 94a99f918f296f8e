// ServerConfig: the Vault-style HCL configuration file (storage, listener,
// api_addr, log_level) and the flags that override it.
// Pure parsing; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sealbox::server {

struct ListenerConfig {
  std::string address = "127.0.0.1:8200";
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_min_version = "tls12";   // tls12 | tls13
  size_t max_request_size = 33554432;      // 0 in the file → default; negative → unlimited
  int max_request_duration_s = 90;
  size_t max_json_depth = 100;
  size_t max_json_strings = 1000;
  int idle_timeout_s = 60;                 // between keep-alive requests
  int header_timeout_s = 10;               // TLS handshake and request headers (slowloris)
  size_t max_header_size = 16384;
  size_t max_connections = 4096;
};

struct ServerConfig {
  std::string storage_type = "rocksdb";
  std::string storage_path;
  ListenerConfig listener;
  std::string api_addr;
  std::string log_level = "info";
  bool disable_mlock = false;
  bool enable_core_dumps = false;
  size_t max_entry_size = 1 << 20;
};

// Parses HCL text. Errors name the key that is wrong.
Result<ServerConfig> ParseConfig(std::string_view hcl_text);
Result<ServerConfig> LoadConfigFile(const std::string& path);

}  // namespace sealbox::server
