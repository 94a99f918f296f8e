#include "logical/response_json.h"

namespace sealbox::logical {
namespace {

std::vector<std::string> StringList(const Json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& s : v)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

std::string StringOf(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntOf(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool BoolOf(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

Auth AuthFromJson(const Json& j) {
  Auth a;
  a.client_token = StringOf(j, "client_token");
  a.accessor = StringOf(j, "accessor");
  a.policies = StringList(j.value("policies", Json()));
  a.token_policies = StringList(j.value("token_policies", Json()));
  a.identity_policies = StringList(j.value("identity_policies", Json()));
  a.metadata = j.value("metadata", Json());
  a.ttl = IntOf(j, "lease_duration");
  a.renewable = BoolOf(j, "renewable");
  a.entity_id = StringOf(j, "entity_id");
  a.token_type = StringOf(j, "token_type");
  a.orphan = BoolOf(j, "orphan");
  a.num_uses = static_cast<int>(IntOf(j, "num_uses"));
  return a;
}

}  // namespace

Json AuthToJson(const Auth& a) {
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

Json StoredEnvelope(const Response& resp) {
  Json env = {{"request_id", ""}, {"lease_id", ""},   {"renewable", false}, {"lease_duration", 0},
              {"data", nullptr},  {"wrap_info", nullptr}, {"warnings", nullptr}, {"auth", nullptr}};
  if (resp.data) env["data"] = *resp.data;
  if (resp.secret) {
    env["lease_id"] = resp.secret->lease_id;
    env["renewable"] = resp.secret->renewable;
    env["lease_duration"] = resp.secret->ttl;
  }
  if (!resp.warnings.empty()) env["warnings"] = resp.warnings;
  if (resp.auth) env["auth"] = AuthToJson(*resp.auth);
  return env;
}

Result<Response> ResponseFromEnvelope(const Json& env) {
  if (!env.is_object()) return Corruption("wrapped response malformed");
  Response r;
  r.replayed = true;
  if (auto it = env.find("data"); it != env.end() && !it->is_null()) r.data = *it;
  // KV v1 answers a lease_duration without a lease.
  std::string lease = StringOf(env, "lease_id");
  if (!lease.empty() || IntOf(env, "lease_duration") != 0 || BoolOf(env, "renewable")) {
    Secret s;
    s.lease_id = std::move(lease);
    s.ttl = IntOf(env, "lease_duration");
    s.renewable = BoolOf(env, "renewable");
    r.secret = std::move(s);
  }
  r.warnings = StringList(env.value("warnings", Json()));
  if (auto it = env.find("auth"); it != env.end() && it->is_object()) r.auth = AuthFromJson(*it);
  return r;
}

}  // namespace sealbox::logical
