// secrets|auth|audit list|enable|disable (tune for secrets and auth, move for
// secrets): the three mount tables share their shape.
#include <iostream>

#include "cli/command.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

struct Group {
  const char* name;  // secrets | auth | audit
  const char* api;   // sys/mounts | sys/auth | sys/audit
  const char* noun;  // "secrets engine" ...
};
constexpr Group kSecrets{"secrets", "sys/mounts", "secrets engine"};
constexpr Group kAuth{"auth", "sys/auth", "auth method"};
constexpr Group kAudit{"audit", "sys/audit", "audit device"};

std::string WithSlash(std::string p) {
  p = CleanPath(p);
  if (!p.empty() && p.back() != '/') p += '/';
  return p;
}

const Json& Field(const Json& obj, const char* key) {
  static const Json kNull;
  return obj.is_object() && obj.contains(key) ? obj[key] : kNull;
}

// One mount as vault's api.MountOutput serialises it.
Json MountJson(const Json& m) {
  auto get = [&](const char* k, Json def) { return Field(m, k).is_null() ? def : m[k]; };
  Json config = Field(m, "config").is_object() ? m["config"] : Json::object();
  for (const char* k : {"default_lease_ttl", "max_lease_ttl"})
    if (!config.contains(k)) config[k] = 0;
  if (!config.contains("force_no_cache")) config["force_no_cache"] = false;
  return {{"uuid", get("uuid", "")},
          {"type", get("type", "")},
          {"description", get("description", "")},
          {"accessor", get("accessor", "")},
          {"config", config},
          {"options", get("options", nullptr)},
          {"local", get("local", false)},
          {"seal_wrap", get("seal_wrap", false)},
          {"external_entropy_access", get("external_entropy_access", false)},
          {"plugin_version", get("plugin_version", "")},
          {"running_plugin_version", get("running_plugin_version", "")},
          {"running_sha256", get("running_sha256", "")},
          {"deprecation_status", get("deprecation_status", "")}};
}

// One audit device as vault's api.Audit serialises it.
Json AuditJson(const std::string& path, const Json& d) {
  auto get = [&](const char* k, Json def) { return Field(d, k).is_null() ? def : d[k]; };
  return {{"type", get("type", "")}, {"description", get("description", "")}, {"options", get("options", nullptr)},
          {"local", get("local", false)}, {"path", get("path", path)}};
}

// The mounts of a list answer: the data object (older servers: the body).
Json MountsOf(const Json& body) {
  Json src = Field(body, "data").is_object() ? body["data"] : body;
  Json out = Json::object();
  for (auto& [path, m] : src.items())
    if (m.is_object() && m.contains("type")) out[path] = m;
  return out;
}

std::string TtlCell(const Json& config, const char* key) {
  const Json& v = Field(config, key);
  return v.is_number_integer() && v.get<int64_t>() != 0 ? HumanDuration(v.get<int64_t>()) : "system";
}

void PrintMountTable(const Group& g, const Json& mounts, bool detailed) {
  std::vector<std::vector<std::string>> rows;
  for (auto& [path, m] : mounts.items()) {
    const std::string type = m.value("type", ""), acc = m.value("accessor", ""), desc = m.value("description", "");
    if (&g == &kAudit) {
      rows.push_back({path, type, desc});
      if (detailed) rows.back().insert(rows.back().end(), {m.value("local", false) ? "local" : "replicated", GoValue(Field(m, "options"))});
    } else if (!detailed) {
      rows.push_back({path, type, acc, desc});
      if (&g == &kAuth) rows.back().push_back(m.value("plugin_version", ""));
    } else {
      const Json& c = Field(m, "config");
      rows.push_back({path, type, acc, TtlCell(c, "default_lease_ttl"), TtlCell(c, "max_lease_ttl"),
                      m.value("local", false) ? "local" : "replicated", GoValue(Field(m, "options")), desc,
                      m.value("uuid", "")});
    }
  }
  if (&g == &kAudit)
    PrintColumns(detailed ? std::vector<std::string>{"Path", "Type", "Description", "Replication", "Options"}
                          : std::vector<std::string>{"Path", "Type", "Description"},
                 rows);
  else if (!detailed && &g == &kAuth) PrintColumns({"Path", "Type", "Accessor", "Description", "Version"}, rows);
  else if (!detailed) PrintColumns({"Path", "Type", "Accessor", "Description"}, rows);
  else PrintColumns({"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Replication", "Options", "Description", "UUID"}, rows);
}

template <const Group& G>
int RunList(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto r = Call(inv.conn, "GET", G.api);
  if (!r.ok()) return Fail(std::string("listing ") + G.name, r.status());
  if (r->status != 200) return ApiError(std::string("listing ") + G.name, *r);
  const Json mounts = MountsOf(r->body);
  if (inv.out.format == "table") {
    if (mounts.empty()) std::cout << "No " << G.name << " enabled.\n";
    else PrintMountTable(G, mounts, inv.flags.Bool("detailed"));
    return kExitOk;
  }
  Json shaped = Json::object();
  for (auto& [path, m] : mounts.items()) shaped[path] = &G == &kAudit ? AuditJson(path, m) : MountJson(m);
  return PrintMap(inv.out, shaped);
}

// The "config" object of enable and the body of tune, from the flags given.
Result<Json> MountConfig(const FlagValues& f, bool with_description) {
  Json c = Json::object();
  for (const char* d : {"default-lease-ttl", "max-lease-ttl"}) {
    std::string key = d;
    for (auto& ch : key) ch = ch == '-' ? '_' : ch;
    if (f.Has(d)) c[key] = SecondsText(f.Seconds(d));
  }
  for (const char* l : {"audit-non-hmac-request-keys", "audit-non-hmac-response-keys", "passthrough-request-headers",
                        "allowed-response-headers"}) {
    std::string key = l;
    for (auto& ch : key) ch = ch == '-' ? '_' : ch;
    if (f.Has(l)) c[key] = f.Strings(l);
  }
  if (f.Has("listing-visibility")) c["listing_visibility"] = f.String("listing-visibility");
  if (f.Has("force-no-cache")) c["force_no_cache"] = f.Bool("force-no-cache");
  if (with_description && f.Has("description")) c["description"] = f.String("description");
  if (f.Has("options") || f.Has("version")) {
    SB_ASSIGN_OR_RETURN(Json opts, ParseKeyValues(f.Strings("options")));
    if (f.Has("version")) opts["version"] = std::to_string(f.Int("version"));
    c["options"] = opts;
  }
  return c;
}

template <const Group& G>
int RunEnable(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, &G == &kAudit ? SIZE_MAX : 1, &rc)) return rc;
  const std::string type = inv.args[0];
  const std::string path = WithSlash(inv.flags.Has("path") ? inv.flags.String("path") : type);
  Json body = {{"type", type}, {"description", inv.flags.String("description")}, {"local", inv.flags.Bool("local")}};
  if (&G == &kAudit) {
    auto opts = ParseKeyValues({inv.args.begin() + 1, inv.args.end()});
    if (!opts.ok()) return Fail("Failed to parse K=V configuration: " + opts.status().message(), kExitUsage);
    body["options"] = *opts;
  } else {
    auto config = MountConfig(inv.flags, false);
    if (!config.ok()) return Fail("Failed to parse -options: " + config.status().message(), kExitUsage);
    if (config->contains("options")) body["options"] = (*config)["options"], config->erase("options");
    if (!config->empty()) body["config"] = *config;
    if (inv.flags.Has("plugin-name")) body["type"] = inv.flags.String("plugin-name");
  }
  auto r = Call(inv.conn, "POST", std::string(G.api) + "/" + path.substr(0, path.size() - 1), body);
  if (!r.ok()) return Fail("enabling", r.status());
  if (r->status >= 300) return ApiError("enabling", *r);
  if (&G == &kAuth) std::cout << "Success! Enabled " << type << " auth method at: " << path << "\n";
  else std::cout << "Success! Enabled the " << type << " " << G.noun << " at: " << path << "\n";
  return kExitOk;
}

template <const Group& G>
int RunDisable(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string path = WithSlash(inv.args[0]);
  auto r = Call(inv.conn, "DELETE", std::string(G.api) + "/" + path.substr(0, path.size() - 1));
  if (!r.ok()) return Fail("disabling", r.status());
  if (r->status >= 300) return ApiError("disabling", *r);
  if (&G == &kAudit) std::cout << "Success! Disabled audit device (if it was enabled) at: " << path << "\n";
  else std::cout << "Success! Disabled the " << G.noun << " (if it existed) at: " << path << "\n";
  return kExitOk;
}

template <const Group& G>
int RunTune(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string path = WithSlash(inv.args[0]);
  auto body = MountConfig(inv.flags, true);
  if (!body.ok()) return Fail("Failed to parse -options: " + body.status().message(), kExitUsage);
  const std::string api = &G == &kAuth ? "sys/auth/" + path + "tune" : "sys/mounts/" + path + "tune";
  auto r = Call(inv.conn, "POST", api, *body);
  if (!r.ok()) return Fail(std::string("tuning ") + G.noun + " " + path, r.status());
  if (r->status >= 300) return ApiError(std::string("tuning ") + G.noun + " " + path, *r);
  std::cout << "Success! Tuned the " << G.noun << " at: " << path << "\n";
  return kExitOk;
}

int RunMove(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 2, 2, &rc)) return rc;
  const std::string from = WithSlash(inv.args[0]), to = WithSlash(inv.args[1]);
  auto r = Call(inv.conn, "POST", "sys/remount", Json{{"from", from}, {"to", to}});
  if (!r.ok()) return Fail("moving mount", r.status());
  if (r->status >= 300) return ApiError("moving mount", *r);
  std::cout << "Success! Finished moving secrets engine " << from << " to " << to << "\n";
  return kExitOk;
}

std::vector<FlagSpec> MountFlags(bool enable, bool secrets) {
  std::vector<FlagSpec> f = {
      {"description", T::kString, "A description of the mount.", ""},
      {"default-lease-ttl", T::kDuration, "Default lease TTL of the mount.", ""},
      {"max-lease-ttl", T::kDuration, "Maximum lease TTL of the mount.", ""},
      {"audit-non-hmac-request-keys", T::kStrings, "Request keys the audit log keeps in clear.", ""},
      {"audit-non-hmac-response-keys", T::kStrings, "Response keys the audit log keeps in clear.", ""},
      {"listing-visibility", T::kString, "\"unauth\" or \"hidden\".", ""},
      {"passthrough-request-headers", T::kStrings, "Request headers passed to the backend.", ""},
      {"allowed-response-headers", T::kStrings, "Response headers the backend may set.", ""},
      {"options", T::kStrings, "K=V options of the backend; repeat for several.", ""},
      {"plugin-version", T::kString, "", "", "external plugins are not supported"},
  };
  if (secrets) f.push_back({"version", T::kInt, "KV version (1 or 2); same as -options=version=N.", ""});
  if (!enable) return f;
  f.insert(f.end(), {{"path", T::kString, "Where to mount (default: the type).", ""},
                     {"local", T::kBool, "Mark the mount local (not replicated).", "false"},
                     {"force-no-cache", T::kBool, "Never cache this mount's data.", "false"},
                     {"plugin-name", T::kString, "The backend type, if not the argument.", ""},
                     {"seal-wrap", T::kBool, "", "", "seal wrapping is not supported"},
                     {"external-entropy-access", T::kBool, "", "", "external entropy is not supported"}});
  return f;
}

template <const Group& G>
std::vector<Command> GroupCommands(const std::string& what) {
  const std::string n = G.name;
  const std::string offline = &G == &kAudit ? "\n\n  `sealbox audit verify -file=FILE -key=HEX` checks an audit file's hash\n"
                                              "  chain offline (docs/audit.md)."
                                            : "";
  std::vector<Command> v = {
      {n, "Interact with " + what,
       "Usage: sealbox " + n + " <subcommand> [options] [args]\n\n  Manages " + what + "." + offline,
       {}, true, OutputFlags::kNone, nullptr},
      {n + " list", "Lists enabled " + what, "Usage: sealbox " + n + " list [options]\n\n  Lists the enabled " + what + ".",
       {{"detailed", T::kBool, "Print more columns.", "false"}}, true, OutputFlags::kFormat, RunList<G>},
      {n + " disable", "Disables " + std::string(G.noun) + "s",
       "Usage: sealbox " + n + " disable [options] PATH\n\n  Disables the " + G.noun + " at PATH.", {}, true,
       OutputFlags::kNone, RunDisable<G>},
  };
  if (&G == &kAudit) {
    v.push_back({n + " enable", "Enables an audit device",
                 "Usage: sealbox audit enable [options] TYPE [CONFIG K=V...]\n\n  Enables an audit device.",
                 {{"path", T::kString, "Where to enable it (default: the type).", ""},
                  {"description", T::kString, "A description.", ""},
                  {"local", T::kBool, "Mark the device local.", "false"}},
                 true, OutputFlags::kNone, RunEnable<G>});
    return v;
  }
  v.push_back({n + " enable", "Enables " + std::string(G.noun) + "s",
               "Usage: sealbox " + n + " enable [options] TYPE\n\n  Enables a " + G.noun + " at -path (default: TYPE).",
               MountFlags(true, &G == &kSecrets), true, OutputFlags::kNone, RunEnable<G>});
  v.push_back({n + " tune", "Tunes " + std::string(G.noun) + " configuration",
               "Usage: sealbox " + n + " tune [options] PATH\n\n  Changes the settings of the " + G.noun + " at PATH.",
               MountFlags(false, &G == &kSecrets), true, OutputFlags::kNone, RunTune<G>});
  if (&G == &kSecrets)
    v.push_back({"secrets move", "Move a secrets engine to a new path",
                 "Usage: sealbox secrets move [options] SOURCE DESTINATION\n\n  Moves a secrets engine and its leases.", {},
                 true, OutputFlags::kNone, RunMove});
  return v;
}

}  // namespace

std::vector<Command> MountCommands() {
  std::vector<Command> all;
  for (auto list : {GroupCommands<kSecrets>("secrets engines"), GroupCommands<kAuth>("auth methods"),
                    GroupCommands<kAudit>("audit devices")})
    for (auto& c : list) all.push_back(std::move(c));
  return all;
}

}  // namespace sealbox::cli
