// status and operator init|unseal|seal|step-down|rotate|key-status.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/prompt.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

std::string Bool(const Json& v) { return v.is_boolean() && v.get<bool>() ? "true" : "false"; }

void PrintSealStatusTable(const Json& s) {
  const bool sealed = s.value("sealed", true);
  const bool recovery = s.value("recovery_seal", false);
  std::vector<std::pair<std::string, std::string>> rows = {{"Seal Type", s.value("type", "shamir")}};
  // As vault prints it: an auto-unseal vault counts recovery shares.
  if (recovery) rows.push_back({"Recovery Seal Type", "shamir"});
  rows.push_back({"Initialized", Bool(s.value("initialized", Json(false)))});
  rows.push_back({"Sealed", sealed ? "true" : "false"});
  rows.push_back({recovery ? "Total Recovery Shares" : "Total Shares", std::to_string(s.value("n", 0))});
  rows.push_back({"Threshold", std::to_string(s.value("t", 0))});
  if (sealed) {
    rows.push_back({"Unseal Progress", std::to_string(s.value("progress", 0)) + "/" + std::to_string(s.value("t", 0))});
    rows.push_back({"Unseal Nonce", s.value("nonce", "")});
  }
  rows.push_back({"Version", s.value("version", "")});
  rows.push_back({"Build Date", s.value("build_date", "")});
  rows.push_back({"Storage Type", s.value("storage_type", "")});
  if (!sealed) {
    rows.push_back({"Cluster Name", s.value("cluster_name", "")});
    rows.push_back({"Cluster ID", s.value("cluster_id", "")});
  }
  const bool ha = s.value("ha_enabled", false);
  rows.push_back({"HA Enabled", ha ? "true" : "false"});
  if (ha && !sealed) {
    // As vault prints it, from sys/leader.
    const bool active = s.value("is_self", false);
    rows.push_back({"HA Cluster", s.value("leader_cluster_address", "")});
    rows.push_back({"HA Mode", active ? "active" : "standby"});
    if (active) rows.push_back({"Active Since", s.value("active_time", "")});
    else rows.push_back({"Active Node Address", s.value("leader_address", "")});
  }
  PrintKeyValues(rows);
}

// Prints a seal status; exit 0 unsealed, 2 sealed (vault's `status`). With
// HA the leader status is merged in, as vault's JSON output does.
int PrintSealStatus(const Invocation& inv, Json s, const Json& leader = Json()) {
  s["ha_enabled"] = false;
  if (leader.is_object() && leader.value("ha_enabled", false))
    for (const char* k : {"ha_enabled", "is_self", "active_time", "leader_address", "leader_cluster_address"})
      if (leader.contains(k)) s[k] = leader[k];
  if (inv.out.format == "table") PrintSealStatusTable(s);
  else PrintMap(inv.out, s);
  return s.value("sealed", true) ? kExitError : kExitOk;
}

int RunStatus(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto r = Call(inv.conn, "GET", "sys/seal-status");
  // As vault's status: failing to ask is 1; 2 means sealed.
  if (!r.ok()) return Fail("checking seal status", r.status(), kExitUsage);
  if (r->status != 200) {
    ApiError("checking seal status", *r);
    return kExitUsage;
  }
  Json leader;
  if (!r->body.value("sealed", true)) {
    auto l = Call(inv.conn, "GET", "sys/leader");
    if (l.ok() && l->status == 200) leader = l->body;
  }
  return PrintSealStatus(inv, r->body, leader);
}

// Vault's `operator init -format=json` document (Kubernetes init jobs read it).
Json InitJson(const Json& req, const Json& resp) {
  auto list = [&](const char* k) { return resp.contains(k) && resp[k].is_array() ? resp[k] : Json::array(); };
  const bool stored = list("keys").empty();  // auto-unseal: no unseal keys
  return {{"unseal_keys_b64", list("keys_base64")},
          {"unseal_keys_hex", list("keys")},
          {"unseal_shares", stored ? 1 : req.value("secret_shares", 0)},
          {"unseal_threshold", stored ? 1 : req.value("secret_threshold", 0)},
          {"recovery_keys_b64", list("recovery_keys_base64")},
          {"recovery_keys_hex", list("recovery_keys")},
          {"recovery_keys_shares", req.value("recovery_shares", 0)},
          {"recovery_keys_threshold", req.value("recovery_threshold", 0)},
          {"root_token", resp.value("root_token", "")}};
}

void PrintInitText(const Json& init, bool recovery) {
  const Json& keys = init[recovery ? "recovery_keys_b64" : "unseal_keys_b64"];
  for (size_t i = 0; i < keys.size(); ++i)
    std::cout << (recovery ? "Recovery Key " : "Unseal Key ") << i + 1 << ": " << keys[i].get<std::string>() << "\n";
  std::cout << "\nInitial Root Token: " << init["root_token"].get<std::string>() << "\n\n";
  if (recovery) {
    std::cout << "Success! Vault is initialized\n\nRecovery key initialized with " << keys.size()
              << " key shares and a key threshold of " << init["recovery_keys_threshold"]
              << ". Please\nsecurely distribute the key shares printed above.\n";
    return;
  }
  const Json& t = init["unseal_threshold"];
  std::cout << "Vault initialized with " << keys.size() << " key shares and a key threshold of " << t
            << ". Please securely\ndistribute the key shares printed above. When the Vault is re-sealed,\n"
            << "restarted, or stopped, you must supply at least " << t << " of these keys to unseal it\n"
            << "before it can start servicing requests.\n";
}

int RunInitStatus(const Invocation& inv) {
  auto r = Call(inv.conn, "GET", "sys/init");
  if (!r.ok()) return Fail("checking initialization status", r.status());
  if (r->status != 200) return ApiError("checking initialization status", *r);
  const bool done = r->body.value("initialized", false);
  std::cout << (done ? "Vault is initialized" : "Vault is not initialized") << "\n";
  return done ? kExitOk : kExitError;
}

int RunInit(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  if (inv.flags.Bool("status")) return RunInitStatus(inv);
  // As vault's init: both share counts are sent; the seal decides which apply.
  auto st = Call(inv.conn, "GET", "sys/seal-status");
  if (!st.ok()) return Fail("initializing", st.status());
  const bool recovery = st->status == 200 && st->body.value("recovery_seal", false);
  Json req = {{"secret_shares", inv.flags.Int("key-shares")}, {"secret_threshold", inv.flags.Int("key-threshold")},
              {"recovery_shares", inv.flags.Int("recovery-shares")},
              {"recovery_threshold", inv.flags.Int("recovery-threshold")}};
  if (recovery) req.erase("secret_shares"), req.erase("secret_threshold");
  else req.erase("recovery_shares"), req.erase("recovery_threshold");
  auto r = Call(inv.conn, "PUT", "sys/init", req);
  if (!r.ok()) return Fail("initializing", r.status());
  if (r->status != 200) return ApiError("initializing", *r);
  req["recovery_shares"] = inv.flags.Int("recovery-shares");
  req["recovery_threshold"] = inv.flags.Int("recovery-threshold");
  const Json init = InitJson(req, r->body);
  if (inv.out.format != "table") return PrintMap(inv.out, init);
  PrintInitText(init, recovery);
  return kExitOk;
}

int RunUnseal(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 1, &rc)) return rc;
  Json body;
  if (inv.flags.Bool("reset")) {
    body = {{"reset", true}};
  } else {
    std::string key = inv.args.empty() ? "" : inv.args[0];
    if (key.empty() || key == "-") {
      if (inv.flags.Bool("non-interactive") && key.empty()) return Fail("An unseal key is required", kExitUsage);
      auto typed = ReadSecret("Unseal Key (will be hidden): ");
      if (!typed.ok()) return Fail("unsealing", typed.status());
      key = *typed;
    }
    body = {{"key", key}};
  }
  auto r = Call(inv.conn, "PUT", "sys/unseal", body);
  if (!r.ok()) return Fail("unsealing", r.status());
  if (r->status != 200) return ApiError("unsealing", *r);
  PrintSealStatus(inv, r->body);
  return kExitOk;  // a partial unseal is progress, not an error
}

// seal, step-down: one PUT and a success line.
template <const char* kPath, const char* kWhat, const char* kDone>
int RunSysAction(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto r = Call(inv.conn, "PUT", kPath);
  if (!r.ok()) return Fail(kWhat, r.status());
  if (r->status >= 300) return ApiError(kWhat, *r);
  std::cout << kDone << "\n";
  return kExitOk;
}
constexpr char kSealPath[] = "sys/seal", kSealWhat[] = "sealing", kSealDone[] = "Success! Vault is sealed.";
constexpr char kStepPath[] = "sys/step-down", kStepWhat[] = "stepping down",
               kStepDone[] = "Success! Stepped down";

// "2026-12-07T15:01:09.6Z" as Go's time.RFC822 of its UTC time: "07 Dec 26 15:01 UTC".
std::string Rfc822(const std::string& rfc3339) {
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int year, month, day, hour, minute;
  if (std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d", &year, &month, &day, &hour, &minute) != 5 || month < 1 ||
      month > 12)
    return rfc3339;
  char out[32];
  std::snprintf(out, sizeof out, "%02d %s %02d %02d:%02d UTC", day, kMonths[month - 1], year % 100, hour, minute);
  return out;
}

int PrintKeyStatus(Invocation& inv) {
  auto r = Call(inv.conn, "GET", "sys/key-status");
  if (!r.ok()) return Fail("reading key status", r.status());
  if (r->status != 200) return ApiError("reading key status", *r);
  const Json& d = r->body.contains("data") ? r->body["data"] : r->body;
  if (inv.out.format != "table" || !inv.out.field.empty()) return PrintMap(inv.out, d);
  // As vault: no header, the install time in Go's RFC822.
  PrintColumns({}, {{"Key Term", GoValue(d.value("term", Json()))},
                    {"Install Time", Rfc822(d.value("install_time", std::string()))},
                    {"Encryption Count", GoValue(d.value("encryptions", Json(0)))}});
  return kExitOk;
}

int RunKeyStatus(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  return PrintKeyStatus(inv);
}

// As vault: the rotation, then the new key's status.
int RunRotate(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  auto r = Call(inv.conn, "PUT", "sys/rotate");
  if (!r.ok()) return Fail("rotating key", r.status());
  if (r->status >= 300) return ApiError("rotating key", *r);
  if (inv.out.format == "table") std::cout << "Success! Rotated key\n\n";
  return PrintKeyStatus(inv);
}

}  // namespace

std::vector<Command> OperatorCommands() {
  const std::string unsupported_pgp = "PGP-encrypted keys are not supported";
  return {
      {"status", "Print seal and HA status",
       "Usage: sealbox status [options]\n\n  Prints the seal status. Exit code 0: unsealed; 2: sealed; 1: error.",
       {}, true, OutputFlags::kFormat, RunStatus},
      {"operator", "Perform operator-specific tasks",
       "Usage: sealbox operator <subcommand> [options] [args]\n\n  Initialise, unseal, seal and rotate the server.",
       {}, true, OutputFlags::kNone, nullptr},
      {"operator init", "Initializes a server",
       "Usage: sealbox operator init [options]\n\n  Initialises a new server: prints the unseal (or, with an auto-unseal\n"
       "  seal, recovery) key shares and the initial root token.",
       {{"key-shares", T::kInt, "Number of key shares to split the unseal key into.", "5"},
        {"key-threshold", T::kInt, "Number of key shares required to reconstruct the unseal key.", "3"},
        {"recovery-shares", T::kInt, "Number of recovery key shares (auto-unseal seals).", "5"},
        {"recovery-threshold", T::kInt, "Number of recovery key shares required (auto-unseal seals).", "3"},
        {"status", T::kBool, "Print the initialization status only: exit 0 initialised, 2 not.", "false"},
        {"pgp-keys", T::kStrings, "", "", unsupported_pgp},
        {"root-token-pgp-key", T::kString, "", "", unsupported_pgp},
        {"recovery-pgp-keys", T::kStrings, "", "", unsupported_pgp},
        {"stored-shares", T::kInt, "", "", "stored shares are not supported"}},
       true, OutputFlags::kFormat, RunInit},
      {"operator unseal", "Unseals the server",
       "Usage: sealbox operator unseal [options] [KEY]\n\n  Provides one unseal key share. Without KEY it prompts (the key is not\n"
       "  echoed); from a pipe it reads one line.",
       {{"reset", T::kBool, "Discard the unseal progress so far.", "false"},
        {"migrate", T::kBool, "", "", "seal migration is not supported"}},
       true, OutputFlags::kFormat, RunUnseal},
      {"operator seal", "Seals the server", "Usage: sealbox operator seal [options]\n\n  Seals the server.", {}, true,
       OutputFlags::kNone, RunSysAction<kSealPath, kSealWhat, kSealDone>},
      {"operator step-down", "Forces the node to resign active duty",
       "Usage: sealbox operator step-down [options]\n\n  Asks the active node to step down.", {}, true,
       OutputFlags::kNone, RunSysAction<kStepPath, kStepWhat, kStepDone>},
      {"operator rotate", "Rotates the underlying encryption key",
       "Usage: sealbox operator rotate [options]\n\n  Adds a new keyring term; new data is encrypted with it.", {}, true,
       OutputFlags::kFormat, RunRotate},
      {"operator key-status", "Provides information about the active encryption key",
       "Usage: sealbox operator key-status [options]\n\n  Prints the keyring term in use and when it was installed.", {},
       true, OutputFlags::kFormatField, RunKeyStatus},
  };
}

}  // namespace sealbox::cli
