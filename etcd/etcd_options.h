// EtcdOptions: the settings of storage "etcd" (Vault's etcd backend keys),
// as server/config.cc parses them. Plain data; no gRPC here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealbox::etcd {

// etcd's defaults (--max-txn-ops, --max-request-bytes): a cluster started
// with other values needs these changed in step.
inline constexpr size_t kDefaultMaxTxnOps = 128;
inline constexpr size_t kDefaultMaxRequestBytes = 1536 * 1024;

struct EtcdOptions {
  std::string address = "http://127.0.0.1:2379";  // comma-separated endpoints
  std::string path = "/vault/";                    // key prefix
  bool ha_enabled = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string username;
  std::string password;
  int64_t request_timeout_ms = 5000;  // each call to one endpoint
  int64_t lock_timeout_ms = 15000;    // the election's lease TTL (HA, next step)
  size_t max_txn_ops = kDefaultMaxTxnOps;
  size_t max_request_bytes = kDefaultMaxRequestBytes;
};

}  // namespace sealbox::etcd
