#include "core/mount_table.h"

#include "base/crypto.h"

namespace sealbox::core {

std::string NewAccessor(const std::string& type, bool auth) {
  // Vault's shapes: auth_kubernetes_1a2b3c4d for auth methods, kv_1a2b3c4d for engines.
  return (auth ? "auth_" : "") + type + "_" + crypto::HexEncode(crypto::RandomBytes(4).view());
}

Json MountEntry::ToJson() const {
  return Json{{"path", path},
              {"type", type},
              {"description", description},
              {"uuid", uuid},
              {"accessor", accessor},
              {"local", local},
              {"seal_wrap", seal_wrap},
              {"external_entropy_access", external_entropy_access},
              {"options", options},
              {"auth", auth},
              {"config",
               {{"default_lease_ttl", config.default_lease_ttl},
                {"max_lease_ttl", config.max_lease_ttl},
                {"force_no_cache", config.force_no_cache},
                {"listing_visibility", config.listing_visibility},
                {"audit_non_hmac_request_keys", config.audit_non_hmac_request_keys},
                {"audit_non_hmac_response_keys", config.audit_non_hmac_response_keys},
                {"passthrough_request_headers", config.passthrough_request_headers},
                {"allowed_response_headers", config.allowed_response_headers},
                {"token_type", config.token_type}}}};
}

Result<MountEntry> MountEntry::FromJson(const Json& j) {
  MountEntry m;
  try {
    m.path = j.at("path").get<std::string>();
    m.type = j.at("type").get<std::string>();
    m.description = j.value("description", "");
    m.uuid = j.at("uuid").get<std::string>();
    m.accessor = j.value("accessor", "");
    m.local = j.value("local", false);
    m.seal_wrap = j.value("seal_wrap", false);
    m.external_entropy_access = j.value("external_entropy_access", false);
    m.options = j.value("options", Json(nullptr));
    m.auth = j.value("auth", false);
    const Json& c = j.at("config");
    m.config.default_lease_ttl = c.value("default_lease_ttl", int64_t{0});
    m.config.max_lease_ttl = c.value("max_lease_ttl", int64_t{0});
    m.config.force_no_cache = c.value("force_no_cache", false);
    m.config.listing_visibility = c.value("listing_visibility", "");
    m.config.audit_non_hmac_request_keys = c.value("audit_non_hmac_request_keys", std::vector<std::string>{});
    m.config.audit_non_hmac_response_keys = c.value("audit_non_hmac_response_keys", std::vector<std::string>{});
    m.config.passthrough_request_headers = c.value("passthrough_request_headers", std::vector<std::string>{});
    m.config.allowed_response_headers = c.value("allowed_response_headers", std::vector<std::string>{});
    m.config.token_type = c.value("token_type", "");
  } catch (const std::exception&) {
    return Corruption("mount table entry malformed");
  }
  return m;
}

namespace {
// Vault reports a deprecation status only for plugins in its builtin
// registry; its own system, cubbyhole, identity and token backends are not.
bool InBuiltinRegistry(const std::string& type) {
  return type != "system" && type != "cubbyhole" && type != "identity" && type != "token";
}
}  // namespace

Json MountEntry::ToApiJson() const {
  Json cfg = {{"default_lease_ttl", config.default_lease_ttl},
              {"max_lease_ttl", config.max_lease_ttl},
              {"force_no_cache", config.force_no_cache}};
  if (!config.listing_visibility.empty()) cfg["listing_visibility"] = config.listing_visibility;
  if (!config.audit_non_hmac_request_keys.empty())
    cfg["audit_non_hmac_request_keys"] = config.audit_non_hmac_request_keys;
  if (!config.audit_non_hmac_response_keys.empty())
    cfg["audit_non_hmac_response_keys"] = config.audit_non_hmac_response_keys;
  if (!config.passthrough_request_headers.empty())
    cfg["passthrough_request_headers"] = config.passthrough_request_headers;
  if (!config.allowed_response_headers.empty()) cfg["allowed_response_headers"] = config.allowed_response_headers;
  if (auth) cfg["token_type"] = config.token_type.empty() ? "default-service" : config.token_type;
  std::string version = "v0.1.0+builtin.sealbox";
  Json out = {{"type", type},
              {"description", description},
              {"accessor", accessor},
              {"local", local},
              {"seal_wrap", seal_wrap},
              {"external_entropy_access", external_entropy_access},
              {"options", options},
              {"uuid", uuid},
              {"plugin_version", ""},
              {"running_plugin_version", version},
              {"running_sha256", ""},
              {"config", cfg}};
  if (InBuiltinRegistry(type)) out["deprecation_status"] = "supported";
  return out;
}

}  // namespace sealbox::core
