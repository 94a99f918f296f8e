// The share collector and root token generation (sys/generate-root).
#include "core/break_glass.h"

#include "base/crypto.h"
#include "base/log.h"
#include "base/root_token_otp.h"
#include "core/core_impl.h"
#include "storage/shamir.h"

namespace sealbox::core {

void ShareCollector::Start(int threshold) {
  nonce_ = crypto::Uuid();
  threshold_ = threshold;
  parts_.clear();
}

void ShareCollector::Stop() {
  nonce_.clear();
  threshold_ = 0;
  parts_.clear();
}

Result<std::optional<std::vector<SecureBytes>>> ShareCollector::Add(const SecureBytes& share, std::string_view nonce,
                                                                    std::string_view what) {
  // The nonce is not secret (the status shows it); it only ties a share to this attempt.
  if (!crypto::ConstantTimeEquals(nonce, nonce_))
    return InvalidArgument("incorrect nonce supplied; nonce for this " + std::string(what) + " operation is \"" +
                           nonce_ + "\"");
  for (const auto& p : parts_)
    if (p.Equals(share)) return InvalidArgument("given key has already been provided during this generation operation");
  parts_.push_back(share);
  if (progress() < threshold_) return std::optional<std::vector<SecureBytes>>();
  std::vector<SecureBytes> all = std::move(parts_);
  parts_.clear();
  return std::optional<std::vector<SecureBytes>>(std::move(all));
}

// ---- sys/generate-root ----

Result<RootGenerationStatus> RootGeneration::Status() {
  SB_ASSIGN_OR_RETURN(int required, core_->QuorumThreshold());
  std::lock_guard l(mu_);
  RootGenerationStatus st;
  st.started = shares_.active();
  st.nonce = shares_.nonce();
  st.progress = shares_.progress();
  st.required = required;
  return st;
}

Result<RootGenerationStatus> RootGeneration::Start(const std::string& otp) {
  if (!otp.empty() && otp.size() != root_token::kOtpLength) return InvalidArgument("OTP string has incorrect length");
  SB_ASSIGN_OR_RETURN(int required, core_->QuorumThreshold());
  std::lock_guard l(mu_);
  if (shares_.active()) return InvalidArgument("root generation already in progress");
  shares_.Start(required);
  otp_ = otp.empty() ? root_token::GenerateOtp() : otp;
  log::Info("core: root token generation started");
  RootGenerationStatus st;
  st.started = true;
  st.nonce = shares_.nonce();
  st.required = required;
  if (otp.empty()) st.otp = otp_;  // the only time it is shown
  return st;
}

Result<RootGenerationStatus> RootGeneration::Update(const SecureBytes& share, std::string_view nonce) {
  std::lock_guard l(mu_);
  if (!shares_.active()) return InvalidArgument("no root generation in progress");
  SB_ASSIGN_OR_RETURN(auto quorum, shares_.Add(share, nonce, "root generation"));
  RootGenerationStatus st;
  st.started = true;
  st.nonce = shares_.nonce();
  st.required = shares_.threshold();
  st.progress = shares_.progress();
  if (!quorum) return st;
  auto key = shamir::Combine(*quorum);
  if (!key.ok()) return InvalidArgument("failed to compute root key: " + key.status().message());
  const auto valid = core_->CheckQuorumKey(*key);
  if (!valid.ok()) {
    log::Warn("core: root token generation: the key shares given do not open the vault; progress reset");
    return InvalidArgument("root generation aborted: unable to authenticate: " + valid.message());
  }
  SB_ASSIGN_OR_RETURN(std::string token, core_->IssueRootToken());
  auto encoded = root_token::Encode(token, otp_);
  if (!encoded.ok()) return Internal("cannot encode the root token");
  shares_.Stop();
  otp_.clear();
  log::Info("core: root token generation complete: a new root token was issued");
  st.progress = st.required;
  st.complete = true;
  st.encoded_token = *encoded;
  return st;
}

void RootGeneration::Cancel() {
  std::lock_guard l(mu_);
  if (shares_.active()) log::Info("core: root token generation cancelled");
  shares_.Stop();
  otp_.clear();
}

}  // namespace sealbox::core
