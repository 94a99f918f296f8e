// policy list|read|write|delete|fmt and lease lookup|renew|revoke.
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/hcl.h"
#include "cli/command.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

int RunPolicyList(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto r = Call(inv.conn, "LIST", "sys/policies/acl");
  if (!r.ok()) return Fail("listing policies", r.status());
  if (r->status != 200) return ApiError("listing policies", *r);
  const Json keys = r->body["data"].is_object() ? r->body["data"].value("keys", Json::array()) : Json::array();
  if (inv.out.format != "table") return PrintMap(inv.out, keys);
  for (const auto& k : keys) std::cout << GoValue(k) << "\n";
  return kExitOk;
}

int RunPolicyRead(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string& name = inv.args[0];
  auto r = Call(inv.conn, "GET", "sys/policies/acl/" + name);
  if (!r.ok()) return Fail("reading policy named " + name, r.status());
  if (r->status == 404) return Fail("No policy named: " + name);
  if (r->status != 200) return ApiError("reading policy named " + name, *r);
  const std::string rules = r->body["data"].value("policy", "");
  if (inv.out.format != "table") return PrintMap(inv.out, Json{{"policy", rules}});
  std::cout << rules << "\n";
  return kExitOk;
}

int RunPolicyWrite(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 2, 2, &rc)) return rc;
  const std::string& name = inv.args[0];
  auto rules = ReadFileOrStdin(inv.args[1]);
  if (!rules.ok()) return Fail("Error opening policy file: " + rules.status().message());
  auto r = Call(inv.conn, "PUT", "sys/policies/acl/" + name, Json{{"policy", *rules}});
  if (!r.ok()) return Fail("uploading policy", r.status());
  if (r->status >= 300) return ApiError("uploading policy", *r);
  std::cout << "Success! Uploaded policy: " << name << "\n";
  return kExitOk;
}

int RunPolicyDelete(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string& name = inv.args[0];
  auto r = Call(inv.conn, "DELETE", "sys/policies/acl/" + name);
  if (!r.ok()) return Fail("deleting " + name, r.status());
  if (r->status >= 300) return ApiError("deleting " + name, *r);
  std::cout << "Success! Deleted policy: " << name << "\n";
  return kExitOk;
}

// Canonical HCL for a value of a policy block: nested maps as `k = { ... }`.
void WriteHclValue(const Json& v, int indent, std::ostream& out) {
  if (!v.is_object()) {
    out << v.dump();
    return;
  }
  out << "{\n";
  for (auto& [k, x] : v.items()) {
    out << std::string(indent + 2, ' ') << Json(k).dump() << " = ";
    WriteHclValue(x, indent + 2, out);
    out << "\n";
  }
  out << std::string(indent, ' ') << "}";
}

// The `path "..." { ... }` blocks of a parsed policy, in order.
Result<std::vector<std::pair<std::string, Json>>> PolicyBlocks(const Json& doc) {
  std::vector<std::pair<std::string, Json>> blocks;
  for (auto& [key, val] : doc.items()) {
    if (key != "path") return InvalidArgument("invalid key \"" + key + "\"");
    // HCL may give the blocks as one object or as a list of objects.
    for (const Json& group : val.is_array() ? val : Json::array({val}))
      for (auto& [path, body] : group.items())
        for (const Json& b : body.is_array() ? body : Json::array({body})) blocks.emplace_back(path, b);
  }
  return blocks;
}

// `policy fmt FILE`: rewrites a policy file in canonical HCL, in place.
int RunPolicyFmt(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string& file = inv.args[0];
  auto text = ReadFileOrStdin(file);
  if (!text.ok()) return Fail("Error opening policy file: " + text.status().message());
  auto doc = hcl::Parse(*text);
  if (!doc.ok()) return Fail("failed to parse policy: " + doc.status().message());
  auto blocks = PolicyBlocks(*doc);
  if (!blocks.ok()) return Fail("failed to parse policy: " + blocks.status().message());
  std::ostringstream out;
  for (size_t i = 0; i < blocks->size(); ++i) {
    const auto& [path, body] = (*blocks)[i];
    out << (i ? "\n" : "") << "path " << Json(path).dump() << " {\n";
    for (auto& [k, v] : body.items()) {
      out << "  " << k << " = ";
      WriteHclValue(v, 2, out);
      out << "\n";
    }
    out << "}\n";
  }
  std::ofstream o(file, std::ios::trunc);
  if (!(o << out.str())) return Fail("cannot write " + file);
  std::cout << "Success! Formatted policy: " << file << "\n";
  return kExitOk;
}

int RunLeaseLookup(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  auto r = Call(inv.conn, "PUT", "sys/leases/lookup", Json{{"lease_id", inv.args[0]}});
  if (!r.ok()) return Fail("looking up lease", r.status());
  if (r->status != 200) return ApiError("looking up lease", *r);
  return PrintSecret(inv.out, r->body);
}

int RunLeaseRenew(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  Json body = {{"lease_id", inv.args[0]}};
  if (inv.flags.Has("increment")) body["increment"] = inv.flags.Seconds("increment");
  auto r = Call(inv.conn, "PUT", "sys/leases/renew", body);
  if (!r.ok()) return Fail("renewing lease", r.status());
  if (r->status != 200) return ApiError("renewing lease", *r);
  return PrintSecret(inv.out, r->body);
}

int RunLeaseRevoke(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 1, &rc)) return rc;
  const std::string& id = inv.args[0];
  const bool force = inv.flags.Bool("force") || inv.flags.Bool("f");
  const bool prefix = inv.flags.Bool("prefix");
  if (force && !prefix) return Fail("Specifying -force requires also specifying -prefix", kExitUsage);
  Result<Reply> r = Internal();
  if (force) r = Call(inv.conn, "PUT", "sys/leases/revoke-force/" + id, Json::object());
  else if (prefix) r = Call(inv.conn, "PUT", "sys/leases/revoke-prefix/" + id, Json::object());
  else r = Call(inv.conn, "PUT", "sys/leases/revoke", Json{{"lease_id", id}});
  if (!r.ok()) return Fail("revoking lease", r.status());
  if (r->status >= 300) return ApiError("revoking lease", *r);
  if (force) std::cout << "Success! Force revoked any leases with prefix: " << id << "\n";
  else if (prefix) std::cout << "Success! Revoked any leases with prefix: " << id << "\n";
  else std::cout << "Success! Revoked lease: " << id << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> PolicyCommands() {
  return {
      {"policy", "Interact with policies",
       "Usage: sealbox policy <subcommand> [options] [args]\n\n  Writes, reads, lists and deletes ACL policies.", {}, true,
       OutputFlags::kNone, nullptr},
      {"policy list", "Lists the installed policies", "Usage: sealbox policy list [options]\n\n  Lists the ACL policies.",
       {}, true, OutputFlags::kFormat, RunPolicyList},
      {"policy read", "Prints the contents of a policy",
       "Usage: sealbox policy read [options] NAME\n\n  Prints the rules of a policy.", {}, true, OutputFlags::kFormat,
       RunPolicyRead},
      {"policy write", "Uploads a named policy from a file",
       "Usage: sealbox policy write [options] NAME PATH\n\n  Uploads a policy from a file, or from stdin with \"-\".", {},
       true, OutputFlags::kNone, RunPolicyWrite},
      {"policy delete", "Deletes a policy by name", "Usage: sealbox policy delete [options] NAME\n\n  Deletes a policy.",
       {}, true, OutputFlags::kNone, RunPolicyDelete},
      {"policy fmt", "Formats a policy on disk",
       "Usage: sealbox policy fmt [options] PATH\n\n  Rewrites a policy file in canonical HCL (comments are not kept).", {},
       false, OutputFlags::kNone, RunPolicyFmt},
      {"lease", "Interact with leases",
       "Usage: sealbox lease <subcommand> [options] [args]\n\n  Looks up, renews and revokes leases.", {}, true,
       OutputFlags::kNone, nullptr},
      {"lease lookup", "Lookup a lease", "Usage: sealbox lease lookup [options] ID\n\n  Prints a lease's times.", {},
       true, OutputFlags::kFormatField, RunLeaseLookup},
      {"lease renew", "Renews the lease of a secret",
       "Usage: sealbox lease renew [options] ID\n\n  Renews a lease, by -increment if given.",
       {{"increment", T::kDuration, "The renewal asked for.", ""}}, true, OutputFlags::kFormatField, RunLeaseRenew},
      {"lease revoke", "Revokes leases and secrets",
       "Usage: sealbox lease revoke [options] ID\n\n  Revokes a lease, or every lease under a prefix (-prefix).",
       {{"prefix", T::kBool, "Treat ID as a prefix.", "false"},
        {"force", T::kBool, "With -prefix: forget the leases even if revoking fails.", "false"},
        {"f", T::kBool, "Alias of -force.", "false"},
        {"sync", T::kBool, "Wait for the revocation (Sealbox always does).", "false"}},
       true, OutputFlags::kNone, RunLeaseRevoke},
  };
}

}  // namespace sealbox::cli
