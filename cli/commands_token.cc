// token create|lookup|renew|revoke|capabilities and login.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "cli/prompt.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

// Vault splits -policy values on commas too: -policy=a,b -policy=c.
Json PolicyList(const std::vector<std::string>& values) {
  Json out = Json::array();
  for (const auto& v : values) {
    auto items = JsonToStringList(Json(v));
    if (items.ok())
      for (auto& p : *items) out.push_back(p);
  }
  return out;
}

Result<Json> CreateBody(const FlagValues& f) {
  Json body = {{"renewable", f.Bool("renewable")}};
  if (f.Has("policy")) body["policies"] = PolicyList(f.Strings("policy"));
  if (f.Has("metadata")) {
    SB_ASSIGN_OR_RETURN(Json meta, ParseKeyValues(f.Strings("metadata")));
    body["meta"] = meta;
  }
  for (const char* d : {"ttl", "explicit-max-ttl", "period"}) {
    std::string key = d;
    std::replace(key.begin(), key.end(), '-', '_');
    if (f.Has(d)) body[key] = SecondsText(f.Seconds(d));
  }
  if (f.Has("id")) body["id"] = f.String("id");
  if (f.Has("display-name")) body["display_name"] = f.String("display-name");
  if (f.Has("use-limit")) body["num_uses"] = f.Int("use-limit");
  if (f.Has("type")) body["type"] = f.String("type");
  if (f.Bool("no-default-policy")) body["no_default_policy"] = true;
  return body;
}

int RunCreate(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto body = CreateBody(inv.flags);
  if (!body.ok()) return Fail("Failed to parse -metadata: " + body.status().message(), kExitUsage);
  std::string path = "auth/token/create";
  if (inv.flags.Has("role")) path += "/" + inv.flags.String("role");
  else if (inv.flags.Bool("orphan")) path = "auth/token/create-orphan";
  auto r = Call(inv.conn, "POST", path, *body);
  if (!r.ok()) return Fail("creating token", r.status());
  if (r->status != 200) return ApiError("creating token", *r);
  return PrintSecret(inv.out, r->body);
}

// The request for lookup/renew of: the caller (no argument), a token, or
// with -accessor the token an accessor names.
struct TokenTarget {
  std::string path;
  Json body;
};

Result<TokenTarget> Target(const Invocation& inv, const std::string& verb, int* rc) {
  const bool accessor = inv.flags.Bool("accessor");
  if (accessor && inv.args.size() != 1) {
    std::cerr << (inv.args.empty() ? "Not enough" : "Too many") << " arguments with -accessor (expected 1, got "
              << inv.args.size() << ")\n";
    *rc = kExitUsage;
    return InvalidArgument("");
  }
  if (!CheckArgs(inv, 0, 1, rc)) return InvalidArgument("");
  if (accessor) return TokenTarget{"auth/token/" + verb + "-accessor", {{"accessor", inv.args[0]}}};
  if (inv.args.empty()) return TokenTarget{"auth/token/" + verb + "-self", Json::object()};
  return TokenTarget{"auth/token/" + verb, {{"token", inv.args[0]}}};
}

int RunLookup(Invocation& inv) {
  int rc = kExitUsage;
  auto t = Target(inv, "lookup", &rc);
  if (!t.ok()) return rc;
  auto r = t->path == "auth/token/lookup-self" ? Call(inv.conn, "GET", t->path) : Call(inv.conn, "POST", t->path, t->body);
  if (!r.ok()) return Fail("looking up token", r.status());
  if (r->status != 200) return ApiError("looking up token", *r);
  return PrintSecret(inv.out, r->body);
}

int RunRenew(Invocation& inv) {
  int rc = kExitUsage;
  auto t = Target(inv, "renew", &rc);
  if (!t.ok()) return rc;
  for (const char* f : {"increment", "i"})
    if (inv.flags.Has(f)) t->body["increment"] = SecondsText(inv.flags.Seconds(f));
  auto r = Call(inv.conn, "POST", t->path, t->body);
  if (!r.ok()) return Fail("renewing token", r.status());
  if (r->status != 200) return ApiError("renewing token", *r);
  return PrintSecret(inv.out, r->body);
}

Result<TokenTarget> RevokeTarget(const Invocation& inv, int* rc) {
  const std::string mode = inv.flags.String("mode");
  auto usage = [&](const std::string& msg) {
    *rc = Fail(msg, kExitUsage);
    return InvalidArgument("");
  };
  if (inv.flags.Bool("self")) {
    if (inv.flags.Bool("accessor")) return usage("Cannot use -self with -accessor");
    if (!inv.args.empty()) return usage("Tokens cannot be specified with -self");
    return TokenTarget{"auth/token/revoke-self", Json::object()};
  }
  if (!CheckArgs(inv, 1, 1, rc)) return InvalidArgument("");
  if (inv.flags.Bool("accessor")) {
    if (!mode.empty()) return usage("Cannot use -mode with -accessor");
    return TokenTarget{"auth/token/revoke-accessor", {{"accessor", inv.args[0]}}};
  }
  if (mode.empty()) return TokenTarget{"auth/token/revoke", {{"token", inv.args[0]}}};
  if (mode == "orphan") return TokenTarget{"auth/token/revoke-orphan", {{"token", inv.args[0]}}};
  if (mode == "path") return TokenTarget{"sys/leases/revoke-prefix/" + CleanPath(inv.args[0]), Json::object()};
  return usage("Invalid -mode \"" + mode + "\": expected \"orphan\" or \"path\"");
}

int RunRevoke(Invocation& inv) {
  int rc = kExitUsage;
  auto t = RevokeTarget(inv, &rc);
  if (!t.ok()) return rc;
  auto r = Call(inv.conn, t->path.rfind("sys/", 0) == 0 ? "PUT" : "POST", t->path, t->body);
  if (!r.ok()) return Fail("revoking token", r.status());
  if (r->status >= 300) return ApiError("revoking token", *r);
  std::cout << "Success! Revoked token (if it existed)\n";
  return kExitOk;
}

int RunCapabilities(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 1, 2, &rc)) return rc;
  const bool two = inv.args.size() == 2;
  const std::string path = CleanPath(inv.args.back());
  Json body = {{"paths", {path}}};
  std::string api = "sys/capabilities-self";
  if (two && inv.flags.Bool("accessor")) api = "sys/capabilities-accessor", body["accessor"] = inv.args[0];
  else if (two) api = "sys/capabilities", body["token"] = inv.args[0];
  else if (inv.flags.Bool("accessor")) return ArgCountError(2, 2, 1);
  auto r = Call(inv.conn, "POST", api, body);
  if (!r.ok()) return Fail("listing capabilities", r.status());
  if (r->status != 200) return ApiError("listing capabilities", *r);
  const Json& d = r->body.contains("data") ? r->body["data"] : r->body;
  const Json caps = d.contains(path) ? d[path] : d.value("capabilities", Json::array());
  if (inv.out.format != "table") return PrintMap(inv.out, caps);
  std::string line;
  for (const auto& c : caps) line += (line.empty() ? "" : ", ") + GoValue(c);
  std::cout << line << "\n";
  return kExitOk;
}

// The token to log in with: the argument, stdin for "-", else a prompt.
Result<std::string> LoginToken(const Invocation& inv) {
  std::string tok = inv.args.empty() ? "" : inv.args[0];
  if (tok.rfind("token=", 0) == 0) tok = tok.substr(6);
  if (tok == "-") {
    SB_ASSIGN_OR_RETURN(std::string in, ReadFileOrStdin("-"));
    while (!in.empty() && (in.back() == '\n' || in.back() == '\r')) in.pop_back();
    return in;
  }
  if (!tok.empty()) return tok;
  if (inv.flags.Bool("non-interactive")) return InvalidArgument("a token is required (-non-interactive)");
  return ReadSecret("Token (will be hidden): ");
}

// Vault builds the login answer from lookup-self's data (these fields only).
Json LoginSecret(const std::string& token, const Json& d) {
  Json auth = {{"client_token", token},
               {"accessor", d.value("accessor", "")},
               {"policies", d.value("policies", Json())},
               {"token_policies", d.value("policies", Json())},
               {"identity_policies", d.value("identity_policies", Json())},
               {"metadata", d.value("meta", Json())},
               {"lease_duration", d.value("ttl", 0)},
               {"renewable", d.value("renewable", false)}};
  return {{"request_id", ""}, {"auth", auth}};
}

Status StoreToken(const std::string& token) {
  const std::string path = TokenHelperPath();
  const mode_t old = ::umask(077);
  std::ofstream out(path, std::ios::trunc);
  out << token;
  out.close();
  ::umask(old);
  ::chmod(path.c_str(), 0600);
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

int RunLogin(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 1, &rc)) return rc;
  if (inv.flags.String("method") != "token")
    return Fail("Sealbox supports -method=token only; log in to other auth methods with "
                "`sealbox write auth/<path>/login ...`", kExitUsage);
  auto token = LoginToken(inv);
  if (!token.ok()) return Fail("authenticating", token.status());
  Connection c = inv.conn;
  c.token = *token;
  auto r = Call(c, "GET", "auth/token/lookup-self");
  if (!r.ok()) return Fail("authenticating", r.status());
  if (r->status != 200) return ApiError("authenticating", *r);
  const bool store = !inv.flags.Bool("no-store");
  if (store) {
    if (Status st = StoreToken(*token); !st.ok()) return Fail("storing the token", st);
  }
  if (!Env("TOKEN").empty())
    std::cerr << "WARNING! The VAULT_TOKEN environment variable is set! The value of this variable\n"
                 "will take precedence; if this is unwanted please unset VAULT_TOKEN or update its value.\n\n";
  const Json secret = LoginSecret(*token, r->body["data"]);
  if (inv.flags.Bool("token-only")) return PrintField(inv.out, secret, "token");
  if (inv.flags.Bool("no-print")) return kExitOk;
  if (inv.out.format == "table" && inv.out.field.empty())
    std::cout << (store ? "Success! You are now authenticated. The token information displayed below is\n"
                          "already stored in the token helper. You do NOT need to run \"sealbox login\" again.\n"
                          "Future requests will automatically use this token.\n\n"
                        : "Success! You are now authenticated. The token information displayed below is\n"
                          "NOT stored (-no-store). Use it with VAULT_TOKEN.\n\n");
  return PrintSecret(inv.out, secret);
}

Command TokenCommand(const std::string& sub, const std::string& synopsis, const std::string& text,
                     std::vector<FlagSpec> flags, OutputFlags out, int (*run)(Invocation&)) {
  return {"token " + sub, synopsis, "Usage: sealbox token " + sub + " [options]" + text, std::move(flags), true, out,
          run};
}

}  // namespace

std::vector<Command> TokenCommands() {
  const FlagSpec accessor = {"accessor", T::kBool, "Treat the argument as an accessor, not a token.", "false"};
  const FlagSpec increment = {"increment", T::kDuration, "The renewal asked for.", ""};
  return {
      {"token", "Interact with tokens",
       "Usage: sealbox token <subcommand> [options] [args]\n\n  Creates, looks up, renews and revokes tokens.", {}, true,
       OutputFlags::kNone, nullptr},
      TokenCommand("create", "Create a new token", "\n\n  Creates a token, a child of the caller's unless -orphan.",
                   {{"id", T::kString, "The token's value (root only).", ""},
                    {"display-name", T::kString, "A name for the token.", ""},
                    {"ttl", T::kDuration, "Initial TTL.", ""},
                    {"explicit-max-ttl", T::kDuration, "A hard limit on the TTL.", ""},
                    {"period", T::kDuration, "Renew to this period, without a maximum.", ""},
                    {"renewable", T::kBool, "Allow renewal.", "true"},
                    {"orphan", T::kBool, "Create without a parent.", "false"},
                    {"no-default-policy", T::kBool, "Do not attach the default policy.", "false"},
                    {"use-limit", T::kInt, "Number of uses (0: unlimited).", ""},
                    {"policy", T::kStrings, "A policy to attach; repeat for several.", ""},
                    {"metadata", T::kStrings, "K=V metadata; repeat for several.", ""},
                    {"type", T::kString, "service or batch.", ""},
                    {"role", T::kString, "Create against this token role.", ""},
                    {"entity-alias", T::kString, "", "", "identity entities are not supported"}},
                   OutputFlags::kFormatField, RunCreate),
      TokenCommand("lookup", "Display information about a token",
                   " [TOKEN | ACCESSOR]\n\n  Without an argument, the caller's token; with -accessor, the token\n"
                   "  the accessor names.",
                   {accessor}, OutputFlags::kFormatField, RunLookup),
      TokenCommand("renew", "Renew a token lease", " [TOKEN | ACCESSOR]\n\n  Renews the caller's token, a token or (-accessor) an accessor's.",
                   {accessor, increment, {"i", T::kDuration, "Alias of -increment.", ""}}, OutputFlags::kFormatField,
                   RunRenew),
      TokenCommand("revoke", "Revoke a token and its children",
                   " [TOKEN | ACCESSOR]\n\n  Revokes a token and its children (-mode=orphan keeps the children),\n"
                   "  the token an accessor names (-accessor), or the caller's (-self).",
                   {accessor, {"self", T::kBool, "Revoke the caller's token.", "false"},
                    {"mode", T::kString, "\"orphan\" (children stay) or \"path\" (a token path prefix).", ""}},
                   OutputFlags::kNone, RunRevoke),
      TokenCommand("capabilities", "Print capabilities of a token on a path",
                   " [TOKEN | ACCESSOR] PATH\n\n  The caller's capabilities on PATH, or a token's (an accessor's).", {accessor},
                   OutputFlags::kFormat, RunCapabilities),
      {"login", "Authenticate locally",
       "Usage: sealbox login [options] [TOKEN]\n\n  Checks TOKEN and stores it in ~/.vault-token (mode 0600). Without TOKEN\n"
       "  it prompts (not echoed); \"-\" reads it from stdin.",
       {{"method", T::kString, "Auth method: only \"token\".", "token"},
        {"path", T::kString, "Mount path of the auth method (token only).", ""},
        {"no-store", T::kBool, "Do not store the token.", "false"},
        {"no-print", T::kBool, "Print nothing on success.", "false"},
        {"token-only", T::kBool, "Print only the token.", "false"}},
       true, OutputFlags::kFormatField, RunLogin},
  };
}

}  // namespace sealbox::cli
