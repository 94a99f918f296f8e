// Break-glass ceremonies: a quorum of key shares issues a new root token
// (sys/generate-root) or replaces the shares themselves (sys/rekey, and
// sys/rekey-recovery-key under the static seal), as Vault's. Under the Shamir
// seal the shares are unseal-key shares; under the static seal, recovery-key
// shares. Each ceremony collects shares under a nonce, one share per holder,
// up to the threshold; a wrong quorum resets the progress, never the attempt.
//
// State lives in memory only (as Vault's), and is dropped when the vault
// seals. Thread-safety: every public method may be called concurrently (one
// mutex per ceremony). REQUIRES: the core is unsealed (callers hold its state
// lock shared).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox::core {

class CoreImpl;

// Shares collected toward a threshold under one nonce. Not thread-safe.
class ShareCollector {
 public:
  // A new nonce and no shares.
  void Start(int threshold);
  void Stop();
  bool active() const { return !nonce_.empty(); }
  const std::string& nonce() const { return nonce_; }
  int progress() const { return static_cast<int>(parts_.size()); }
  int threshold() const { return threshold_; }
  // Checks the nonce (`what` names the operation in the error, Vault's
  // wording), refuses a share given twice, and adds it. At the threshold:
  // the shares, and progress starts again from zero.
  Result<std::optional<std::vector<SecureBytes>>> Add(const SecureBytes& share, std::string_view nonce,
                                                      std::string_view what);
  void ResetProgress() { parts_.clear(); }

 private:
  std::string nonce_;
  int threshold_ = 0;
  std::vector<SecureBytes> parts_;
};

struct RootGenerationStatus {
  bool started = false;
  std::string nonce;
  int progress = 0;
  int required = 0;
  bool complete = false;
  std::string encoded_token;  // set once, on completion
  std::string otp;            // set only in the answer that generated it
};

class RootGeneration {
 public:
  explicit RootGeneration(CoreImpl* core) : core_(core) {}
  Result<RootGenerationStatus> Status();
  // Starts an attempt with the client's OTP (root_token::kOtpLength bytes)
  // or, when empty, one the server generates and returns once.
  Result<RootGenerationStatus> Start(const std::string& otp);
  // At the threshold: checks the quorum, issues a root token, returns it
  // encoded with the OTP and ends the attempt.
  Result<RootGenerationStatus> Update(const SecureBytes& share, std::string_view nonce);
  void Cancel();

 private:
  CoreImpl* core_;
  std::mutex mu_;
  ShareCollector shares_;  // guarded by mu_
  std::string otp_;        // guarded by mu_
};

enum class RekeyTarget { kBarrier, kRecovery };

struct RekeyStatus {
  bool started = false;
  std::string nonce;
  int t = 0, n = 0;  // the new configuration
  int progress = 0;
  int required = 0;  // the current threshold
  bool verification_required = false;
  std::string verification_nonce;  // once the new shares await verification
  bool complete = false;           // set by the update that produced the shares
  std::vector<SecureBytes> keys;   // the new shares, returned once
};

struct RekeyVerifyStatus {
  std::string nonce;
  bool started = false;
  int t = 0, n = 0;
  int progress = 0;
  bool complete = false;
};

class Rekey {
 public:
  Rekey(CoreImpl* core, RekeyTarget target) : core_(core), target_(target) {}
  Result<RekeyStatus> Status();
  Result<RekeyStatus> Start(int shares, int threshold, bool require_verification);
  // At the threshold: checks the quorum and makes the new shares. Without
  // verification they replace the old ones at once; with it, once a quorum
  // of the new shares is given back (Verify).
  Result<RekeyStatus> Update(const SecureBytes& share, std::string_view nonce);
  void Cancel();
  Result<RekeyVerifyStatus> VerifyStatus();
  Result<RekeyVerifyStatus> Verify(const SecureBytes& share, std::string_view nonce);
  // Drops the verification progress and starts again with a new nonce.
  Result<RekeyVerifyStatus> RestartVerify();

 private:
  // This target is usable under the configured seal.
  ::sealbox::Status CheckTarget() const;
  Result<int> CurrentThreshold() const;
  RekeyVerifyStatus VerifyStatusLocked() const;
  // Writes the new key and configuration; ends the rekey.
  ::sealbox::Status CommitLocked();

  CoreImpl* core_;
  const RekeyTarget target_;
  std::mutex mu_;
  // Guarded by mu_:
  ShareCollector shares_;
  int new_shares_ = 0, new_threshold_ = 0;
  bool require_verification_ = false;
  SecureBytes old_key_;  // the current key, kept between update and verify
  SecureBytes new_key_;  // set once the quorum was given
  ShareCollector verify_;
};

}  // namespace sealbox::core
