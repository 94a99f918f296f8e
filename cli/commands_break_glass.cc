// operator generate-root and operator rekey: the break-glass ceremonies, on
// Vault's sys/generate-root and sys/rekey endpoints (they take key shares, no
// token). As vault's CLI: a key share comes as the argument, "-" for stdin, or
// from a prompt that does not echo; the nonce, unless given, is read from the
// attempt's status.
#include <iostream>

#include "base/root_token_otp.h"
#include "cli/command.h"
#include "cli/prompt.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

std::string Text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The share to submit, from the argument, stdin ("-") or a hidden prompt.
Result<std::string> ShareFrom(const Invocation& inv, const std::string& label) {
  std::string key = inv.args.empty() ? "" : inv.args[0];
  if (!key.empty() && key != "-") return key;
  if (key.empty() && inv.flags.Bool("non-interactive")) return InvalidArgument(label + " is required");
  return ReadSecret(label + " (will be hidden): ");
}

// One GET or DELETE/PUT with its error reporting; the body on success.
Result<Json> Exchange(const Invocation& inv, const std::string& what, const std::string& method,
                      const std::string& path, const Json& body, int* exit_code) {
  auto r = Call(inv.conn, method, path, body);
  if (!r.ok()) {
    *exit_code = Fail(what, r.status());
    return r.status();
  }
  if (r->status >= 300) {
    *exit_code = ApiError(what, *r);
    return InvalidArgument(what);
  }
  return r->body;
}

// ---- operator generate-root ----

int PrintGenerateRoot(const Invocation& inv, const Json& s) {
  if (inv.out.format != "table") return PrintMap(inv.out, s);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Nonce", s.value("nonce", "")},
      {"Started", Text(s.value("started", Json(false)))},
      {"Progress", std::to_string(s.value("progress", 0)) + "/" + std::to_string(s.value("required", 0))},
      {"Complete", Text(s.value("complete", Json(false)))}};
  if (!s.value("otp", "").empty()) rows.push_back({"OTP", s.value("otp", "")});
  if (s.value("otp_length", 0) > 0) rows.push_back({"OTP Length", std::to_string(s.value("otp_length", 0))});
  if (!s.value("encoded_token", "").empty()) rows.push_back({"Encoded Token", s.value("encoded_token", "")});
  PrintKeyValues(rows);
  return kExitOk;
}

int RunGenerateRoot(Invocation& inv) {
  int rc = kExitOk;
  if (!CheckArgs(inv, 0, 1, &rc)) return rc;
  const std::string decode = inv.flags.String("decode");
  const std::string otp = inv.flags.String("otp");
  if (inv.flags.Bool("generate-otp")) {
    std::cout << root_token::GenerateOtp() << "\n";
    return kExitOk;
  }
  if (!decode.empty()) {
    if (otp.empty()) return Fail("Missing -otp flag; the OTP used to start the generation is required", kExitUsage);
    std::string encoded = decode;
    if (decode == "-") {
      auto in = ReadFileOrStdin("-");
      if (!in.ok()) return Fail("reading the encoded token", in.status());
      encoded = *in;
      while (!encoded.empty() && (encoded.back() == '\n' || encoded.back() == '\r')) encoded.pop_back();
    }
    auto token = root_token::Decode(encoded, otp);
    if (!token.ok()) return Fail("decoding the root token", token.status());
    if (inv.out.format != "table") return PrintMap(inv.out, Json{{"token", *token}});
    std::cout << *token << "\n";
    return kExitOk;
  }
  const std::string path = "sys/generate-root/attempt";
  if (inv.flags.Bool("cancel")) {
    auto r = Exchange(inv, "canceling root token generation", "DELETE", path, nullptr, &rc);
    if (!r.ok()) return rc;
    std::cout << "Success! Root token generation canceled (if it was started)\n";
    return kExitOk;
  }
  if (inv.flags.Bool("status")) {
    auto st = Exchange(inv, "getting root generation status", "GET", path, nullptr, &rc);
    return st.ok() ? PrintGenerateRoot(inv, *st) : rc;
  }
  if (inv.flags.Bool("init")) {
    auto st = Exchange(inv, "initializing root generation", "PUT", path, Json{{"otp", otp}}, &rc);
    return st.ok() ? PrintGenerateRoot(inv, *st) : rc;
  }
  std::string nonce = inv.flags.String("nonce");
  if (nonce.empty()) {
    auto st = Exchange(inv, "getting root generation status", "GET", path, nullptr, &rc);
    if (!st.ok()) return rc;
    if (!st->value("started", false)) return Fail("No root generation is in progress; start one with -init");
    nonce = st->value("nonce", "");
  }
  auto key = ShareFrom(inv, "Unseal Key (or Recovery Key)");
  if (!key.ok()) return Fail("reading the key share", key.status(), kExitUsage);
  auto st = Exchange(inv, "providing the key share", "PUT", "sys/generate-root/update",
                     Json{{"key", *key}, {"nonce", nonce}}, &rc);
  return st.ok() ? PrintGenerateRoot(inv, *st) : rc;
}

// ---- operator rekey ----

std::string RekeyBase(const Invocation& inv) {
  return inv.flags.String("target") == "recovery" ? "sys/rekey-recovery-key/" : "sys/rekey/";
}

int PrintRekeyStatus(const Invocation& inv, const Json& s, bool verify) {
  if (inv.out.format != "table") return PrintMap(inv.out, s);
  std::vector<std::pair<std::string, std::string>> rows = {{"Nonce", s.value("nonce", "")},
                                                           {"Started", Text(s.value("started", Json(false)))}};
  const int threshold = verify ? s.value("t", 0) : s.value("required", 0);
  rows.push_back({verify ? "Verification Progress" : "Progress",
                  std::to_string(s.value("progress", 0)) + "/" + std::to_string(threshold)});
  rows.push_back({"New Shares", std::to_string(s.value("n", 0))});
  rows.push_back({"New Threshold", std::to_string(s.value("t", 0))});
  if (!verify) {
    rows.push_back({"Verification Required", Text(s.value("verification_required", Json(false)))});
    if (s.contains("verification_nonce")) rows.push_back({"Verification Nonce", s.value("verification_nonce", "")});
  }
  PrintKeyValues(rows);
  return kExitOk;
}

int PrintRekeyKeys(const Invocation& inv, const Json& s) {
  if (inv.out.format != "table") return PrintMap(inv.out, s);
  const Json& keys = s["keys_base64"];
  for (size_t i = 0; i < keys.size(); ++i) std::cout << "Key " << i + 1 << ": " << Text(keys[i]) << "\n";
  std::cout << "\nOperation nonce: " << s.value("nonce", "") << "\n\n";
  if (s.value("verification_required", false)) {
    std::cout << "The new key shares are not in use yet: a threshold of them must be given\n"
              << "back with `sealbox operator rekey -verify` (verification nonce "
              << s.value("verification_nonce", "") << ").\n";
  } else {
    std::cout << "Key shares replaced with " << keys.size()
              << " new shares. Please securely distribute the key shares printed\nabove. The old shares no longer "
                 "work.\n";
  }
  return kExitOk;
}

int RunRekey(Invocation& inv) {
  int rc = kExitOk;
  if (!CheckArgs(inv, 0, 1, &rc)) return rc;
  const std::string target = inv.flags.String("target");
  if (target != "barrier" && target != "recovery") return Fail("-target must be barrier or recovery", kExitUsage);
  const bool verify = inv.flags.Bool("verify");
  const std::string base = RekeyBase(inv);
  const std::string status_path = base + (verify ? "verify" : "init");
  if (inv.flags.Bool("cancel")) {
    auto r = Exchange(inv, "canceling rekey", "DELETE", status_path, nullptr, &rc);
    if (!r.ok()) return rc;
    std::cout << (verify ? "Success! Verification progress reset\n" : "Success! Canceled rekeying (if it was started)\n");
    return kExitOk;
  }
  if (inv.flags.Bool("status")) {
    auto st = Exchange(inv, "getting rekey status", "GET", status_path, nullptr, &rc);
    return st.ok() ? PrintRekeyStatus(inv, *st, verify) : rc;
  }
  if (inv.flags.Bool("init")) {
    Json req = {{"secret_shares", inv.flags.Int("key-shares")},
                {"secret_threshold", inv.flags.Int("key-threshold")},
                {"require_verification", verify}};
    auto st = Exchange(inv, "initializing rekey", "PUT", base + "init", req, &rc);
    return st.ok() ? PrintRekeyStatus(inv, *st, false) : rc;
  }
  std::string nonce = inv.flags.String("nonce");
  if (nonce.empty()) {
    auto st = Exchange(inv, "getting rekey status", "GET", status_path, nullptr, &rc);
    if (!st.ok()) return rc;
    if (!st->value("started", false)) return Fail("No rekey is in progress; start one with -init");
    nonce = st->value("nonce", "");
  }
  auto key = ShareFrom(inv, verify ? "New Key Share" : "Key Share");
  if (!key.ok()) return Fail("reading the key share", key.status(), kExitUsage);
  auto st = Exchange(inv, "providing the key share", "PUT", base + (verify ? "verify" : "update"),
                     Json{{"key", *key}, {"nonce", nonce}}, &rc);
  if (!st.ok()) return rc;
  if (!st->value("complete", false)) return PrintRekeyStatus(inv, *st, verify);
  if (verify) {
    std::cout << "Success! Rekey verification complete: the new key shares are now in use.\n";
    return kExitOk;
  }
  return PrintRekeyKeys(inv, *st);
}

}  // namespace

std::vector<Command> BreakGlassCommands() {
  const std::string no_pgp = "PGP-encrypted keys are not supported";
  return {
      {"operator generate-root", "Generates a new root token",
       "Usage: sealbox operator generate-root [options] [KEY]\n\n"
       "  Issues a new root token once a quorum of unseal key shares (recovery\n"
       "  shares under the static seal) is given. Start with -init: the server\n"
       "  returns a one-time password (OTP). Each share holder then runs the\n"
       "  command with their share; the last one gets the encoded token, which\n"
       "  -decode=<token> -otp=<otp> turns into the root token.",
       {{"init", T::kBool, "Start a root token generation.", "false"},
        {"cancel", T::kBool, "Cancel the generation in progress.", "false"},
        {"status", T::kBool, "Print the status of the generation in progress.", "false"},
        {"decode", T::kString, "The encoded token to decode (\"-\" reads it from stdin); needs -otp.", ""},
        {"otp", T::kString, "The OTP: for -decode, or to start with one of your own (28 characters).", ""},
        {"generate-otp", T::kBool, "Print a fresh OTP for -init -otp.", "false"},
        {"nonce", T::kString, "The nonce of the attempt (read from its status when not given).", ""},
        {"pgp-key", T::kString, "", "", no_pgp},
        {"recovery-token", T::kBool, "", "", "recovery operation tokens are not supported"}},
       true, OutputFlags::kFormat, RunGenerateRoot},
      {"operator rekey", "Generates new unseal keys",
       "Usage: sealbox operator rekey [options] [KEY]\n\n"
       "  Replaces the unseal key shares (or, with -target=recovery under the\n"
       "  static seal, the recovery shares) once a quorum of the current ones is\n"
       "  given. Start with -init -key-shares=N -key-threshold=T; add -verify to\n"
       "  keep the old shares until a quorum of the new ones is given back with\n"
       "  -verify.",
       {{"init", T::kBool, "Start a rekey.", "false"},
        {"cancel", T::kBool, "Cancel the rekey in progress (with -verify: restart the verification).", "false"},
        {"status", T::kBool, "Print the status of the rekey (with -verify: of its verification).", "false"},
        {"verify", T::kBool, "With -init: require verification; otherwise give a new share back.", "false"},
        {"key-shares", T::kInt, "Number of new key shares.", "5"},
        {"key-threshold", T::kInt, "Number of new key shares required to unseal.", "3"},
        {"nonce", T::kString, "The nonce of the operation (read from its status when not given).", ""},
        {"target", T::kString, "barrier (unseal keys) or recovery (recovery keys).", "barrier"},
        {"pgp-keys", T::kStrings, "", "", no_pgp},
        {"backup", T::kBool, "", "", "Sealbox does not keep a backup of the new keys"},
        {"backup-delete", T::kBool, "", "", "Sealbox does not keep a backup of the new keys"},
        {"backup-retrieve", T::kBool, "", "", "Sealbox does not keep a backup of the new keys"}},
       true, OutputFlags::kFormat, RunRekey},
  };
}

}  // namespace sealbox::cli
