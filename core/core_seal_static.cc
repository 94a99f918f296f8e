// The static seal: init, auto-unseal at start, recovery-key unseal after a
// manual seal, and rotation of the wrapping key.
//
// Storage (outside the barrier, which is what these keys open):
//   core/static-seal/root-key      {"key_id": ID, "ciphertext": b64}
//   core/static-seal/recovery-key  {"key_id": ID, "ciphertext": b64}
// each AES-256-GCM under the seal key with "<path>|<key id>" as associated
// data, so a record cannot be moved to another path or relabelled with
// another key id. The recovery key itself is only ever compared
// (constant-time) with the one recovery shares combine to.
#include <algorithm>

#include "base/crypto.h"
#include "base/log.h"
#include "core/core_impl.h"
#include "storage/shamir.h"

namespace sealbox::core {
namespace {

constexpr const char* kStaticRootKeyPath = "core/static-seal/root-key";
constexpr const char* kRecoveryKeyPath = "core/static-seal/recovery-key";

std::string Aad(std::string_view path, std::string_view key_id) {
  return std::string(path) + "|" + std::string(key_id);
}

Result<std::string> Wrap(const SecureBytes& key, const std::string& key_id, std::string_view path,
                         const SecureBytes& secret) {
  SB_ASSIGN_OR_RETURN(std::string ct, crypto::AeadSeal(key, secret.view(), Aad(path, key_id)));
  return Json{{"key_id", key_id}, {"ciphertext", crypto::Base64Encode(ct)}}.dump();
}

struct WrappedRecord {
  std::string key_id;
  SecureBytes ciphertext;
};

Result<WrappedRecord> ReadRecord(Storage& physical, std::string_view path) {
  SB_ASSIGN_OR_RETURN(auto raw, physical.Get(path));
  if (!raw) return Corruption(std::string(path) + " missing");
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("key_id") || !j["key_id"].is_string() || !j.contains("ciphertext") ||
      !j["ciphertext"].is_string())
    return Corruption(std::string(path) + " malformed");
  auto ct = crypto::Base64Decode(j["ciphertext"].get<std::string>());
  if (!ct.ok()) return Corruption(std::string(path) + " malformed");
  return WrappedRecord{j["key_id"].get<std::string>(), std::move(ct).value()};
}

// The configured key for `key_id`, or null when it is neither current nor previous.
const SecureBytes* KeyFor(const StaticSealKeys& seal, const std::string& key_id) {
  if (key_id == seal.current_key_id) return &seal.current_key;
  if (!seal.previous_key_id.empty() && key_id == seal.previous_key_id) return &seal.previous_key;
  return nullptr;
}

Result<SecureBytes> Unwrap(const StaticSealKeys& seal, std::string_view path, const WrappedRecord& rec) {
  const SecureBytes* key = KeyFor(seal, rec.key_id);
  // Key ids are labels, not secrets: naming them tells the operator what to configure.
  if (!key)
    return PermissionDenied("static seal: the root key is wrapped by key id \"" + rec.key_id +
                            "\", which is neither current_key_id nor previous_key_id");
  auto plain = crypto::AeadOpen(*key, rec.ciphertext.view(), Aad(path, rec.key_id));
  if (!plain.ok())
    return PermissionDenied("static seal: the key configured for key id \"" + rec.key_id +
                            "\" does not open the root key");
  return plain;
}

}  // namespace

Result<InitResult> CoreImpl::InitializeStatic(const InitRequest& req) {
  const StaticSealKeys& seal = *options_.static_seal;
  int shares = req.recovery_shares > 0 ? req.recovery_shares : 5;
  int threshold = req.recovery_threshold > 0 ? req.recovery_threshold : std::min(3, shares);
  if (shares > 1 && threshold == 1 && req.recovery_threshold <= 0) threshold = 2;
  SB_RETURN_IF_ERROR(ValidateShareConfig("recovery", shares, threshold));

  // Leftovers of a crashed earlier init were never handed out: start over.
  for (const char* p : {Barrier::kKeyringPath, kStaticRootKeyPath, kRecoveryKeyPath})
    SB_RETURN_IF_ERROR(physical_->Delete(p));

  SecureBytes root_key = crypto::RandomBytes(32);
  SecureBytes recovery_key = crypto::RandomBytes(32);
  SB_RETURN_IF_ERROR(barrier_->Initialize(root_key, options_.clock->NowNanos()));
  InitResult result;
  Status s = [&]() -> Status {
    SB_ASSIGN_OR_RETURN(std::string wrapped_root, Wrap(seal.current_key, seal.current_key_id, kStaticRootKeyPath, root_key));
    SB_ASSIGN_OR_RETURN(std::string wrapped_recovery,
                        Wrap(seal.current_key, seal.current_key_id, kRecoveryKeyPath, recovery_key));
    SB_RETURN_IF_ERROR(physical_->Batch({WriteOp::Put(kStaticRootKeyPath, wrapped_root),
                                                 WriteOp::Put(kRecoveryKeyPath, wrapped_recovery)}));
    SB_RETURN_IF_ERROR(WriteClusterIdentity());
    SB_RETURN_IF_ERROR(PostUnsealForInit());
    SB_ASSIGN_OR_RETURN(result.root_token, CreateRootToken(""));
    SB_ASSIGN_OR_RETURN(result.recovery_shares, shamir::Split(recovery_key, shares, threshold));
    // Written last: its presence is what "initialized" means.
    return physical_->Put(kSealConfigPath, Json{{"type", "static"},
                                                        {"secret_shares", 1},
                                                        {"secret_threshold", 1},
                                                        {"recovery_shares", shares},
                                                        {"recovery_threshold", threshold}}.dump());
  }();
  if (!s.ok()) {
    SealLocked().IgnoreError();
    return s;
  }
  // Like Vault with auto-unseal, an initialised vault is unsealed at once;
  // with HA it joins the election like any unsealed node.
  if (options_.ha_lock) {
    PreSeal();
    EnterStandby();
  }
  NotifyStateChange();  // initialized now
  log::Info("core: vault initialized with the static seal (key id " + seal.current_key_id + "), " +
            std::to_string(shares) + " recovery shares and threshold " + std::to_string(threshold));
  return result;
}

Status CoreImpl::AutoUnseal() {
  std::unique_lock l(state_mu_);
  return AutoUnsealLocked();
}

Status CoreImpl::AutoUnsealLocked() {
  if (!options_.static_seal) return InvalidArgument("no static seal is configured");
  SB_ASSIGN_OR_RETURN(SealConfig cfg, LoadSealConfig());
  if (cfg.type != "static")
    return InvalidArgument("this vault was initialized with a Shamir seal; migrating it to the static seal is "
                           "not supported (remove the seal \"static\" block)");
  if (!sealed_.load()) return Status::Ok();
  const StaticSealKeys& seal = *options_.static_seal;
  SB_RETURN_IF_ERROR(physical_->FinishInterruptedReplace());  // as ReadRootKey
  SB_ASSIGN_OR_RETURN(WrappedRecord rec, ReadRecord(*physical_, kStaticRootKeyPath));
  SB_ASSIGN_OR_RETURN(SecureBytes root_key, Unwrap(seal, kStaticRootKeyPath, rec));
  Status s = barrier_->Unseal(root_key);
  if (!s.ok()) {
    if (s.code() == StatusCode::kPermissionDenied) return PermissionDenied("static seal: the root key does not open the keyring");
    return s;
  }
  if (rec.key_id != seal.current_key_id) {
    // Rotation: rewrap both records with the current key in one batch.
    s = [&]() -> Status {
      SB_ASSIGN_OR_RETURN(WrappedRecord rrec, ReadRecord(*physical_, kRecoveryKeyPath));
      SB_ASSIGN_OR_RETURN(SecureBytes recovery_key, Unwrap(seal, kRecoveryKeyPath, rrec));
      SB_ASSIGN_OR_RETURN(std::string wrapped_root,
                          Wrap(seal.current_key, seal.current_key_id, kStaticRootKeyPath, root_key));
      SB_ASSIGN_OR_RETURN(std::string wrapped_recovery,
                          Wrap(seal.current_key, seal.current_key_id, kRecoveryKeyPath, recovery_key));
      return physical_->Batch({WriteOp::Put(kStaticRootKeyPath, wrapped_root),
                                       WriteOp::Put(kRecoveryKeyPath, wrapped_recovery)});
    }();
    if (!s.ok()) {
      barrier_->Seal();
      return s;
    }
    log::Info("core: static seal: root key rewrapped from key id " + rec.key_id + " to " + seal.current_key_id);
  }
  s = PostUnseal();
  if (!s.ok()) {
    log::Error("core: post-unseal setup failed: " + s.message());
    SealLocked().IgnoreError();
    return s;
  }
  log::Info("core: vault is unsealed (static seal, key id " + seal.current_key_id + ")");
  return Status::Ok();
}

Status CoreImpl::ReplaceRecoveryKey(const SecureBytes& new_key, int shares, int threshold) {
  const StaticSealKeys& seal = *options_.static_seal;
  SB_ASSIGN_OR_RETURN(std::string wrapped, Wrap(seal.current_key, seal.current_key_id, kRecoveryKeyPath, new_key));
  const std::string config = Json{{"type", "static"},
                                  {"secret_shares", 1},
                                  {"secret_threshold", 1},
                                  {"recovery_shares", shares},
                                  {"recovery_threshold", threshold}}.dump();
  return physical_->Batch({WriteOp::Put(kRecoveryKeyPath, wrapped), WriteOp::Put(kSealConfigPath, config)});
}

Status CoreImpl::VerifyRecoveryKey(const SecureBytes& recovery_key) {
  SB_ASSIGN_OR_RETURN(WrappedRecord rec, ReadRecord(*physical_, kRecoveryKeyPath));
  SB_ASSIGN_OR_RETURN(SecureBytes stored, Unwrap(*options_.static_seal, kRecoveryKeyPath, rec));
  if (!stored.Equals(recovery_key)) return InvalidArgument("Unseal failed, invalid key");
  return Status::Ok();
}

}  // namespace sealbox::core
