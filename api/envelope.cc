#include "api/envelope.h"

#include "api/api_handler.h"
#include "api/error_mapper.h"

namespace sealbox::api {

Json AuthToJson(const logical::Auth& a) {
  Json j = {{"client_token", a.client_token},
            {"accessor", a.accessor},
            {"policies", a.policies},
            {"metadata", a.metadata},
            {"lease_duration", a.ttl},
            {"renewable", a.renewable},
            {"entity_id", a.entity_id},
            {"token_type", a.token_type},
            {"orphan", a.orphan},
            {"mfa_requirement", nullptr},
            {"num_uses", a.num_uses}};
  if (!a.token_policies.empty()) j["token_policies"] = a.token_policies;
  if (!a.identity_policies.empty()) j["identity_policies"] = a.identity_policies;
  return j;
}

namespace {

// Vault answers these from raw HTTP handlers: the body is the data itself.
// (OpenBao's authenticated sys/generate-root-token/* use the envelope.)
bool IsBareSysPath(std::string_view path) {
  for (std::string_view raw : {"sys/generate-root/", "sys/rekey/", "sys/rekey-recovery-key/"})
    if (path.substr(0, raw.size()) == raw) return true;
  return false;
}

}  // namespace

HttpResponse RenderResponse(const logical::Request& req, logical::Response&& resp) {
  using logical::Operation;
  HttpResponse out;
  // Path help is Vault's bare help document, not an envelope; so are the
  // answers of Vault's raw sys handlers.
  if ((req.op == Operation::kHelp || IsBareSysPath(req.original_path)) && resp.data) {
    out.body = DumpJson(*resp.data);
    AddStandardHeaders(out, true);
    return out;
  }
  bool is_read = req.op == Operation::kRead || req.op == Operation::kList;
  if (resp.IsEmpty()) {
    if (is_read) return ErrorResponse(404, "");
    out.status = 204;
    AddStandardHeaders(out, false);
    return out;
  }
  // A forced status with nothing else (Vault's RespondWithStatusCode(nil, code),
  // e.g. KV v2 PATCH of a missing key): that status with an empty body.
  if (resp.http_status != 0 && !resp.data && !resp.secret && !resp.auth && resp.warnings.empty() &&
      resp.errors.empty()) {
    out.status = resp.http_status;
    AddStandardHeaders(out, false);
    return out;
  }
  if (req.op == Operation::kList && resp.http_status == 0 && resp.warnings.empty()) {
    bool has_keys = resp.data && resp.data->is_object() && resp.data->contains("keys") &&
                    (*resp.data)["keys"].is_array() && !(*resp.data)["keys"].empty();
    if (!has_keys) return ErrorResponse(404, "");
  }
  Json env = {{"request_id", req.id},
              {"lease_id", ""},
              {"renewable", false},
              {"lease_duration", 0},
              {"data", nullptr},
              {"wrap_info", nullptr},
              {"warnings", nullptr},
              {"auth", nullptr},
              {"mount_type", req.mount_type}};
  if (resp.inject_top_level && resp.data && resp.data->is_object()) {
    for (auto& [k, v] : resp.data->items())
      if (!env.contains(k)) env[k] = v;
  }
  if (resp.data) env["data"] = std::move(*resp.data);
  if (resp.secret) {
    env["lease_id"] = resp.secret->lease_id;
    env["renewable"] = resp.secret->renewable;
    env["lease_duration"] = resp.secret->ttl;
  }
  if (!resp.warnings.empty()) env["warnings"] = resp.warnings;
  if (resp.auth) env["auth"] = AuthToJson(*resp.auth);
  if (!resp.errors.empty()) env["errors"] = resp.errors;
  out.status = resp.http_status ? resp.http_status : 200;
  out.body = DumpJson(env);
  AddStandardHeaders(out, true);
  return out;
}

}  // namespace sealbox::api
