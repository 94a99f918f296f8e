#include "auth/kubernetes/kubernetes_backend.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "auth/jws.h"
#include "auth/kubernetes/login_checks.h"
#include "auth/kubernetes/selector_yaml.h"
#include "auth/token_fields.h"
#include "base/log.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::auth::k8s {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

// The pre-tokenutil names Vault's Kubernetes roles still accept.
const DeprecatedTokenFields kDeprecatedTokenFields = {"policies", "ttl", "max_ttl", "period", "num_uses", "bound_cidrs"};

constexpr const char* kLocalTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
constexpr const char* kLocalCaFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class KubernetesBackend final : public logical::RoutedBackend {
 public:
  KubernetesBackend(const logical::BackendConfig& cfg, std::shared_ptr<HttpClient> client)
      : clock_(cfg.clock ? cfg.clock : SystemClock::Default()), client_(std::move(client)) {
    std::vector<logical::FieldSpec> role_fields = {
        {"name"},
        {"bound_service_account_names", FieldType::kStringList},
        {"bound_service_account_namespaces", FieldType::kStringList},
        {"bound_service_account_namespace_selector"},
        {"audience"},
        {"alias_name_source", FieldType::kString, "serviceaccount_uid"}};
    for (auto& spec : TokenFieldSpecs(kDeprecatedTokenFields)) role_fields.push_back(std::move(spec));
    SetRoutes({
        {.pattern = "config",
         .fields = {{"kubernetes_host"},
                    {"kubernetes_ca_cert"},
                    {"token_reviewer_jwt"},
                    {"pem_keys", FieldType::kStringList},
                    {"issuer"},
                    {"disable_iss_validation", FieldType::kBool, true},
                    {"disable_local_ca_jwt", FieldType::kBool, false},
                    {"use_annotations_as_alias_metadata", FieldType::kBool, false}},
         .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return ReadConfig(r, f); }},
                 {Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteConfig(r, f); }}}},
        {.pattern = "role/",
         .ops = {{Operation::kList, [this](Request& r, FieldData& f) { return ListRoles(r, f); }}}},
        {.pattern = "role/{name}",
         .fields = role_fields,
         .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return ReadRole(r, f); }},
                 {Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteRole(r, f); }},
                 {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteRole(r, f); }}}},
        {.pattern = "login",
         .fields = {{"role"}, {"jwt"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return Login(r, f); }},
                 {Operation::kRenew, [this](Request& r, FieldData&) { return LoginRenew(r); }}}},
    });
    SetSpecialPaths({.root = {}, .unauthenticated = {"login"}});
  }

 private:
  // ---- config ----
  Result<Response> WriteConfig(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string host, f.GetString("kubernetes_host"));
    if (host.empty()) return InvalidArgument("no host provided");
    SB_ASSIGN_OR_RETURN(std::string ca, f.GetString("kubernetes_ca_cert"));
    if (!ca.empty() && SplitPemBlocks(ca).empty())
      return InvalidArgument("The provided CA PEM data contains no valid certificates");
    SB_ASSIGN_OR_RETURN(std::vector<std::string> pem_keys, f.GetStringList("pem_keys"));
    Json cfg = {{"kubernetes_host", host}, {"kubernetes_ca_cert", ca}, {"pem_keys", pem_keys}};
    SB_ASSIGN_OR_RETURN(std::string jwt, f.GetString("token_reviewer_jwt"));
    cfg["token_reviewer_jwt"] = jwt;
    SB_ASSIGN_OR_RETURN(std::string issuer, f.GetString("issuer"));
    cfg["issuer"] = issuer;
    for (const char* b : {"disable_iss_validation", "disable_local_ca_jwt", "use_annotations_as_alias_metadata"}) {
      SB_ASSIGN_OR_RETURN(bool v, f.GetBool(b));
      cfg[b] = v;
    }
    SB_RETURN_IF_ERROR(req.storage->Put("config", cfg.dump()));
    return Response::Empty();
  }

  // The config or a role as stored, parsed. Every call reads storage (so a
  // write through sys/raw or a restore is seen at once); only the JSON parse
  // is skipped while the stored bytes are those parsed last time — a login
  // reads both, and the config carries the CA and reviewer JWT. Null when
  // absent. Dropped on seal and unmount (Cleanup).
  Result<std::shared_ptr<const Json>> LoadParsed(Storage* s, const std::string& key, const char* what) {
    SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
    if (!raw) return std::shared_ptr<const Json>();
    {
      std::lock_guard l(parsed_mu_);
      auto it = parsed_.find(key);
      if (it != parsed_.end() && it->second.raw == *raw) return it->second.json;
    }
    auto j = std::make_shared<const Json>(Json::parse(*raw, nullptr, false));
    if (!j->is_object()) return Corruption(std::string("kubernetes ") + what + " malformed");
    std::lock_guard l(parsed_mu_);
    if (parsed_.size() >= kParsedCacheMax && !parsed_.count(key)) ClearParsedLocked();
    ParsedEntry& e = parsed_[key];
    std::fill(e.raw.begin(), e.raw.end(), '\0');  // the config holds credentials
    e = ParsedEntry{std::move(*raw), j};
    return j;
  }

  void ClearParsedLocked() {
    for (auto& [k, e] : parsed_) std::fill(e.raw.begin(), e.raw.end(), '\0');
    parsed_.clear();
  }

  // A login names its role in the body.
  Result<std::string> QuotaRole(Request& req) override {
    if (req.path != "login" || !req.data.is_object()) return std::string();
    auto it = req.data.find("role");
    return it != req.data.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  void Cleanup() override {
    std::lock_guard l(parsed_mu_);
    ClearParsedLocked();
  }

  Result<std::shared_ptr<const Json>> ConfigShared(Storage* s) { return LoadParsed(s, "config", "config"); }
  Result<std::shared_ptr<const Json>> RoleShared(Storage* s, const std::string& name) {
    return LoadParsed(s, "role/" + Lower(name), "role");
  }

  Result<Json> LoadConfig(Storage* s) {
    SB_ASSIGN_OR_RETURN(auto j, ConfigShared(s));
    return j ? *j : Json(nullptr);
  }

  Result<Response> ReadConfig(Request& req, FieldData&) {
    SB_ASSIGN_OR_RETURN(Json cfg, LoadConfig(req.storage));
    if (cfg.is_null()) return Response::Empty();
    // The reviewer JWT is a credential: say whether it is set, never what it is.
    cfg["token_reviewer_jwt_set"] = !cfg.value("token_reviewer_jwt", "").empty();
    cfg.erase("token_reviewer_jwt");
    return Response::WithData(cfg);
  }

  // ---- roles ----
  Result<Response> ListRoles(Request& req, FieldData&) {
    SB_ASSIGN_OR_RETURN(auto keys, req.storage->List("role/"));
    return Response::WithData(Json{{"keys", keys}});
  }

  Result<Response> WriteRole(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
    name = Lower(name);
    Json role = Json::object();
    std::vector<std::string> warnings;
    SB_ASSIGN_OR_RETURN(auto names, f.GetStringList("bound_service_account_names"));
    if (names.empty()) return InvalidArgument("\"bound_service_account_names\" can not be empty");
    if (names.size() > 1 && std::find(names.begin(), names.end(), "*") != names.end())
      return InvalidArgument("can not mix \"*\" with values");
    SB_ASSIGN_OR_RETURN(auto namespaces, f.GetStringList("bound_service_account_namespaces"));
    if (namespaces.size() > 1 && std::find(namespaces.begin(), namespaces.end(), "*") != namespaces.end())
      return InvalidArgument("can not mix \"*\" with values");
    Json selector = nullptr;
    const Json& sel_raw = f.Get("bound_service_account_namespace_selector");
    if (sel_raw.is_string() && !sel_raw.get<std::string>().empty()) {
      SB_ASSIGN_OR_RETURN(selector, ParseLabelSelector(sel_raw.get<std::string>()));
    } else if (sel_raw.is_object()) {
      selector = sel_raw;
    }
    if (!selector.is_null()) SB_RETURN_IF_ERROR(SelectorMatches(selector, Json::object()).status());
    if (namespaces.empty() && selector.is_null())
      return InvalidArgument(
          "\"bound_service_account_namespaces\" can not be empty if \"bound_service_account_namespace_selector\" "
          "is not set");
    SB_ASSIGN_OR_RETURN(std::string audience, f.GetString("audience"));
    if (audience.empty())
      warnings.push_back("This role does not have an audience. In Vault v1.21+, specifying an audience on roles "
                         "will be required.");
    SB_ASSIGN_OR_RETURN(std::string alias_source, f.GetString("alias_name_source"));
    if (alias_source != "serviceaccount_uid" && alias_source != "serviceaccount_name")
      return InvalidArgument("invalid alias_name_source, must be one of: serviceaccount_uid, serviceaccount_name");
    TokenParams token;
    SB_RETURN_IF_ERROR(ParseTokenFields(f, kDeprecatedTokenFields, &token, &warnings));
    role = {{"bound_service_account_names", names},
            {"bound_service_account_namespaces", namespaces},
            {"bound_service_account_namespace_selector", selector},
            {"audience", audience},
            {"alias_name_source", alias_source}};
    PopulateTokenData(token, &role);
    SB_RETURN_IF_ERROR(req.storage->Put("role/" + name, role.dump()));
    if (warnings.empty()) return Response::Empty();
    Response r;
    r.warnings = warnings;
    return r;
  }

  Result<Json> LoadRole(Storage* s, const std::string& name) {
    SB_ASSIGN_OR_RETURN(auto j, RoleShared(s, name));
    return j ? *j : Json(nullptr);
  }

  Result<Response> ReadRole(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
    SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, name));
    if (role.is_null()) return Response::Empty();
    if (role["audience"].get<std::string>().empty()) role.erase("audience");
    if (role["bound_service_account_namespace_selector"].is_null())
      role["bound_service_account_namespace_selector"] = "";
    else
      role["bound_service_account_namespace_selector"] = role["bound_service_account_namespace_selector"].dump();
    return Response::WithData(role);
  }

  Result<Response> DeleteRole(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, f.GetString("name"));
    SB_RETURN_IF_ERROR(req.storage->Delete("role/" + Lower(name)));
    return Response::Empty();
  }

  // ---- login ----
  Result<HttpClientResponse> CallApi(const Json& cfg, const std::string& method, const std::string& path,
                                     const std::string& bearer, const std::string& body) {
    HttpClientRequest hr;
    hr.method = method;
    std::string host = cfg.value("kubernetes_host", "");
    while (!host.empty() && host.back() == '/') host.pop_back();
    hr.url = host + path;
    hr.headers = {{"Authorization", "Bearer " + bearer}, {"Accept", "application/json"}};
    if (!body.empty()) hr.headers.emplace_back("Content-Type", "application/json");
    hr.body = body;
    hr.timeout_ms = 5000;
    hr.replayable = true;  // reviews and reads: nothing happens twice
    hr.tls.ca_pem = cfg.value("kubernetes_ca_cert", "");
    if (hr.tls.ca_pem.empty() && !cfg.value("disable_local_ca_jwt", false)) {
      std::string local = ReadFile(kLocalCaFile);
      if (!local.empty()) hr.tls.ca_pem = local;
    }
    return client_->Do(hr);
  }

  std::string ReviewerToken(const Json& cfg, const std::string& client_jwt) {
    std::string configured = cfg.value("token_reviewer_jwt", "");
    if (!configured.empty()) return configured;
    if (!cfg.value("disable_local_ca_jwt", false)) {
      std::string local = ReadFile(kLocalTokenFile);
      while (!local.empty() && (local.back() == '\n' || local.back() == '\r')) local.pop_back();
      if (!local.empty()) return local;
    }
    return client_jwt;  // the client's own JWT: its SA needs system:auth-delegator
  }

  // Whether namespace `ns` has labels matching `selector` (asks the API;
  // any failure is a no).
  bool NamespaceSelected(const Json& cfg, const std::string& reviewer, const std::string& ns, const Json& selector) {
    auto r = CallApi(cfg, "GET", "/api/v1/namespaces/" + ns, reviewer, "");
    if (!r.ok() || r->status != 200) return false;
    Json nsobj = Json::parse(r->body, nullptr, false);
    Json labels = nsobj.is_object() && nsobj.contains("metadata") && nsobj["metadata"].is_object()
                      ? nsobj["metadata"].value("labels", Json::object())
                      : Json::object();
    auto m = SelectorMatches(selector, labels);
    return m.ok() && *m;
  }

  // The ServiceAccount's annotations named "vault.hashicorp.com/alias-metadata-<key>",
  // as {key: value}, fetched with the reviewer token (Vault's
  // serviceAccountGetter). As in vault-plugin-auth-kubernetes, a failed GET
  // (unreachable, 403, 404, or any other non-200 Status) fails the login
  // with an internal error (500; the cause is logged), and a key that names a
  // default alias-metadata key fails it with 400. Values longer than Vault's
  // alias-metadata value limit (512 bytes) fail it with 400 too.
  Result<Json> AliasMetadataAnnotations(const Json& cfg, const std::string& reviewer, const std::string& ns,
                                        const std::string& name) {
    static constexpr std::string_view kPrefix = "vault.hashicorp.com/alias-metadata-";
    static constexpr size_t kMaxValue = 512;
    auto r = CallApi(cfg, "GET", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name, reviewer, "");
    if (!r.ok()) return Internal("kubernetes: service account lookup failed: " + r.status().message());
    Json body = Json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      if (!body.is_object())
        return Internal("kubernetes: failed to parse error status on service account retrieval failure (HTTP " +
                        std::to_string(r->status) + ")");
      if (body.value("status", "") != "Success")
        return Internal("kubernetes: failed to get service account (code " + std::to_string(r->status) +
                        " status " + body.value("message", "") + ")");
    }
    if (!body.is_object()) return Internal("kubernetes: service account answer malformed");
    static const Json kNone = Json::object();
    auto meta_it = body.find("metadata");
    const Json& meta = meta_it != body.end() && meta_it->is_object() ? *meta_it : kNone;
    auto ann_it = meta.find("annotations");
    const Json& annotations = ann_it != meta.end() && ann_it->is_object() ? *ann_it : kNone;
    Json out = Json::object();
    std::vector<std::string> reserved;
    std::string too_long;
    for (const auto& [k, v] : annotations.items()) {
      if (!std::string_view(k).starts_with(kPrefix) || !v.is_string()) continue;
      std::string key = k.substr(kPrefix.size());
      if (key == "service_account_uid" || key == "service_account_name" || key == "service_account_namespace" ||
          key == "service_account_secret_name") {
        reserved.push_back(key);
        continue;
      }
      if (v.get_ref<const std::string&>().size() > kMaxValue && too_long.empty()) too_long = key;
      out[key] = v;
    }
    if (!reserved.empty()) {
      std::string keys;
      for (const auto& k : reserved) keys += (keys.empty() ? "\"" : " \"") + k + "\"";
      return InvalidArgument(
          "entity alias metadata keys for only internal use found from the client token's associated service "
          "account annotations: keys=[" + keys + "]");
    }
    if (!too_long.empty())
      return InvalidArgument("alias metadata value for key \"" + too_long + "\" exceeds 512 characters");
    return out;
  }

  // A token renewal (routed here by core with the token's metadata): the
  // role must still exist with the same policies, still bind the service
  // account, and the service account must be the same object — deleted and
  // recreated under the same name (a new UID) is someone else
  // (CVE-2026-39388 pattern). Without a reviewer token the API check is
  // skipped, as there is nothing to authenticate the lookup with.
  Result<Response> LoginRenew(Request& req) {
    const Json meta = req.data.is_object() ? req.data.value("metadata", Json::object()) : Json::object();
    const std::string role_name = meta.value("role", ""), name = meta.value("service_account_name", ""),
                      ns = meta.value("service_account_namespace", ""), uid = meta.value("service_account_uid", "");
    SB_ASSIGN_OR_RETURN(Json role, LoadRole(req.storage, role_name));
    if (role.is_null()) return InvalidArgument("role \"" + role_name + "\" no longer exists, not renewing");
    auto without_default = [](std::vector<std::string> v) {
      v.erase(std::remove(v.begin(), v.end(), "default"), v.end());
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    };
    auto had = req.data.value("policies", std::vector<std::string>{});
    if (without_default(had) != without_default(role.value("token_policies", std::vector<std::string>{})))
      return InvalidArgument("policies have changed, not renewing");
    auto names = role.value("bound_service_account_names", std::vector<std::string>{});
    bool name_ok = names.size() == 1 && names[0] == "*";
    for (const auto& n : names) name_ok = name_ok || GlobMatch(n, name);
    bool ns_ok = false;
    for (const auto& n : role.value("bound_service_account_namespaces", std::vector<std::string>{}))
      ns_ok = ns_ok || GlobMatch(n, ns);
    // A namespace selector is re-evaluated by the UID check's API access below.
    if (!ns_ok && role["bound_service_account_namespace_selector"].is_object()) ns_ok = true;
    if (!name_ok || !ns_ok || name.empty() || ns.empty())
      return PermissionDenied("service account is no longer bound to the role, not renewing");

    SB_ASSIGN_OR_RETURN(Json cfg, LoadConfig(req.storage));
    if (cfg.is_null()) return Internal("could not load backend configuration");
    std::string reviewer = ReviewerToken(cfg, "");
    if (reviewer.empty() || uid.empty()) return RenewalResponse(TokenParamsFromJson(role));
    auto r = CallApi(cfg, "GET", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name, reviewer, "");
    if (!r.ok()) {
      log::Warn("kubernetes: renewal: service account lookup failed: " + r.status().message());
      return PermissionDenied();  // cannot confirm the identity: fail closed
    }
    if (r->status == 404) return PermissionDenied("service account no longer exists, not renewing");
    if (r->status != 200) {
      log::Warn("kubernetes: renewal: service account lookup returned HTTP " + std::to_string(r->status));
      return PermissionDenied();
    }
    Json sa = Json::parse(r->body, nullptr, false);
    std::string current_uid = sa.is_object() && sa.contains("metadata") && sa["metadata"].is_object()
                                  ? sa["metadata"].value("uid", "")
                                  : "";
    if (current_uid != uid)
      return PermissionDenied("service account was recreated (its UID changed), not renewing");
    if (role["bound_service_account_namespace_selector"].is_object()) {
      bool listed = false;
      for (const auto& n : role.value("bound_service_account_namespaces", std::vector<std::string>{}))
        listed = listed || GlobMatch(n, ns);
      if (!listed && !NamespaceSelected(cfg, reviewer, ns, role["bound_service_account_namespace_selector"]))
        return PermissionDenied("namespace no longer matches the role's selector, not renewing");
    }
    return RenewalResponse(TokenParamsFromJson(role));
  }

  // A login, in steps: the role and config; the JWT checked locally (cheap,
  // and it keeps garbage away from the API server); the service account
  // bound by the role; the API server's TokenReview; the Auth.
  Result<Response> Login(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string role_name, f.GetString("role"));
    SB_ASSIGN_OR_RETURN(std::string token, f.GetString("jwt"));
    if (role_name.empty()) return InvalidArgument("missing role");
    if (token.empty()) return InvalidArgument("missing jwt");
    SB_ASSIGN_OR_RETURN(auto role_ptr, RoleShared(req.storage, role_name));
    if (!role_ptr) return InvalidArgument("invalid role name \"" + Lower(role_name) + "\"");
    const Json& role = *role_ptr;
    const TokenParams token_params = TokenParamsFromJson(role);
    if (!token_params.bound_cidrs.empty() && !IpInCidrs(req.remote_addr, token_params.bound_cidrs))
      return PermissionDenied();
    SB_ASSIGN_OR_RETURN(auto cfg_ptr, ConfigShared(req.storage));
    if (!cfg_ptr) return Internal("could not load backend configuration");
    const Json& cfg = *cfg_ptr;

    SB_ASSIGN_OR_RETURN(Json claims, VerifiedClaims(cfg, token));
    const std::vector<std::string> token_aud = Audiences(claims);
    const std::string audience = role.value("audience", "");
    SB_RETURN_IF_ERROR(CheckClaims(claims, cfg, audience, token_aud, clock_->NowSeconds()));
    const ServiceAccountClaims c = ExtractClaims(claims);
    const std::string reviewer = ReviewerToken(cfg, token);
    SB_RETURN_IF_ERROR(CheckBinding(cfg, role, reviewer, c));

    // TokenReview: only the API server's answer is trusted (CVE-2020-16250).
    const std::vector<std::string> want_aud = audience.empty() ? token_aud : std::vector<std::string>{audience};
    auto r = CallApi(cfg, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer,
                     TokenReviewBody(token, want_aud));
    if (!r.ok()) {
      log::Warn("kubernetes: TokenReview failed: " + r.status().message());
      return PermissionDenied();
    }
    SB_RETURN_IF_ERROR(CheckTokenReview(r->status, r->body, want_aud, c));
    return LoginResponse(cfg, role, role_name, reviewer, c, token_params);
  }

  // The JWT's claims, once it parses and (when the config has keys) its
  // signature verifies; Vault's plugin answers any unparsable token as a
  // failed signature check.
  Result<Json> VerifiedClaims(const Json& cfg, const std::string& token) {
    auto jwt = ParseJwt(token);
    if (!jwt.ok()) return PermissionDenied();
    auto pem_keys = cfg.value("pem_keys", std::vector<std::string>{});
    if (!pem_keys.empty()) {
      std::vector<std::string> blocks;
      for (const auto& k : pem_keys)
        for (auto& b : SplitPemBlocks(k)) blocks.push_back(b);
      if (!VerifyJwtSignature(*jwt, blocks).ok()) return PermissionDenied();
    }
    return std::move(jwt->claims);
  }

  // The role binds the service account: its name, and its namespace by name
  // or (asking the API) by the role's label selector.
  Status CheckBinding(const Json& cfg, const Json& role, const std::string& reviewer, const ServiceAccountClaims& c) {
    auto names = role.value("bound_service_account_names", std::vector<std::string>{});
    bool name_ok = names.size() == 1 && names[0] == "*";
    for (const auto& n : names) name_ok = name_ok || GlobMatch(n, c.name);
    if (!name_ok || c.name.empty()) return PermissionDenied("service account name not authorized");
    auto namespaces = role.value("bound_service_account_namespaces", std::vector<std::string>{});
    bool ns_ok = false;
    for (const auto& n : namespaces) ns_ok = ns_ok || GlobMatch(n, c.ns);
    static const Json kNoSelector;
    auto sel_it = role.find("bound_service_account_namespace_selector");
    const Json& selector = sel_it != role.end() ? *sel_it : kNoSelector;
    if (!ns_ok && selector.is_object() && !c.ns.empty()) ns_ok = NamespaceSelected(cfg, reviewer, c.ns, selector);
    if (!ns_ok || c.ns.empty()) return PermissionDenied("namespace not authorized");
    if (c.uid.empty()) return Internal("could not parse UID from claims");
    return Status::Ok();
  }

  // The Auth of a login that passed every check.
  Result<Response> LoginResponse(const Json& cfg, const Json& role, const std::string& role_name,
                                 const std::string& reviewer, const ServiceAccountClaims& c,
                                 const TokenParams& token_params) {
    // Alias metadata: the ServiceAccount's alias-metadata annotations when
    // configured, then the four default keys (vault-plugin-auth-kubernetes).
    Json alias_metadata = Json::object();
    if (cfg.value("use_annotations_as_alias_metadata", false)) {
      SB_ASSIGN_OR_RETURN(alias_metadata, AliasMetadataAnnotations(cfg, reviewer, c.ns, c.name));
    }
    alias_metadata["service_account_uid"] = c.uid;
    alias_metadata["service_account_name"] = c.name;
    alias_metadata["service_account_namespace"] = c.ns;
    alias_metadata["service_account_secret_name"] = c.secret_name;

    logical::Auth a;
    a.alias_metadata = std::move(alias_metadata);
    PopulateTokenAuth(token_params, &a);
    a.metadata = {{"role", role_name},  // as submitted, as Vault
                  {"service_account_name", c.name},
                  {"service_account_namespace", c.ns},
                  {"service_account_secret_name", c.secret_name},
                  {"service_account_uid", c.uid}};
    a.display_name = c.ns + "-" + c.name;
    a.alias_name = role.value("alias_name_source", "serviceaccount_uid") == "serviceaccount_name"
                       ? c.ns + "/" + c.name
                       : c.uid;
    a.internal_data = {{"role", Lower(role_name)}, {"service_account_uid", c.uid}};
    Response resp;
    resp.auth = std::move(a);
    return resp;
  }

  struct ParsedEntry {
    std::string raw;
    std::shared_ptr<const Json> json;
  };
  static constexpr size_t kParsedCacheMax = 4096;

  const Clock* clock_;
  std::shared_ptr<HttpClient> client_;
  std::mutex parsed_mu_;
  std::unordered_map<std::string, ParsedEntry> parsed_;  // guarded by parsed_mu_
};

}  // namespace

logical::BackendFactory Factory(std::shared_ptr<HttpClient> client) {
  return [client](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new KubernetesBackend(cfg, client));
  };
}

}  // namespace sealbox::auth::k8s
