// The break-glass endpoints (core/break_glass.h for the ceremonies):
//   generate-root/{attempt,update}        Vault's, unauthenticated, bare JSON
//   generate-root-token/{attempt,update}  OpenBao 2.6+'s, for a token with
//                                         sudo (what the bao CLI calls)
//   decode-token                          OpenBao's: an encoded token, decoded
//   rekey/{init,update,verify}            unseal-key shares (Shamir seal)
//   rekey-recovery-key/{init,update,verify}  recovery-key shares (static seal)
//   rekey/backup                          Vault's, for a sudo token; always empty
// Vault answers the unauthenticated ones without an envelope (api/ renders
// them so); they still run through the pipeline, so they are audited (key
// shares and OTPs HMAC'd).
#include <algorithm>
#include <cctype>

#include "base/crypto.h"
#include "base/root_token_otp.h"
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

// A share as Vault reads one: hex, else standard base64, spaces trimmed.
Result<SecureBytes> ParseShare(const FieldData& f) {
  SB_ASSIGN_OR_RETURN(std::string key, f.GetString("key"));
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  key.erase(key.begin(), std::find_if_not(key.begin(), key.end(), space));
  key.erase(std::find_if_not(key.rbegin(), key.rend(), space).base(), key.end());
  if (key.empty()) return InvalidArgument("'key' must be specified in request body as JSON");
  auto share = crypto::HexDecode(key);
  if (!share.ok()) share = crypto::Base64Decode(key);
  // A share is a key (at most 64 bytes here) and its x coordinate.
  if (!share.ok() || share->empty() || share->size() > 65)
    return InvalidArgument("'key' must be a valid hex or base64 string");
  return std::move(share).value();
}

// Vault's raw sys/generate-root body. otp_length is the OTP a client must
// give, shown by the status and start answers (0 in update answers, as Vault).
Json GenerateRootJson(const RootGenerationStatus& st, size_t otp_length) {
  return Json{{"nonce", st.nonce},
              {"started", st.started},
              {"progress", st.progress},
              {"required", st.required},
              {"complete", st.complete},
              {"encoded_token", st.encoded_token},
              {"encoded_root_token", st.encoded_token},
              {"pgp_fingerprint", ""},
              {"otp", st.otp},
              {"otp_length", otp_length}};
}

// OpenBao's sys/generate-root-token status (in an envelope).
Json GenerateRootTokenStatusJson(const RootGenerationStatus& st) {
  Json j = {{"started", st.started},   {"complete", st.complete}, {"progress", st.progress},
            {"required", st.required}, {"otp", st.otp},           {"otp_length", root_token::kOtpLength}};
  if (st.started) {
    j["nonce"] = st.nonce;
    j["pgp_fingerprint"] = "";
  }
  return j;
}

Json GenerateRootTokenUpdateJson(const RootGenerationStatus& st) {
  return Json{{"started", true},       {"complete", st.complete}, {"progress", st.progress},
              {"required", st.required}, {"nonce", st.nonce},     {"encoded_token", st.encoded_token},
              {"pgp_fingerprint", ""}};
}

Json RekeyJson(const RekeyStatus& st) {
  Json j;
  if (st.complete) {
    Json hex = Json::array(), b64 = Json::array();
    for (const auto& k : st.keys) {
      hex.push_back(crypto::HexEncode(k.view()));
      b64.push_back(crypto::Base64Encode(k.view()));
    }
    j = {{"nonce", st.nonce}, {"complete", true}, {"keys", hex}, {"keys_base64", b64}};
  } else {
    j = {{"nonce", st.nonce}, {"started", st.started}, {"t", st.t},
         {"n", st.n},         {"progress", st.progress}, {"required", st.required}};
  }
  j["pgp_fingerprints"] = nullptr;
  j["backup"] = false;
  j["verification_required"] = st.verification_required;
  if (!st.verification_nonce.empty()) j["verification_nonce"] = st.verification_nonce;
  return j;
}

Json RekeyVerifyJson(const RekeyVerifyStatus& st) {
  if (st.complete) return Json{{"nonce", st.nonce}, {"complete", true}};
  return Json{{"nonce", st.nonce}, {"started", st.started}, {"t", st.t}, {"n", st.n}, {"progress", st.progress}};
}

Status RefuseRekeyOptions(const FieldData& f) {
  SB_ASSIGN_OR_RETURN(bool backup, f.GetBool("backup"));
  if (backup)
    return InvalidArgument("backup is not supported: Sealbox does not keep a copy of the new key shares");
  SB_ASSIGN_OR_RETURN(auto pgp, f.GetStringList("pgp_keys"));
  if (!pgp.empty()) return InvalidArgument("pgp_keys are not supported: the new key shares are returned in clear");
  return Status::Ok();
}

}  // namespace

std::vector<PathSpec> SystemBackend::GenerateRootRoutes() {
  std::vector<PathSpec> r;
  auto start = [this](const FieldData& f) -> Result<RootGenerationStatus> {
    SB_ASSIGN_OR_RETURN(std::string pgp_key, f.GetString("pgp_key"));
    if (!pgp_key.empty()) return InvalidArgument("pgp_key is not supported: start without one to get an OTP");
    SB_ASSIGN_OR_RETURN(std::string otp, f.GetString("otp"));
    return core_->root_generation().Start(otp);
  };
  auto update = [this](const FieldData& f) -> Result<RootGenerationStatus> {
    SB_ASSIGN_OR_RETURN(SecureBytes share, ParseShare(f));
    SB_ASSIGN_OR_RETURN(std::string nonce, f.GetString("nonce"));
    return core_->root_generation().Update(share, nonce);
  };
  auto cancel = [this](Request&, FieldData&) -> Result<Response> {
    core_->root_generation().Cancel();
    return Response::Empty();
  };
  const std::vector<logical::FieldSpec> attempt_fields = {{"otp"}, {"pgp_key"}};
  const std::vector<logical::FieldSpec> update_fields = {{"key"}, {"nonce"}};
  r.push_back({.pattern = "generate-root/attempt",
               .fields = attempt_fields,
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, core_->root_generation().Status());
                          return Response::WithData(GenerateRootJson(st, root_token::kOtpLength));
                        }},
                       {Operation::kUpdate, [start](Request&, FieldData& f) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, start(f));
                          return Response::WithData(GenerateRootJson(st, root_token::kOtpLength));
                        }},
                       {Operation::kDelete, cancel}}});
  r.push_back({.pattern = "generate-root/update",
               .fields = update_fields,
               .ops = {{Operation::kUpdate, [update](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(auto st, update(f));
                 return Response::WithData(GenerateRootJson(st, 0));
               }}}});
  r.push_back({.pattern = "generate-root-token/attempt",
               .fields = attempt_fields,
               .ops = {{Operation::kRead, [this](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, core_->root_generation().Status());
                          return Response::WithData(GenerateRootTokenStatusJson(st));
                        }},
                       {Operation::kUpdate, [start](Request&, FieldData& f) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, start(f));
                          return Response::WithData(GenerateRootTokenStatusJson(st));
                        }},
                       {Operation::kDelete, cancel}}});
  r.push_back({.pattern = "generate-root-token/update",
               .fields = update_fields,
               .ops = {{Operation::kUpdate, [update](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(auto st, update(f));
                 return Response::WithData(GenerateRootTokenUpdateJson(st));
               }}}});
  r.push_back({.pattern = "decode-token",
               .fields = {{"encoded_token"}, {"otp"}},
               .ops = {{Operation::kUpdate, [](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(std::string encoded, f.GetString("encoded_token"));
                 SB_ASSIGN_OR_RETURN(std::string otp, f.GetString("otp"));
                 if (encoded.empty() || otp.empty())
                   return InvalidArgument("provided 'encoded_token' or 'otp' is empty");
                 SB_ASSIGN_OR_RETURN(std::string token, root_token::Decode(encoded, otp));
                 return Response::WithData(Json{{"token", token}});
               }}}});
  return r;
}

std::vector<PathSpec> SystemBackend::RekeyRoutes(const std::string& prefix, RekeyTarget target) {
  std::vector<PathSpec> r;
  Rekey& rekey = core_->rekey(target);
  r.push_back({.pattern = prefix + "/init",
               .fields = {{"secret_shares", FieldType::kInt},
                          {"secret_threshold", FieldType::kInt},
                          {"pgp_keys", FieldType::kStringList},
                          {"backup", FieldType::kBool, false},
                          {"require_verification", FieldType::kBool, false},
                          {"stored_shares", FieldType::kInt}},
               .ops = {{Operation::kRead, [&rekey](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, rekey.Status());
                          return Response::WithData(RekeyJson(st));
                        }},
                       {Operation::kUpdate, [&rekey](Request&, FieldData& f) -> Result<Response> {
                          SB_RETURN_IF_ERROR(RefuseRekeyOptions(f));
                          SB_ASSIGN_OR_RETURN(int64_t shares, f.GetInt("secret_shares"));
                          SB_ASSIGN_OR_RETURN(int64_t threshold, f.GetInt("secret_threshold"));
                          SB_ASSIGN_OR_RETURN(bool verify, f.GetBool("require_verification"));
                          // Out-of-range counts fail the share checks with Vault's messages.
                          auto count = [](int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, -1, 1000)); };
                          SB_ASSIGN_OR_RETURN(auto st, rekey.Start(count(shares), count(threshold), verify));
                          return Response::WithData(RekeyJson(st));
                        }},
                       {Operation::kDelete, [&rekey](Request&, FieldData&) -> Result<Response> {
                          rekey.Cancel();
                          return Response::Empty();
                        }}}});
  r.push_back({.pattern = prefix + "/update",
               .fields = {{"key"}, {"nonce"}},
               .ops = {{Operation::kUpdate, [&rekey](Request&, FieldData& f) -> Result<Response> {
                 SB_ASSIGN_OR_RETURN(SecureBytes share, ParseShare(f));
                 SB_ASSIGN_OR_RETURN(std::string nonce, f.GetString("nonce"));
                 SB_ASSIGN_OR_RETURN(auto st, rekey.Update(share, nonce));
                 return Response::WithData(RekeyJson(st));
               }}}});
  r.push_back({.pattern = prefix + "/verify",
               .fields = {{"key"}, {"nonce"}},
               .ops = {{Operation::kRead, [&rekey](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, rekey.VerifyStatus());
                          return Response::WithData(RekeyVerifyJson(st));
                        }},
                       {Operation::kUpdate, [&rekey](Request&, FieldData& f) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(SecureBytes share, ParseShare(f));
                          SB_ASSIGN_OR_RETURN(std::string nonce, f.GetString("nonce"));
                          SB_ASSIGN_OR_RETURN(auto st, rekey.Verify(share, nonce));
                          return Response::WithData(RekeyVerifyJson(st));
                        }},
                       {Operation::kDelete, [&rekey](Request&, FieldData&) -> Result<Response> {
                          SB_ASSIGN_OR_RETURN(auto st, rekey.RestartVerify());
                          return Response::WithData(RekeyVerifyJson(st));
                        }}}});
  // Sealbox never keeps a backup of new shares (rekey refuses `backup`), so
  // there is never one to read and deleting none succeeds: Vault's answers
  // when no backup exists. Vault (and OpenBao) have it for the barrier only.
  if (target == RekeyTarget::kBarrier)
    r.push_back({.pattern = prefix + "/backup",
                 .ops = {{Operation::kRead, [](Request&, FieldData&) -> Result<Response> {
                            return InvalidArgument("no backed-up keys found");
                          }},
                         {Operation::kDelete, [](Request&, FieldData&) -> Result<Response> {
                            return Response::Empty();
                          }}}});
  return r;
}

}  // namespace sealbox::core
