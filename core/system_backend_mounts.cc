// sys/mounts (list, enable, read, disable, tune), sys/remount and
// sys/internal/ui/mounts (contract core-sys-token-acl-audit.md §3.1-3.2).
//
// Routes are matched against the path relative to sys/. The tune endpoint
// shares the `mounts/{path:+}` pattern (the pattern syntax only allows a
// trailing wildcard), so its handlers dispatch on a "/tune" suffix, which is
// what Vault's first-declared `mounts/(?P<path>.+?)/tune$` does.
#include <algorithm>
#include <deque>
#include <mutex>

#include "auth/acl.h"
#include "base/crypto.h"
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

// Mount paths nobody may mount at or under (Vault's protectedMounts).
constexpr const char* kProtectedMountPrefixes[] = {"sys/", "auth/", "cubbyhole/", "identity/", "audit/"};
// Built-in mounts that cannot be unmounted or moved.
constexpr const char* kBuiltinMounts[] = {"sys/", "cubbyhole/", "identity/", "auth/token/"};
// Types that only exist as the built-ins above.
constexpr const char* kSingletonTypes[] = {"system", "token", "identity", "cubbyhole"};

std::string WithSlash(std::string p) {
  if (p.empty() || p.back() != '/') p += '/';
  return p;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool IsBuiltin(const std::string& route) {
  return std::any_of(std::begin(kBuiltinMounts), std::end(kBuiltinMounts),
                     [&](const char* b) { return route == b; });
}

bool IsProtected(const std::string& route) {
  return std::any_of(std::begin(kProtectedMountPrefixes), std::end(kProtectedMountPrefixes),
                     [&](const char* p) { return StartsWith(route, p); });
}

// "mounts/<path>/tune" → true and `*mount` = "<path>/".
bool SplitTune(const std::string& captured, std::string* mount) {
  constexpr std::string_view kSuffix = "/tune";
  if (captured.size() > kSuffix.size() &&
      std::string_view(captured).substr(captured.size() - kSuffix.size()) == kSuffix) {
    *mount = WithSlash(captured.substr(0, captured.size() - kSuffix.size()));
    return true;
  }
  *mount = WithSlash(captured);
  return false;
}

// A TTL given as a duration string, integer seconds or "system" (0: the
// system default).
Result<int64_t> ParseTtl(const Json& v, const std::string& name) {
  if (v.is_string() && v.get_ref<const std::string&>() == "system") return int64_t{0};
  auto r = JsonToDurationSeconds(v);
  if (!r.ok() || *r < 0) return InvalidArgument("unable to parse " + name);
  return *r;
}

// Mount options: a string map (values weakly converted, as Vault's
// TypeKVPairs), or null.
Result<Json> ParseOptions(const Json& v) {
  if (v.is_null()) return Json(nullptr);
  if (!v.is_object()) return InvalidArgument("error converting input for field \"options\": expected a map");
  Json out = Json::object();
  for (auto& [k, val] : v.items()) {
    if (val.is_object() || val.is_array())
      return InvalidArgument("error converting input for field \"options\": values must be strings");
    auto s = JsonToString(val);
    if (!s.ok()) return InvalidArgument("error converting input for field \"options\": values must be strings");
    out[k] = *s;
  }
  return out;
}

std::string OptionVersion(const Json& options) {
  if (!options.is_object()) return "";
  auto it = options.find("version");
  return it != options.end() && it->is_string() ? it->get<std::string>() : "";
}

Status ValidateListingVisibility(const std::string& v) {
  if (v.empty() || v == "unauth" || v == "hidden") return Status::Ok();
  return InvalidArgument("invalid listing_visibility " + v);
}

// The optional MountConfig fields shared by enable (inside `config`) and tune
// (top level); absent or null fields keep their value, and so does an empty
// TTL, as in Vault's tune (the Go client's TuneMount always sends both TTLs).
Status ApplyConfigFields(const Json& src, bool is_auth, MountConfig* c) {
  auto has = [&](const char* k) { return src.is_object() && src.contains(k) && !src[k].is_null(); };
  auto has_ttl = [&](const char* k) { return has(k) && src[k] != Json(""); };
  if (has_ttl("default_lease_ttl")) {
    SB_ASSIGN_OR_RETURN(c->default_lease_ttl, ParseTtl(src["default_lease_ttl"], "default lease TTL"));
  }
  if (has_ttl("max_lease_ttl")) {
    SB_ASSIGN_OR_RETURN(c->max_lease_ttl, ParseTtl(src["max_lease_ttl"], "max lease TTL"));
  }
  if (has("force_no_cache")) {
    auto b = JsonToBool(src["force_no_cache"]);
    if (!b.ok()) return InvalidArgument("error converting input for field \"force_no_cache\": expected a boolean");
    c->force_no_cache = *b;
  }
  if (has("listing_visibility")) {
    SB_ASSIGN_OR_RETURN(std::string lv, JsonToString(src["listing_visibility"]));
    SB_RETURN_IF_ERROR(ValidateListingVisibility(lv));
    c->listing_visibility = lv;
  }
  struct ListField {
    const char* name;
    std::vector<std::string>* out;
  };
  for (const ListField& f : {ListField{"audit_non_hmac_request_keys", &c->audit_non_hmac_request_keys},
                             ListField{"audit_non_hmac_response_keys", &c->audit_non_hmac_response_keys},
                             ListField{"passthrough_request_headers", &c->passthrough_request_headers},
                             ListField{"allowed_response_headers", &c->allowed_response_headers}}) {
    if (!has(f.name)) continue;
    auto l = JsonToStringList(src[f.name]);
    if (!l.ok())
      return InvalidArgument(std::string("error converting input for field \"") + f.name + "\": expected a list");
    *f.out = std::move(l).value();
  }
  if (has("token_type")) {
    SB_ASSIGN_OR_RETURN(std::string tt, JsonToString(src["token_type"]));
    if (!is_auth) return InvalidArgument("'token_type' can only be modified on auth mounts");
    if (tt != "default-service" && tt != "default-batch" && tt != "service" && tt != "batch")
      return InvalidArgument("invalid value for 'token_type'");
    c->token_type = tt;
  }
  return Status::Ok();
}

// An unset default is capped by the max (EntryMountView), so only an
// explicit default above the effective max is an error.
Status CheckTtls(const MountConfig& c, int64_t sys_max) {
  int64_t max = c.max_lease_ttl ? c.max_lease_ttl : sys_max;
  if (c.default_lease_ttl && c.default_lease_ttl > max)
    return InvalidArgument("given default lease TTL greater than given max lease TTL");
  return Status::Ok();
}

std::vector<FieldSpec> MountFields() {
  std::vector<FieldSpec> f;
  for (const char* n : {"path", "type", "description", "plugin_name", "plugin_version", "listing_visibility",
                        "token_type", "identity_token_key"})
    f.push_back({n, FieldType::kString});
  for (const char* n : {"config", "options", "user_lockout_config"}) f.push_back({n, FieldType::kMap});
  for (const char* n : {"local", "seal_wrap", "external_entropy_access", "force_no_cache"})
    f.push_back({n, FieldType::kBool});
  for (const char* n : {"default_lease_ttl", "max_lease_ttl"}) f.push_back({n, FieldType::kAny});
  for (const char* n : {"audit_non_hmac_request_keys", "audit_non_hmac_response_keys", "passthrough_request_headers",
                        "allowed_response_headers", "allowed_managed_keys", "delegated_auth_accessors"})
    f.push_back({n, FieldType::kStringList});
  return f;
}

}  // namespace

std::vector<PathSpec> SystemBackend::MountRoutes() {
  std::vector<PathSpec> r;
  auto list = [this](Request&, FieldData&) -> Result<Response> {
    Json d = Json::object();
    for (const auto& e : core_->router().All())
      if (!e->mount.auth) d[e->mount.RoutePath()] = e->mount.ToApiJson();
    Response resp = Response::WithData(std::move(d));
    resp.inject_top_level = true;
    return resp;
  };
  r.push_back({.pattern = "mounts", .ops = {{Operation::kRead, list}}});
  r.push_back({.pattern = "mounts/", .ops = {{Operation::kRead, list}}});
  auto h = [this](Result<Response> (SystemBackend::*fn)(Request&, FieldData&)) {
    return [this, fn](Request& req, FieldData& fd) { return (this->*fn)(req, fd); };
  };
  r.push_back({.pattern = "mounts/{path:+}",
               .fields = MountFields(),
               .ops = {{Operation::kRead, h(&SystemBackend::ReadMount)},
                       {Operation::kUpdate, h(&SystemBackend::WriteMount)},
                       {Operation::kDelete, h(&SystemBackend::DisableMountPath)}}});
  for (auto& route : RemountRoutes()) r.push_back(std::move(route));
  for (auto& route : UiMountRoutes()) r.push_back(std::move(route));
  return r;
}

// sys/mounts/<path>/tune (read) or sys/mounts/<path> (the mount's entry).
Result<Response> SystemBackend::ReadMount(Request&, FieldData& fd) {
  std::string path;
  if (SplitTune(fd.Get("path").get<std::string>(), &path)) {
    auto e = core_->router().Match(path);
    if (!e) return InvalidArgument("cannot fetch sysview for path \"" + path + "\"");
    const MountConfig& c = e->mount.config;
    Json d = {{"description", e->mount.description},
              {"default_lease_ttl", e->mount_view->DefaultLeaseTtl()},
              {"max_lease_ttl", e->mount_view->MaxLeaseTtl()},
              {"force_no_cache", c.force_no_cache}};
    if (!e->mount.options.empty()) d["options"] = e->mount.options;  // tune lists options only when set
    if (!c.listing_visibility.empty()) d["listing_visibility"] = c.listing_visibility;
    if (!c.audit_non_hmac_request_keys.empty()) d["audit_non_hmac_request_keys"] = c.audit_non_hmac_request_keys;
    if (!c.audit_non_hmac_response_keys.empty()) d["audit_non_hmac_response_keys"] = c.audit_non_hmac_response_keys;
    if (!c.passthrough_request_headers.empty()) d["passthrough_request_headers"] = c.passthrough_request_headers;
    if (!c.allowed_response_headers.empty()) d["allowed_response_headers"] = c.allowed_response_headers;
    if (e->mount.auth) d["token_type"] = c.token_type.empty() ? "default-service" : c.token_type;
    Response resp = Response::WithData(std::move(d));
    resp.inject_top_level = true;
    return resp;
  }
  auto e = core_->router().Match(path);
  if (!e || e->mount.auth) return InvalidArgument("No secret engine mount at " + path);
  Response resp = Response::WithData(e->mount.ToApiJson());
  resp.inject_top_level = true;
  return resp;
}

// sys/mounts/<path>: enable; sys/mounts/<path>/tune: tune.
Result<Response> SystemBackend::WriteMount(Request&, FieldData& fd) {
  std::string path;
  bool tune = SplitTune(fd.Get("path").get<std::string>(), &path);
  return tune ? TuneMount(path, fd) : EnableSecretsEngine(path, fd);
}

Result<Response> SystemBackend::TuneMount(const std::string& path, FieldData& fd) {
  const Json& raw = fd.raw();
  Response resp;
  auto e = core_->router().Match(path);
  if (!e) return InvalidArgument("cannot fetch sysview for path \"" + path + "\"");
  std::string route = e->mount.RoutePath();
  bool upgrade = false;
  Status s = core_->UpdateMount(route, [&](MountEntry& m) -> Status {
    if (fd.Has("description")) {
      SB_ASSIGN_OR_RETURN(m.description, fd.GetString("description"));
    }
    MountConfig c = m.config;
    SB_RETURN_IF_ERROR(ApplyConfigFields(raw, m.auth, &c));
    SB_RETURN_IF_ERROR(CheckTtls(c, core_->options().max_lease_ttl));
    if (fd.Has("options") && !fd.Get("options").is_null()) {
      SB_ASSIGN_OR_RETURN(Json opts, ParseOptions(fd.Get("options")));
      Json merged = m.options.is_object() ? m.options : Json::object();
      for (auto& [k, v] : opts.items()) {
        if (k == "version") continue;
        // An empty value removes the option.
        if (v.get_ref<const std::string&>().empty()) {
          merged.erase(k);
        } else {
          merged[k] = v;
        }
      }
      if (opts.contains("version") && !opts["version"].get_ref<const std::string&>().empty()) {
        std::string want = opts["version"].get<std::string>();
        if (m.type != "kv") return InvalidArgument("secrets engine \"" + m.type + "\" does not allow setting a version");
        if (want != "1" && want != "2") return InvalidArgument("invalid version: \"" + want + "\"");
        std::string have = OptionVersion(m.options);
        if (have.empty()) have = "1";
        // One way only, as Vault: v2 data has no v1 representation.
        if (want < have) return InvalidArgument("cannot downgrade mount from version " + have);
        if (want != have) upgrade = true;
        merged["version"] = want;
      }
      m.options = merged.empty() ? Json(nullptr) : merged;
    }
    m.config = c;
    return Status::Ok();
  });
  SB_RETURN_IF_ERROR(s);
  if (upgrade) {
    SB_RETURN_IF_ERROR(core_->ReloadMount(route));
    resp.warnings.push_back("Upgrading mount from version 1 to version 2. This mount will be unavailable for a "
                            "brief period and will resume service shortly.");
  }
  return resp;
}

Result<Response> SystemBackend::EnableSecretsEngine(const std::string& path, FieldData& fd) {
  Response resp;
  const Json& type_raw = fd.Get("type");
  if (!type_raw.is_string() || type_raw.get_ref<const std::string&>().empty())
    return InvalidArgument("backend type must be specified as a string");
  MountEntry m;
  m.path = path;
  m.type = type_raw.get<std::string>();
  SB_ASSIGN_OR_RETURN(m.options, ParseOptions(fd.Get("options")));
  if (m.options.is_null()) m.options = Json::object();  // Vault lists {} for a mount enabled without options
  // kv-v1 / kv-v2 (and the historical "generic") are aliases of kv.
  if (m.type == "kv-v1" || m.type == "kv-v2" || m.type == "generic") {
    if (!m.options.is_object()) m.options = Json::object();
    if (m.type != "generic") m.options["version"] = m.type == "kv-v2" ? "2" : "1";
    m.type = "kv";
  }
  std::string version = OptionVersion(m.options);
  if (!version.empty()) {
    if (m.type != "kv") return InvalidArgument("secrets engine \"" + m.type + "\" does not allow setting a version");
    if (version != "1" && version != "2") return InvalidArgument("invalid version: \"" + version + "\"");
  }
  if (std::any_of(std::begin(kSingletonTypes), std::end(kSingletonTypes),
                  [&](const char* t) { return m.type == t; }))
    return InvalidArgument("plugin not found in the catalog");
  if (IsProtected(path)) return InvalidArgument("cannot mount \"" + path + "\"");
  SB_ASSIGN_OR_RETURN(m.description, fd.GetString("description"));
  SB_ASSIGN_OR_RETURN(m.local, fd.GetBool("local"));
  SB_ASSIGN_OR_RETURN(m.seal_wrap, fd.GetBool("seal_wrap"));
  SB_ASSIGN_OR_RETURN(m.external_entropy_access, fd.GetBool("external_entropy_access"));
  SB_ASSIGN_OR_RETURN(Json config, fd.GetMap("config"));
  SB_RETURN_IF_ERROR(ApplyConfigFields(config, false, &m.config));
  SB_RETURN_IF_ERROR(CheckTtls(m.config, core_->options().max_lease_ttl));
  if (!core_->backends().Find(m.type)) return InvalidArgument("plugin not found in the catalog");
  SB_RETURN_IF_ERROR(core_->EnableMount(std::move(m)));
  return resp;
}

Result<Response> SystemBackend::DisableMountPath(Request&, FieldData& fd) {
  std::string path;
  if (SplitTune(fd.Get("path").get<std::string>(), &path)) return Unsupported();
  if (IsBuiltin(path)) return InvalidArgument("cannot unmount \"" + path + "\"");
  auto e = core_->router().Get(path);
  // Idempotent: nothing mounted (or an auth method, which lives in sys/auth).
  if (!e || e->mount.auth) return Response::Empty();
  SB_RETURN_IF_ERROR(core_->DisableMount(path));
  return Response::Empty();
}

// Remount migrations are synchronous; their ids are kept (bounded) so
// `sys/remount/status/<id>` can answer as Vault does.
std::vector<PathSpec> SystemBackend::RemountRoutes() {
  std::vector<PathSpec> r;
  // ---- sys/remount ----
  r.push_back({.pattern = "remount",
               .fields = {{"from", FieldType::kString}, {"to", FieldType::kString}},
               .ops = {{Operation::kUpdate, [this](Request&, FieldData& fd) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string from, fd.GetString("from"));
                 SB_ASSIGN_OR_RETURN(std::string to, fd.GetString("to"));
                 if (from.empty() || to.empty())
                   return InvalidArgument("both 'from' and 'to' path must be specified as a string");
                 from = WithSlash(from);
                 to = WithSlash(to);
                 if (IsBuiltin(from)) return InvalidArgument("cannot remount \"" + from + "\"");
                 bool to_auth = StartsWith(to, "auth/");
                 if (IsBuiltin(to) || (!to_auth && IsProtected(to)) || to == "auth/")
                   return InvalidArgument("cannot remount to \"" + to + "\"");
                 if (!core_->router().Get(from)) return InvalidArgument("no matching mount at \"" + from + "\"");
                 SB_RETURN_IF_ERROR(core_->Remount(from, to));
                 RemountHistory::Migration mig{crypto::Uuid(), from, to};
                 {
                   std::lock_guard l(remounts_->mu);
                   remounts_->done.push_back(mig);
                   if (remounts_->done.size() > RemountHistory::kMax) remounts_->done.pop_front();
                 }
                 Response resp = Response::WithData(Json{{"migration_id", mig.id}});
                 resp.inject_top_level = true;
                 resp.warnings.push_back(
                     "Mount move has been queued. Progress will be reported in Vault's server log, tagged with "
                     "the returned migration_id");
                 return resp;
               }}}});
  r.push_back({.pattern = "remount/status/{migration_id}",
               .fields = {{"migration_id", FieldType::kString}},
               .ops = {{Operation::kRead, [this](Request&, FieldData& fd) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string id, fd.GetString("migration_id"));
                 std::lock_guard l(remounts_->mu);
                 for (const auto& m : remounts_->done) {
                   if (m.id != id) continue;
                   return Response::WithData(Json{{"migration_id", m.id},
                                                  {"migration_info",
                                                   {{"source_mount", m.from},
                                                    {"target_mount", m.to},
                                                    {"status", "success"}}}});
                 }
                 return Response::Empty();
               }}}});

  return r;
}

std::vector<PathSpec> SystemBackend::UiMountRoutes() {
  std::vector<PathSpec> r;
  // ---- sys/internal/ui/mounts (unauthenticated in routing) ----
  // The token, if any, is resolved here: the router lets these paths through
  // without one.
  auto acl_for = [this](const Request& req) -> Result<std::shared_ptr<const auth::Acl>> {
    if (req.client_token.empty()) return std::shared_ptr<const auth::Acl>();
    SB_ASSIGN_OR_RETURN(auto entry, core_->tokens().Lookup(req.client_token));
    if (!entry) return std::shared_ptr<const auth::Acl>();
    return core_->AclForToken(*entry);
  };

  r.push_back({.pattern = "internal/ui/mounts",
               .ops = {{Operation::kRead, [this, acl_for](Request& req, FieldData&) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(auto acl, acl_for(req));
                 Json secret = Json::object(), auth = Json::object();
                 for (const auto& e : core_->router().All()) {
                   const MountEntry& m = e->mount;
                   bool visible = (acl && acl->HasAnyNonDenyUnder(m.RoutePath())) ||
                                  m.config.listing_visibility == "unauth";
                   if (!visible) continue;
                   Json info = acl ? m.ToApiJson()
                                   : Json{{"type", m.type}, {"description", m.description}, {"options", m.options}};
                   (m.auth ? auth : secret)[m.path] = std::move(info);
                 }
                 return Response::WithData(Json{{"secret", secret}, {"auth", auth}});
               }}}});

  r.push_back({.pattern = "internal/ui/mounts/{path:+}",
               .fields = {{"path", FieldType::kString}},
               .ops = {{Operation::kRead, [this, acl_for](Request& req, FieldData& fd) -> Result<Response> {
                 std::string path = WithSlash(fd.Get("path").get<std::string>());
                 SB_ASSIGN_OR_RETURN(auto acl, acl_for(req));
                 if (!acl) return PermissionDenied();
                 auto e = core_->router().Match(path);
                 // An unknown mount and a mount the token cannot touch look
                 // the same, so the answer does not reveal which mounts exist.
                 if (!e || !acl->HasAnyNonDenyUnder(e->mount.RoutePath()))
                   return PermissionDenied("preflight capability check returned 403, please ensure client's "
                                           "policies grant access to path \"" + path + "\"");
                 Json d = e->mount.ToApiJson();
                 d["path"] = e->mount.RoutePath();
                 return Response::WithData(std::move(d));
               }}}});
  return r;
}

}  // namespace sealbox::core

namespace sealbox::core {

// ---- sys/auth: auth methods, the same machinery with routes under auth/ ----
std::vector<PathSpec> SystemBackend::AuthRoutes() {
  std::vector<PathSpec> r;
  auto list = [this](Request&, FieldData&) -> Result<Response> {
    Json d = Json::object();
    for (const auto& e : core_->router().All())
      if (e->mount.auth) d[e->mount.path] = e->mount.ToApiJson();
    Response resp = Response::WithData(std::move(d));
    resp.inject_top_level = true;
    return resp;
  };
  r.push_back({.pattern = "auth", .ops = {{Operation::kRead, list}}});
  r.push_back({.pattern = "auth/", .ops = {{Operation::kRead, list}}});

  auto read = [this](Request&, FieldData& fd) -> Result<Response> {
    std::string path;
    bool tune = SplitTune(fd.Get("path").get<std::string>(), &path);
    auto e = core_->router().Get("auth/" + path);
    if (!e) return InvalidArgument("cannot fetch sysview for path \"auth/" + path + "\"");
    Json d = e->mount.ToApiJson();
    if (tune) {
      const MountConfig& c = e->mount.config;
      d = {{"description", e->mount.description},
           {"default_lease_ttl", e->mount_view->DefaultLeaseTtl()},
           {"max_lease_ttl", e->mount_view->MaxLeaseTtl()},
           {"force_no_cache", c.force_no_cache},
           {"token_type", c.token_type.empty() ? "default-service" : c.token_type}};
      if (!e->mount.options.empty()) d["options"] = e->mount.options;  // tune lists options only when set
      if (!c.listing_visibility.empty()) d["listing_visibility"] = c.listing_visibility;
    }
    Response resp = Response::WithData(std::move(d));
    resp.inject_top_level = true;
    return resp;
  };

  auto enable_or_tune = [this](Request&, FieldData& fd) -> Result<Response> {
    std::string path;
    bool tune = SplitTune(fd.Get("path").get<std::string>(), &path);
    if (tune) {
      auto e = core_->router().Get("auth/" + path);
      if (!e) return InvalidArgument("cannot fetch sysview for path \"auth/" + path + "\"");
      const Json& raw = fd.raw();
      SB_RETURN_IF_ERROR(core_->UpdateMount("auth/" + path, [&](MountEntry& m) -> Status {
        if (fd.Has("description")) {
          SB_ASSIGN_OR_RETURN(m.description, fd.GetString("description"));
        }
        MountConfig c = m.config;
        SB_RETURN_IF_ERROR(ApplyConfigFields(raw, true, &c));
        SB_RETURN_IF_ERROR(CheckTtls(c, core_->options().max_lease_ttl));
        m.config = c;
        return Status::Ok();
      }));
      return Response::Empty();
    }
    const Json& type_raw = fd.Get("type");
    if (!type_raw.is_string() || type_raw.get_ref<const std::string&>().empty())
      return InvalidArgument("backend type must be specified as a string");
    MountEntry m;
    m.auth = true;
    m.path = path;
    m.type = type_raw.get<std::string>();
    if (m.type == "token" || path == "token/") return InvalidArgument("token credential backend cannot be instantiated");
    SB_ASSIGN_OR_RETURN(m.options, ParseOptions(fd.Get("options")));
    if (m.options.is_null()) m.options = Json::object();  // Vault lists {} for a mount enabled without options
    SB_ASSIGN_OR_RETURN(m.description, fd.GetString("description"));
    SB_ASSIGN_OR_RETURN(m.local, fd.GetBool("local"));
    SB_ASSIGN_OR_RETURN(m.seal_wrap, fd.GetBool("seal_wrap"));
    SB_ASSIGN_OR_RETURN(Json config, fd.GetMap("config"));
    SB_RETURN_IF_ERROR(ApplyConfigFields(config, true, &m.config));
    SB_RETURN_IF_ERROR(CheckTtls(m.config, core_->options().max_lease_ttl));
    if (!core_->backends().Find(m.type)) return InvalidArgument("plugin not found in the catalog");
    SB_RETURN_IF_ERROR(core_->EnableMount(std::move(m)));
    return Response::Empty();
  };

  auto disable = [this](Request&, FieldData& fd) -> Result<Response> {
    std::string path;
    if (SplitTune(fd.Get("path").get<std::string>(), &path)) return Unsupported();
    if (path == "token/") return InvalidArgument("token credential backend cannot be disabled");
    auto e = core_->router().Get("auth/" + path);
    if (!e) return Response::Empty();
    SB_RETURN_IF_ERROR(core_->DisableMount("auth/" + path));
    return Response::Empty();
  };

  r.push_back({.pattern = "auth/{path:+}",
               .fields = MountFields(),
               .ops = {{Operation::kRead, read},
                       {Operation::kUpdate, enable_or_tune},
                       {Operation::kDelete, disable}}});
  return r;
}

}  // namespace sealbox::core
