// read, write, patch, list, delete, path-help, print token: the generic verbs.
#include <iostream>

#include "cli/command.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// PATH with K=V arguments as its query string (read and delete take data so).
Result<std::string> PathWithQuery(const std::vector<std::string>& args) {
  std::string path = CleanPath(args[0]);
  if (args.size() == 1) return path;
  SB_ASSIGN_OR_RETURN(Json data, ParseKeyValues({args.begin() + 1, args.end()}));
  std::string query;
  for (auto& [k, v] : data.items())
    query += (query.empty() ? "?" : "&") + PercentEncode(k) + "=" + PercentEncode(v.is_string() ? v.get<std::string>() : v.dump());
  return path + query;
}

bool NoValue(const Reply& r) {
  return r.status == 404 && !(r.body.is_object() && r.body.contains("errors") && !r.body["errors"].empty());
}

int RunRead(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, SIZE_MAX, &rc)) return rc;
  auto path = PathWithQuery(inv.args);
  if (!path.ok()) return Fail("Failed to parse K=V data: " + path.status().message(), kExitUsage);
  auto r = Call(inv.conn, "GET", *path);
  if (!r.ok()) return Fail("reading " + *path, r.status());
  if (NoValue(*r)) return Fail("No value found at " + *path);
  if (r->status != 200) return ApiError("reading " + *path, *r);
  return PrintSecret(inv.out, r->body);
}

// write and patch: PUT or PATCH of K=V data (or a JSON object from stdin).
int WriteLike(Invocation& inv, const std::string& method, const std::string& verb) {
  int rc;
  if (!CheckArgs(inv, 1, SIZE_MAX, &rc)) return rc;
  const std::string path = CleanPath(inv.args[0]);
  if (inv.args.size() == 1 && !inv.flags.Bool("force") && !inv.flags.Bool("f")) return Fail("Must supply data or use -force", kExitUsage);
  auto data = ParseKeyValues({inv.args.begin() + 1, inv.args.end()});
  if (!data.ok()) return Fail("Failed to parse K=V data: " + data.status().message(), kExitUsage);
  auto r = Call(inv.conn, method, path, *data);
  if (!r.ok()) return Fail(verb + " data to " + path, r.status());
  if (r->status >= 300) return ApiError(verb + " data to " + path, *r);
  if (r->status == 204 || r->body.is_null()) {
    if (!inv.out.field.empty()) return Fail("Field \"" + inv.out.field + "\" not present in secret", kExitUsage);
    // As vault: only the table format says so.
    if (inv.out.format == "table") std::cout << "Success! Data written to: " << path << "\n";
    return kExitOk;
  }
  return PrintSecret(inv.out, r->body);
}

int RunWrite(Invocation& inv) { return WriteLike(inv, "PUT", "writing"); }
int RunPatch(Invocation& inv) { return WriteLike(inv, "PATCH", "patching"); }

int RunList(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string path = CleanPath(inv.args[0]);
  auto r = Call(inv.conn, "LIST", path);
  if (!r.ok()) return Fail("listing " + path, r.status());
  if (NoValue(*r)) return Fail("No value found at " + path);
  if (r->status != 200) return ApiError("listing " + path, *r);
  const Json keys = r->body.is_object() && r->body["data"].is_object() ? r->body["data"].value("keys", Json()) : Json();
  if (!keys.is_array()) return Fail("No value found at " + path);
  if (inv.out.format == "json") PrintJson(keys);
  else if (inv.out.format == "yaml") PrintYaml(keys);
  else {
    PrintWarnings(r->body);
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : keys) rows.push_back({GoValue(k)});
    PrintColumns({"Keys"}, rows);
  }
  return kExitOk;
}

int RunDelete(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, SIZE_MAX, &rc)) return rc;
  auto path = PathWithQuery(inv.args);
  if (!path.ok()) return Fail("Failed to parse K=V data: " + path.status().message(), kExitUsage);
  auto r = Call(inv.conn, "DELETE", *path);
  if (!r.ok()) return Fail("deleting " + *path, r.status());
  if (r->status >= 300) return ApiError("deleting " + *path, *r);
  std::cout << "Success! Data deleted (if it existed) at: " << CleanPath(inv.args[0]) << "\n";
  return kExitOk;
}

// GET PATH?help=1: the server's help document for the path (the route it
// matches and its parameters); the request itself never runs.
int RunPathHelp(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string path = CleanPath(inv.args[0]);
  auto r = Call(inv.conn, "GET", path + "?help=1");
  if (!r.ok()) return Fail("retrieving help", r.status());
  if (r->status != 200) return ApiError("retrieving help", *r);
  if (inv.out.format == "json") {
    PrintJson(r->body);
  } else if (inv.out.format == "yaml") {
    PrintYaml(r->body);
  } else {
    std::cout << (r->body.is_object() ? r->body.value("help", "") : std::string()) << "\n";
  }
  return kExitOk;
}

// unwrap [TOKEN]: the wrapped response; without TOKEN, the token in use is
// the wrapping token.
int RunUnwrap(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 1, &rc)) return rc;
  Json body = Json::object();
  if (!inv.args.empty()) body["token"] = inv.args[0];
  auto r = Call(inv.conn, "PUT", "sys/wrapping/unwrap", body);
  if (!r.ok()) return Fail("unwrapping token", r.status());
  if (r->status >= 300) return ApiError("unwrapping token", *r);
  if (r->status == 204 || r->body.is_null()) return kExitOk;
  return PrintSecret(inv.out, r->body);
}

int RunPrintToken(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  std::cout << inv.conn.token << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> GenericCommands() {
  const FlagSpec force = {"force", T::kBool, "Write even without data.", "false"};
  return {
      {"read", "Read data and retrieves secrets",
       "Usage: sealbox read [options] PATH [K=V...]\n\n  Reads the data at PATH (K=V pairs go in the query string).", {}, true,
       OutputFlags::kFormatField, RunRead},
      {"write", "Write data, configuration, and secrets",
       "Usage: sealbox write [options] PATH [DATA K=V...]\n\n  Writes data to PATH. K=@file reads a value from a file, K=- from stdin;\n"
       "  a single \"-\" reads a JSON object from stdin.",
       {force, {"f", T::kBool, "Alias of -force.", "false"}}, true, OutputFlags::kFormatField, RunWrite},
      {"patch", "Patch data, configuration, and secrets",
       "Usage: sealbox patch [options] PATH [DATA K=V...]\n\n  Merges data into PATH (JSON merge patch).",
       {force, {"f", T::kBool, "Alias of -force.", "false"}}, true, OutputFlags::kFormatField, RunPatch},
      {"list", "List data or secrets", "Usage: sealbox list [options] PATH\n\n  Lists the keys under PATH.", {}, true,
       OutputFlags::kFormat, RunList},
      {"delete", "Delete secrets and configuration",
       "Usage: sealbox delete [options] PATH [K=V...]\n\n  Deletes the data at PATH.", {}, true, OutputFlags::kNone,
       RunDelete},
      {"path-help", "Retrieve API help for paths",
       "Usage: sealbox path-help [options] PATH\n\n  The API help for a path: the route it matches and the parameters it takes.",
       {}, true, OutputFlags::kFormat, RunPathHelp},
      {"unwrap", "Unwrap a wrapped secret",
       "Usage: sealbox unwrap [options] [TOKEN]\n\n  Unwraps a response-wrapping token once; without TOKEN, the token in use\n"
       "  (VAULT_TOKEN) is the wrapping token.",
       {}, true, OutputFlags::kFormatField, RunUnwrap},
      {"print", "Prints runtime configurations", "Usage: sealbox print <subcommand>\n\n  Prints runtime values.", {},
       false, OutputFlags::kNone, nullptr},
      {"print token", "Prints the token currently in use",
       "Usage: sealbox print token\n\n  Prints the token the CLI would send (VAULT_TOKEN, else ~/.vault-token).", {}, true,
       OutputFlags::kNone, RunPrintToken},
  };
}

}  // namespace sealbox::cli
