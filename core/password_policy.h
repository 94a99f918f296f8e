// Password policies (Vault's sys/policies/password): a length and charset
// rules, written in HCL (or its JSON form), used to generate passwords for
// backends (the database engine) and for sys/policies/password/<n>/generate.
//
//   length = 20
//   rule "charset" {
//     charset   = "abcdefghijklmnopqrstuvwxyz"
//     min-chars = 1
//   }
//   rule "charset" {
//     charset   = "0123456789"
//     min-chars = 1
//   }
//
// A password is `length` characters drawn from the union of every charset
// (plus an optional top-level `charset`), with at least `min-chars` from each
// rule's own charset. Characters are Unicode code points (UTF-8); length
// counts code points, as Vault does.
//
// Generation: each rule's minimum is drawn from its charset, the rest from the
// union, then the whole is shuffled (Fisher-Yates). Every index is drawn from
// OpenSSL's RAND_bytes with rejection sampling, so no character is favoured by
// modulo bias. Vault instead draws from the union and retries until the rules
// pass; both give passwords that always satisfy the rules, and this one never
// loops.
//
// Thread-safety: ParsePasswordPolicy and GeneratePassword are pure;
// PasswordPolicyStore methods may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sealbox {
class Storage;
}

namespace sealbox::core {

// Vault's bounds for a policy's length.
inline constexpr int64_t kMinPasswordLength = 4;
inline constexpr int64_t kMaxPasswordLength = 100;

struct PasswordPolicy {
  struct Rule {
    std::vector<std::string> charset;  // distinct characters, one UTF-8 sequence each
    int64_t min_chars = 0;
  };
  int64_t length = 0;
  std::vector<Rule> rules;
  std::vector<std::string> charset;  // union of every rule's charset (and the top-level one), distinct
};

// Parses and validates a policy. Errors are InvalidArgument with a message
// safe to show (charsets are never echoed): syntax errors with their line,
// "passwords must be between 4 and 100 characters", "no charset specified",
// "rule \"charset\" #2: charset must not be empty", "... non-printable
// character in charset", "specified rules require at least N characters but
// M is specified", unknown keys and rule types.
Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text);

// A password satisfying `policy`. REQUIRES: policy came from
// ParsePasswordPolicy. The caller owns the secret (wipe it when done).
std::string GeneratePassword(const PasswordPolicy& policy);

// Uniform integer in [0, n) from RAND_bytes, by rejection sampling.
// REQUIRES: 0 < n <= 2^32.
uint64_t UniformRandom(uint64_t n);

// Policies stored as {"policy": "<raw text>"} under a view (the core gives it
// "core/password_policy/" under the barrier).
class PasswordPolicyStore {
 public:
  explicit PasswordPolicyStore(Storage* view) : view_(view) {}

  // Parses and validates, then stores the raw text. Errors as ParsePasswordPolicy.
  Status Put(const std::string& name, const std::string& text);
  // The raw text, or nullopt if missing.
  Result<std::optional<std::string>> Get(const std::string& name);
  Status Delete(const std::string& name);
  Result<std::vector<std::string>> List();
  // A password from the named policy; NotFound("password policy \"x\" does
  // not exist") if missing.
  Result<std::string> Generate(const std::string& name);

 private:
  Storage* view_;  // not owned
};

}  // namespace sealbox::core
