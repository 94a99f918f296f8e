// sys/rekey (the unseal-key shares, Shamir seal) and sys/rekey-recovery-key
// (the recovery-key shares, static seal), with the optional verification of
// the new shares before they replace the old ones.
#include "base/crypto.h"
#include "base/log.h"
#include "core/break_glass.h"
#include "core/core_impl.h"
#include "storage/shamir.h"

namespace sealbox::core {
namespace {

const char* TargetName(RekeyTarget t) { return t == RekeyTarget::kBarrier ? "barrier" : "recovery"; }

}  // namespace

Status Rekey::CheckTarget() const {
  const bool static_seal = core_->SealType() == "static";
  if (target_ == RekeyTarget::kRecovery && !static_seal) return InvalidArgument("recovery rekeying not supported");
  if (target_ == RekeyTarget::kBarrier && static_seal)
    return InvalidArgument(
        "rekeying the unseal key is not supported under the static seal: rotate the seal key (previous_key_id), "
        "or rekey the recovery shares at sys/rekey-recovery-key");
  return Status::Ok();
}

Result<int> Rekey::CurrentThreshold() const {
  SB_RETURN_IF_ERROR(CheckTarget());
  return core_->QuorumThreshold();
}

Result<RekeyStatus> Rekey::Status() {
  SB_ASSIGN_OR_RETURN(int required, CurrentThreshold());
  std::lock_guard l(mu_);
  RekeyStatus st;
  st.started = shares_.active();
  st.nonce = shares_.nonce();
  st.progress = shares_.progress();
  st.required = required;
  if (st.started) {
    st.t = new_threshold_;
    st.n = new_shares_;
    st.verification_required = require_verification_;
    st.verification_nonce = verify_.nonce();
  }
  return st;
}

Result<RekeyStatus> Rekey::Start(int shares, int threshold, bool require_verification) {
  SB_ASSIGN_OR_RETURN(int required, CurrentThreshold());
  SB_RETURN_IF_ERROR(ValidateShareConfig(target_ == RekeyTarget::kBarrier ? "rekey seal" : "recovery", shares,
                                         threshold));
  {
    std::lock_guard l(mu_);
    if (shares_.active()) return InvalidArgument("rekey already in progress");
    shares_.Start(required);
    new_shares_ = shares;
    new_threshold_ = threshold;
    require_verification_ = require_verification;
  }
  log::Info(std::string("core: ") + TargetName(target_) + " rekey started: " + std::to_string(shares) +
            " shares, threshold " + std::to_string(threshold));
  return Status();
}

Result<RekeyStatus> Rekey::Update(const SecureBytes& share, std::string_view nonce) {
  SB_RETURN_IF_ERROR(CheckTarget());
  std::lock_guard l(mu_);
  if (!shares_.active()) return InvalidArgument(std::string("no ") + TargetName(target_) + " rekey in progress");
  if (verify_.active())
    return InvalidArgument("rekey operation already finished; verification must be performed; nonce for the "
                           "verification operation is \"" + verify_.nonce() + "\"");
  SB_ASSIGN_OR_RETURN(auto quorum, shares_.Add(share, nonce, "rekey"));
  RekeyStatus st;
  st.started = true;
  st.nonce = shares_.nonce();
  st.t = new_threshold_;
  st.n = new_shares_;
  st.progress = shares_.progress();
  st.required = shares_.threshold();
  st.verification_required = require_verification_;
  if (!quorum) return st;
  auto key = shamir::Combine(*quorum);
  if (!key.ok()) return InvalidArgument("failed to compute root key: " + key.status().message());
  if (auto valid = core_->CheckQuorumKey(*key); !valid.ok()) {
    log::Warn(std::string("core: ") + TargetName(target_) + " rekey: the key shares given are wrong; progress reset");
    return InvalidArgument("failed to read root key: " + valid.message());
  }
  old_key_ = std::move(key).value();
  new_key_ = crypto::RandomBytes(32);
  SB_ASSIGN_OR_RETURN(st.keys, shamir::Split(new_key_, new_shares_, new_threshold_));
  st.complete = true;
  if (require_verification_) {
    verify_.Start(new_threshold_);
    st.verification_nonce = verify_.nonce();
    log::Info(std::string("core: ") + TargetName(target_) + " rekey: new shares issued, awaiting verification");
    return st;
  }
  SB_RETURN_IF_ERROR(CommitLocked());
  return st;
}

Status Rekey::CommitLocked() {
  ::sealbox::Status s = target_ == RekeyTarget::kBarrier
                            ? core_->ReplaceUnsealKey(old_key_, new_key_, new_shares_, new_threshold_)
                            : core_->ReplaceRecoveryKey(new_key_, new_shares_, new_threshold_);
  if (!s.ok()) return s;
  log::Info(std::string("core: ") + TargetName(target_) + " rekey complete: " + std::to_string(new_shares_) +
            " shares, threshold " + std::to_string(new_threshold_) + "; the old shares no longer work");
  shares_.Stop();
  verify_.Stop();
  old_key_.Wipe();
  new_key_.Wipe();
  return ::sealbox::Status::Ok();
}

void Rekey::Cancel() {
  std::lock_guard l(mu_);
  if (shares_.active()) log::Info(std::string("core: ") + TargetName(target_) + " rekey cancelled");
  shares_.Stop();
  verify_.Stop();
  old_key_.Wipe();
  new_key_.Wipe();
}

RekeyVerifyStatus Rekey::VerifyStatusLocked() const {
  RekeyVerifyStatus st;
  st.nonce = verify_.nonce();
  st.started = verify_.active();
  st.t = new_threshold_;
  st.n = new_shares_;
  st.progress = verify_.progress();
  return st;
}

Result<RekeyVerifyStatus> Rekey::VerifyStatus() {
  SB_RETURN_IF_ERROR(CheckTarget());
  std::lock_guard l(mu_);
  if (!shares_.active()) return InvalidArgument("no rekey configuration found");
  return VerifyStatusLocked();
}

Result<RekeyVerifyStatus> Rekey::Verify(const SecureBytes& share, std::string_view nonce) {
  SB_RETURN_IF_ERROR(CheckTarget());
  std::lock_guard l(mu_);
  if (!shares_.active()) return InvalidArgument("no rekey in progress");
  if (!verify_.active()) return InvalidArgument("no rekey verification in progress");
  SB_ASSIGN_OR_RETURN(auto quorum, verify_.Add(share, nonce, "verify"));
  if (!quorum) return VerifyStatusLocked();
  auto key = shamir::Combine(*quorum);
  if (!key.ok() || !key->Equals(new_key_)) {
    verify_.Start(new_threshold_);  // as Vault: a failed verification starts over under a new nonce
    return InvalidArgument("rekey verification failed; incorrect key shares supplied");
  }
  RekeyVerifyStatus st;
  st.nonce = verify_.nonce();
  st.complete = true;
  SB_RETURN_IF_ERROR(CommitLocked());
  return st;
}

Result<RekeyVerifyStatus> Rekey::RestartVerify() {
  SB_RETURN_IF_ERROR(CheckTarget());
  std::lock_guard l(mu_);
  if (!shares_.active()) return InvalidArgument("no rekey configuration found");
  if (verify_.active()) verify_.Start(new_threshold_);
  return VerifyStatusLocked();
}

}  // namespace sealbox::core
