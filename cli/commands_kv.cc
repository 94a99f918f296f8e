// kv get|put|patch|list|delete|undelete|destroy|rollback and kv metadata
// get|put|delete, with vault's preflight (sys/internal/ui/mounts) telling
// KV v1 from v2.
#include <iostream>

#include "cli/command.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

struct KvTarget {
  std::string mount;  // "secret/"
  std::string rel;    // the key under the mount
  bool v2 = false;
  // The API path of a v2 sub-tree ("data", "metadata"...), or the v1 path.
  std::string Api(const std::string& kind) const { return v2 ? mount + kind + "/" + rel : mount + rel; }
};

// A response wrapped at -wrap-ttl's request: only its wrap info is printed.
bool IsWrapped(const Reply& r) { return r.body.is_object() && r.body.contains("wrap_info") && r.body["wrap_info"].is_object(); }

// Which mount serves the path the user named (with -mount or as a prefix).
Result<KvTarget> Preflight(const Invocation& inv, const std::string& user_path, int* exit_code) {
  const std::string mount_flag = inv.flags.String("mount");
  const std::string path = CleanPath(user_path);
  const std::string full = mount_flag.empty() ? path : mount_flag + "/" + path;
  // As vault: the preflight itself is never wrapped.
  Connection unwrapped = inv.conn;
  unwrapped.wrap_ttl.clear();
  auto r = Call(unwrapped, "GET", "sys/internal/ui/mounts/" + (mount_flag.empty() ? full : mount_flag));
  if (!r.ok()) {
    *exit_code = Fail("preflight capability check", r.status());
    return r.status();
  }
  KvTarget t;
  if (r->status == 404) {
    t.mount = mount_flag.empty() ? full.substr(0, full.find('/') + 1) : mount_flag + "/";
  } else if (r->status != 200) {
    *exit_code = ApiError("preflight capability check", *r);
    return PermissionDenied("preflight failed");
  } else {
    const Json& d = r->body["data"];
    t.mount = d.value("path", "");
    const Json opts = d.value("options", Json());
    t.v2 = opts.is_object() && opts.value("version", "") == "2";
  }
  t.rel = full.substr(std::min(full.size(), t.mount.size()));
  return t;
}

// Runs the preflight for the path at args[index]; on failure sets *rc.
#define SB_KV_TARGET(var, inv, index, rc)                            \
  auto var##_or = Preflight(inv, (inv).args[index], &(rc));           \
  if (!var##_or.ok()) return rc;                                      \
  const KvTarget& var = *var##_or

void PrintSecretPath(const std::string& path) {
  std::cout << PadEqualSigns("Secret Path", path.size()) << "\n" << path << "\n\n";
}

std::string MapHeader(const std::string& header, const Json& m) {
  size_t widest = 0;
  if (m.is_object())
    for (auto& [k, v] : m.items()) widest = std::max(widest, k.size());
  return PadEqualSigns(header, widest + 4 + 5);  // the columns' gap and "Value"
}

// kv get (and put's table): path, metadata, then data, as vault prints them.
void PrintKvTable(const std::string& path, const Json& env, bool with_data) {
  PrintWarnings(env);
  PrintSecretPath(path);
  const Json& d = env["data"];
  const Json& meta = d.is_object() && d.contains("metadata") ? d["metadata"] : d;
  if (meta.is_object()) {
    std::cout << MapHeader("Metadata", meta) << "\n";
    PrintDataTable(meta);
  }
  if (!with_data) return;
  std::cout << "\n";
  if (d.is_object() && d["data"].is_object()) {
    std::cout << MapHeader("Data", d["data"]) << "\n";
    PrintDataTable(d["data"]);
  }
}

int PrintKvField(const Invocation& inv, const KvTarget& t, const std::string& path, const Json& env) {
  if (!t.v2) return PrintSecret(inv.out, env);
  const Json& d = env["data"];
  if (!d.is_object() || !d["data"].is_object()) return Fail("No data found at " + path);
  return PrintMap(inv.out, d["data"]);
}

int RunGet(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  SB_KV_TARGET(t, inv, 0, rc);
  std::string path = t.Api("data");
  if (inv.flags.Has("version")) path += "?version=" + std::to_string(inv.flags.Int("version"));
  auto r = Call(inv.conn, "GET", path);
  if (!r.ok()) return Fail("reading " + path, r.status());
  // A deleted or destroyed v2 version is a 404 that still carries metadata.
  const bool has_data = r->body.is_object() && r->body["data"].is_object();
  if (r->status == 404 && !has_data) return Fail("No value found at " + t.Api("data"));
  if (r->status != 200 && r->status != 404) return ApiError("reading " + path, *r);
  if (IsWrapped(*r)) return PrintSecret(inv.out, r->body);
  if (!inv.out.field.empty()) return PrintKvField(inv, t, t.Api("data"), r->body);
  if (inv.out.format != "table" || !t.v2) return PrintSecret(inv.out, r->body);
  PrintKvTable(t.Api("data"), r->body, true);
  return kExitOk;
}

int PutLike(Invocation& inv, bool patch) {
  int rc;
  if (!CheckArgs(inv, 1, SIZE_MAX, &rc)) return rc;
  if (inv.args.size() == 1) return Fail("Must supply data", kExitUsage);
  auto kv = ParseKeyValues({inv.args.begin() + 1, inv.args.end()});
  if (!kv.ok()) return Fail("Failed to parse K=V data: " + kv.status().message(), kExitUsage);
  SB_KV_TARGET(t, inv, 0, rc);
  if (patch && !t.v2) return Fail("K/V engine mount must be version 2 for patch support");
  Json body = *kv;
  if (t.v2) {
    body = {{"data", *kv}};
    if (inv.flags.Int("cas") >= 0) body["options"] = {{"cas", inv.flags.Int("cas")}};
  }
  const std::string path = t.Api("data");
  auto r = Call(inv.conn, patch ? "PATCH" : "PUT", path, body);
  if (!r.ok()) return Fail("writing data to " + path, r.status());
  if (r->status >= 300) return ApiError("writing data to " + path, *r);
  if (r->status == 204 || r->body.is_null()) {
    if (inv.out.format == "table") std::cout << "Success! Data written to: " << path << "\n";
    return kExitOk;
  }
  if (IsWrapped(*r) || !inv.out.field.empty() || inv.out.format != "table") return PrintSecret(inv.out, r->body);
  PrintKvTable(path, r->body, false);
  return kExitOk;
}

int RunPut(Invocation& inv) { return PutLike(inv, false); }
int RunPatch(Invocation& inv) { return PutLike(inv, true); }

int RunList(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  SB_KV_TARGET(t, inv, 0, rc);
  std::string path = t.Api("metadata");
  auto r = Call(inv.conn, "LIST", path);
  if (!r.ok()) return Fail("listing " + path, r.status());
  if (r->status == 404) return Fail("No value found at " + path);
  if (r->status != 200) return ApiError("listing " + path, *r);
  const Json keys = r->body["data"].is_object() ? r->body["data"].value("keys", Json::array()) : Json::array();
  if (inv.out.format != "table") return PrintMap(inv.out, keys);
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) rows.push_back({GoValue(k)});
  PrintColumns({"Keys"}, rows);
  return kExitOk;
}

// -versions=1,2 -versions=3 as vault's string-slice flag.
Result<Json> Versions(const Invocation& inv) {
  Json out = Json::array();
  for (const auto& item : inv.flags.Strings("versions")) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      std::string v = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!v.empty()) {
        if (!CheckFlagValue(FlagType::kInt, v).ok())
          return InvalidArgument("invalid value \"" + v + "\" for flag -versions: not an integer");
        out.push_back(std::stoll(v));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// delete, undelete, destroy: the latest version (delete only) or -versions.
int VersionsAction(Invocation& inv, const std::string& action) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  auto versions = Versions(inv);
  if (!versions.ok()) return Fail(versions.status().message(), kExitUsage);
  if (action != "delete" && versions->empty())
    return Fail("No versions provided, use the \"-versions\" flag to specify the version to " + action + ".",
                kExitUsage);
  SB_KV_TARGET(t, inv, 0, rc);
  Result<Reply> r = Internal();
  std::string path;
  if (action == "delete" && versions->empty()) {
    path = t.Api("data");
    r = Call(inv.conn, "DELETE", path);
  } else {
    if (!t.v2) return Fail("K/V engine mount must be version 2 for " + action + " with versions");
    path = t.mount + action + "/" + t.rel;
    r = Call(inv.conn, action == "destroy" ? "PUT" : "POST", path, Json{{"versions", *versions}});
  }
  if (!r.ok()) return Fail(action + " " + path, r.status());
  if (r->status >= 300) return ApiError(action + " " + path, *r);
  if (action == "delete") std::cout << "Success! Data deleted (if it existed) at: " << path << "\n";
  else std::cout << "Success! Data written to: " << path << "\n";
  return kExitOk;
}

int RunDelete(Invocation& inv) { return VersionsAction(inv, "delete"); }
int RunUndelete(Invocation& inv) { return VersionsAction(inv, "undelete"); }
int RunDestroy(Invocation& inv) { return VersionsAction(inv, "destroy"); }

bool IsDeletedOrDestroyed(const Json& meta) {
  if (meta.value("destroyed", false)) return true;
  return meta.contains("deletion_time") && meta["deletion_time"].is_string() &&
         !meta["deletion_time"].get<std::string>().empty();
}

// As vault: read the current version and the target, refuse a deleted or
// destroyed target, then write its data with cas = current.
int RunRollback(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  if (!inv.flags.Has("version")) return Fail("Must specify a version to roll back to", kExitUsage);
  SB_KV_TARGET(t, inv, 0, rc);
  if (!t.v2) return Fail("K/V engine mount must be version 2 for rollback support");
  const std::string path = t.Api("data");
  auto cur = Call(inv.conn, "GET", path);
  if (!cur.ok()) return Fail("reading " + path, cur.status());
  if (cur->status != 200 && cur->status != 404) return ApiError("reading " + path, *cur);
  if (!cur->body.is_object() || !cur->body["data"].is_object()) return Fail("No value found at " + path);
  const int64_t current = cur->body["data"]["metadata"].value("version", int64_t{0});
  const std::string version = std::to_string(inv.flags.Int("version"));
  auto target = Call(inv.conn, "GET", path + "?version=" + version);
  if (!target.ok()) return Fail("reading " + path, target.status());
  if (target->status != 200 || !target->body["data"]["data"].is_object() ||
      IsDeletedOrDestroyed(target->body["data"]["metadata"]))
    return Fail("Cannot roll back to a version that is deleted or destroyed, or does not exist: " + version);
  auto r = Call(inv.conn, "PUT", path, Json{{"data", target->body["data"]["data"]}, {"options", {{"cas", current}}}});
  if (!r.ok()) return Fail("writing data to " + path, r.status());
  if (r->status >= 300) return ApiError("writing data to " + path, *r);
  if (IsWrapped(*r) || !inv.out.field.empty() || inv.out.format != "table") return PrintSecret(inv.out, r->body);
  PrintKvTable(path, r->body, false);
  return kExitOk;
}

int RunMetadataGet(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  SB_KV_TARGET(t, inv, 0, rc);
  if (!t.v2) return Fail("Metadata not supported on KV Version 1");
  const std::string path = t.Api("metadata");
  auto r = Call(inv.conn, "GET", path);
  if (!r.ok()) return Fail("reading " + path, r.status());
  if (r->status == 404) return Fail("No value found at " + path);
  if (r->status != 200) return ApiError("reading " + path, *r);
  return PrintSecret(inv.out, r->body);
}

Result<Json> MetadataBody(const Invocation& inv) {
  Json body = Json::object();
  if (inv.flags.Has("max-versions")) body["max_versions"] = inv.flags.Int("max-versions");
  if (inv.flags.Has("cas-required")) body["cas_required"] = inv.flags.Bool("cas-required");
  if (inv.flags.Has("delete-version-after"))
    body["delete_version_after"] = SecondsText(inv.flags.Seconds("delete-version-after"));
  if (inv.flags.Has("custom-metadata")) {
    SB_ASSIGN_OR_RETURN(Json custom, ParseKeyValues(inv.flags.Strings("custom-metadata")));
    body["custom_metadata"] = custom;
  }
  return body;
}

int RunMetadataPut(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  auto body = MetadataBody(inv);
  if (!body.ok()) return Fail("Failed to parse -custom-metadata: " + body.status().message(), kExitUsage);
  SB_KV_TARGET(t, inv, 0, rc);
  if (!t.v2) return Fail("Metadata not supported on KV Version 1");
  const std::string path = t.Api("metadata");
  auto r = Call(inv.conn, "PUT", path, *body);
  if (!r.ok()) return Fail("writing data to " + path, r.status());
  if (r->status >= 300) return ApiError("writing data to " + path, *r);
  std::cout << "Success! Data written to: " << path << "\n";
  return kExitOk;
}

int RunMetadataDelete(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  SB_KV_TARGET(t, inv, 0, rc);
  if (!t.v2) return Fail("Metadata not supported on KV Version 1");
  const std::string path = t.Api("metadata");
  auto r = Call(inv.conn, "DELETE", path);
  if (!r.ok()) return Fail("deleting " + path, r.status());
  if (r->status >= 300) return ApiError("deleting " + path, *r);
  std::cout << "Success! Data deleted (if it existed) at: " << path << "\n";
  return kExitOk;
}

Command Kv(const std::string& sub, const std::string& synopsis, const std::string& args, std::vector<FlagSpec> extra,
           OutputFlags out, int (*run)(Invocation&)) {
  extra.insert(extra.begin(), {"mount", T::kString, "The KV mount; the path is then relative to it.", ""});
  return {"kv " + sub, synopsis, "Usage: sealbox kv " + sub + " [options] " + args + "\n\n  " + synopsis + ".",
          std::move(extra), true, out, run};
}

}  // namespace

std::vector<Command> KvCommands() {
  const FlagSpec versions = {"versions", T::kStrings, "The versions, comma-separated or repeated.", ""};
  const FlagSpec cas = {"cas", T::kInt, "Check-and-set: write only if the current version is this (0: absent).", "-1"};
  return {
      {"kv", "Interact with the Key-Value store",
       "Usage: sealbox kv <subcommand> [options] [args]\n\n  Reads and writes KV v1 and v2 secrets.", {}, true,
       OutputFlags::kNone, nullptr},
      Kv("get", "Retrieves data from the KV store", "KEY",
         {{"version", T::kInt, "The version to read (default: the latest).", ""}}, OutputFlags::kFormatField, RunGet),
      Kv("put", "Sets or updates data in the KV store", "KEY [DATA]", {cas}, OutputFlags::kFormatField, RunPut),
      Kv("patch", "Sets or updates data in the KV store without overwriting", "KEY [DATA]",
         {cas, {"method", T::kString, "", "", "only the JSON merge patch method is supported"}},
         OutputFlags::kFormatField, RunPatch),
      Kv("list", "List data or secrets", "PATH", {}, OutputFlags::kFormat, RunList),
      Kv("delete", "Deletes versions in the KV store", "KEY", {versions}, OutputFlags::kNone, RunDelete),
      Kv("undelete", "Undeletes versions in the KV store", "KEY", {versions}, OutputFlags::kNone, RunUndelete),
      Kv("destroy", "Permanently removes one or more versions in the KV store", "KEY", {versions}, OutputFlags::kNone,
         RunDestroy),
      Kv("rollback", "Rolls back to a previous version of data", "KEY",
         {{"version", T::kInt, "The version to roll back to.", ""}}, OutputFlags::kFormatField, RunRollback),
      {"kv metadata", "Interact with the Key-Value store's metadata",
       "Usage: sealbox kv metadata <subcommand> [options] [args]\n\n  Reads and writes KV v2 metadata.", {}, true,
       OutputFlags::kNone, nullptr},
      Kv("metadata get", "Retrieves the metadata of a key", "KEY", {}, OutputFlags::kFormatField, RunMetadataGet),
      Kv("metadata put", "Sets or updates the metadata of a key", "KEY",
         {{"max-versions", T::kInt, "Versions to keep (0: the mount's setting).", ""},
          {"cas-required", T::kBool, "Require check-and-set on writes.", "false"},
          {"delete-version-after", T::kDuration, "Delete versions this long after they are written.", ""},
          {"custom-metadata", T::kStrings, "K=V metadata; repeat for several.", ""}},
         OutputFlags::kNone, RunMetadataPut),
      Kv("metadata delete", "Deletes all versions and the metadata of a key", "KEY", {}, OutputFlags::kNone,
         RunMetadataDelete),
  };
}

}  // namespace sealbox::cli
