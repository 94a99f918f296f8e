#include "api/envelope.h"

#include "api/api_handler.h"
#include "api/error_mapper.h"
#include "logical/response_json.h"

namespace sealbox::api {

namespace {

Json WrapInfoToJson(const logical::WrapInfo& w) {
  Json j = {{"token", w.token},
            {"accessor", w.accessor},
            {"ttl", w.ttl},
            {"creation_time", w.creation_time},
            {"creation_path", w.creation_path}};
  if (!w.wrapped_accessor.empty()) j["wrapped_accessor"] = w.wrapped_accessor;
  return j;
}

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
  if (resp.raw) {
    out.status = resp.raw->status;
    out.body = std::move(resp.raw->body);
    out.stream = std::move(resp.raw->stream);
    AddStandardHeaders(out, false);
    out.headers.emplace_back("Content-Type", std::move(resp.raw->content_type));
    // A download, as Vault's snapshot answer says.
    if (out.stream) out.headers.emplace_back("Content-Disposition", "attachment");
    return out;
  }
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
  // A wrapped response carries nothing but where its payload waits: Vault
  // sends it without a request id, mount type or warnings (those stay in
  // the wrapped payload and the audit log).
  // Member by member: an initializer list builds each pair as a Json array
  // first (a dozen allocations per response).
  const bool wrapped = resp.wrap_info.has_value();
  Json env = Json::object();
  auto& members = env.get_ref<Json::object_t&>();
  members.emplace("request_id", wrapped ? std::string() : req.id);
  members.emplace("lease_id", "");
  members.emplace("renewable", false);
  members.emplace("lease_duration", 0);
  for (const char* absent : {"data", "wrap_info", "warnings", "auth"}) members.emplace(absent, nullptr);
  members.emplace("mount_type", wrapped ? std::string() : req.mount_type);
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
  if (!resp.warnings.empty() && !wrapped) env["warnings"] = resp.warnings;
  if (resp.auth) env["auth"] = logical::AuthToJson(*resp.auth);
  if (resp.wrap_info) env["wrap_info"] = WrapInfoToJson(*resp.wrap_info);
  if (!resp.errors.empty()) env["errors"] = resp.errors;
  out.status = resp.http_status ? resp.http_status : 200;
  out.body = DumpJson(env);
  AddStandardHeaders(out, true);
  return out;
}

}  // namespace sealbox::api
