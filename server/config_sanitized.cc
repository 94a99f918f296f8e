// sys/config/state/sanitized: the loaded configuration under Vault's key
// names (durations in nanoseconds, as Vault's Go durations), without
// anything secret: no seal key, no storage password. Paths to key files are
// shown (they are where the secrets are, not the secrets).
#include "server/config.h"

namespace sealbox::server {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

Json Listener(const ListenerConfig& l) {
  return Json{{"type", "tcp"},
              {"config",
               {{"address", l.address},
                {"tls_cert_file", l.tls_cert_file},
                {"tls_key_file", l.tls_key_file},
                {"tls_min_version", l.tls_min_version},
                {"max_request_size", l.max_request_size},
                {"max_request_duration", l.max_request_duration_s * kNanos},
                {"disable_unauthed_generate_root_endpoints", l.disable_unauthed_generate_root_endpoints},
                {"disable_unauthed_rekey_endpoints", l.disable_unauthed_rekey_endpoints},
                {"telemetry", {{"unauthenticated_metrics_access", l.unauthenticated_metrics_access}}}}}};
}

Json Storage(const ServerConfig& c) {
  if (c.storage_type != "etcd")
    return Json{{"type", c.storage_type}, {"path", c.storage_path}, {"cluster_addr", c.cluster_addr},
                {"disable_clustering", true}, {"redirect_addr", c.api_addr}};
  return Json{{"type", "etcd"},
              {"address", c.etcd.address},
              {"path", c.etcd.path},
              {"ha_enabled", c.etcd.ha_enabled},
              {"tls_ca_file", c.etcd.tls_ca_file},
              {"tls_cert_file", c.etcd.tls_cert_file},
              {"tls_key_file", c.etcd.tls_key_file},
              {"username", c.etcd.username},  // the password is left out
              {"cluster_addr", c.cluster_addr},
              {"disable_clustering", false},
              {"redirect_addr", c.api_addr}};
}

}  // namespace

Json SanitizedConfig(const ServerConfig& c) {
  Json seal = c.seal.enabled ? Json{{"type", "static"}, {"disabled", false}} : Json{{"type", "shamir"}, {"disabled", false}};
  Json out{{"api_addr", c.api_addr},
              {"cluster_addr", c.cluster_addr},
              {"allow_audit_log_prefixing", c.allow_audit_log_prefixing},
              {"audit_file_dirs", c.audit_file_dirs},
              {"cache_size", c.cache_size},
              {"disable_cache", c.disable_cache},
              {"disable_mlock", c.disable_mlock},
              {"enable_core_dumps", c.enable_core_dumps},
              {"default_lease_ttl", c.default_lease_ttl * kNanos},
              {"max_lease_ttl", c.max_lease_ttl * kNanos},
              {"max_entry_size", c.max_entry_size},
              {"log_level", c.log_level},
              {"log_format", c.log_format},
              {"listeners", Json::array({Listener(c.listener)})},
              {"seals", Json::array({seal})},
              {"storage", Storage(c)},
              {"telemetry",
               {{"prometheus_retention_time", c.telemetry.prometheus_retention_s * kNanos},
                {"usage_gauge_period", c.telemetry.usage_gauge_period_s * kNanos},
                {"disable_hostname", c.telemetry.disable_hostname},
                {"filter_default", c.telemetry.filter_default}}}};
  if (c.service_registration.enabled) out["service_registration"] = Json{{"type", "kubernetes"}};
  return out;
}

}  // namespace sealbox::server
