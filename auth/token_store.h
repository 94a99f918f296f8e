// TokenStore: service tokens stored only under a salted hash, self-contained
// encrypted batch tokens, token roles, and the background tidy.
//
// Layout in its storage view (the barrier under "sys/token/"):
//   salt                        random 32 bytes (base64), created on first setup
//   batch-key                   AES-256 key for batch tokens (base64), created on first setup
//   id/<hmac(salt, token)>      TokenEntry JSON
//   accessor/<hmac(salt, acc)>  {"token_hash": ...}
//   parent/<parent hash>/<child hash>  the tree, for revoking descendants
//   roles/<name>                TokenRole JSON
// Lookups hash the presented token and read one key, so their timing does not
// depend on how much of a guess matches a real token. Batch tokens ("hvb.")
// are AES-GCM sealed entries: never stored, verified by their tag.
//
// Concurrency: entries are read lock-free; every write to one token's entry
// takes that token's lock stripe and re-reads the entry, so a renew or a use
// count can never resurrect a revoked token, and a child can only be created
// under a parent that still exists (Create holds the parent's stripe), so a
// tree revocation never misses a child.
//
// Thread-safety: all methods may be called concurrently after Setup().
// Setup() and Reset() must not race with other calls (core holds its state
// lock exclusively around them).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/policy.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/json_util.h"
#include "base/secure_bytes.h"
#include "base/status.h"

namespace sealbox {
class Storage;
}

namespace sealbox::auth {

inline constexpr const char* kServiceTokenPrefix = "hvs.";
inline constexpr const char* kBatchTokenPrefix = "hvb.";

// num_uses value of a token on its last use: valid for the request in flight,
// invisible to every other lookup, revoked when that request ends.
inline constexpr int kTokenRevocationPending = -1;

struct TokenEntry {
  std::string hash;       // salted hash of the token id (its storage key); "" for batch tokens
  std::string accessor;   // plaintext accessor (returned to the owner only); "" for batch tokens
  std::string parent_hash;
  std::vector<std::string> policies;
  std::string path;
  std::string display_name;
  Json meta = nullptr;
  int64_t creation_time = 0;       // unix seconds
  int64_t creation_time_nanos = 0;
  int64_t creation_ttl = 0;
  int64_t lease_ttl = 0;           // TTL granted by the last create or renew (renew's default increment)
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  int64_t expire_time_nanos = 0;   // 0: never expires
  int64_t issue_time_nanos = 0;    // set only for tokens with a lease (a TTL)
  int64_t last_renewal_nanos = 0;
  int num_uses = 0;                // 0 unlimited; kTokenRevocationPending on the last use
  bool renewable = false;
  bool orphan = true;
  bool no_default_policy = false;
  std::string type = "service";
  std::string entity_id;
  std::string role;
  // For the lease-count quotas, recounted at unseal: the login's role (its
  // auth method's, "" when none) and whether a root caller made the token
  // (not counted, as Vault). Stored only when set.
  std::string login_role;
  bool quota_exempt = false;
  std::vector<std::string> bound_cidrs;
  Json internal = nullptr;  // auth-method data for renewal re-checks
  // The alias of the login that created the token (or of its parent), for
  // templated policies. Stored as "alias" only when set: an entry without
  // it (every entry written before aliases were kept) has no alias.
  std::optional<IdentityAlias> alias;

  bool IsBatch() const { return type == "batch"; }
  // What templated policy paths may use (points into this entry).
  IdentityContext Identity() const { return {entity_id, alias ? &*alias : nullptr}; }
  bool IsRoot() const;
  // The stored form: a JSON object as text.
  std::string ToText() const;
  static Result<TokenEntry> FromJson(const Json& j);
};

// A token role (auth/token/roles/:name).
struct TokenRole {
  std::string name;
  std::vector<std::string> allowed_policies;
  std::vector<std::string> disallowed_policies;
  std::vector<std::string> allowed_policies_glob;
  std::vector<std::string> disallowed_policies_glob;
  std::vector<std::string> allowed_entity_aliases;
  bool has_allowed_entity_aliases = false;
  bool orphan = false;
  bool renewable = true;
  std::string path_suffix;
  int64_t token_period = 0;
  int64_t token_explicit_max_ttl = 0;
  // Values set through the deprecated names, echoed back on read.
  int64_t period = 0;
  int64_t explicit_max_ttl = 0;
  std::string token_type = "default-service";  // service, batch, default-service, default-batch
  bool token_no_default_policy = false;
  int token_num_uses = 0;
  std::vector<std::string> token_bound_cidrs;

  Json ToJson() const;
  static Result<TokenRole> FromJson(const Json& j);
};

struct TidyStats {
  int expired_revoked = 0;
  int dangling_accessors = 0;
  int dangling_parent_entries = 0;
};

class TokenStore {
 public:
  // Called with the storage id (the token hash) of every revoked service
  // token, so per-token data (cubbyhole) is destroyed with it.
  using RevokeHook = std::function<void(const std::string& storage_id)>;

  TokenStore(Storage* view, const Clock* clock) : view_(view), clock_(clock) {}
  ~TokenStore();
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // Loads or creates the salt and the batch-token key. REQUIRES: the barrier is unsealed.
  Status Setup();
  // Stops the background tidy and drops the keys from memory (on seal).
  void Reset();
  // Set once, before Setup.
  void SetRevokeHook(RevokeHook hook) { revoke_hook_ = std::move(hook); }

  // Generates "hvs." + 24 base62 (or uses `custom_id`), stores the entry under
  // its hash, and returns the token. Fills entry.hash and entry.accessor.
  // With a parent_hash, fails with InvalidArgument("parent token not found")
  // unless the parent still exists.
  Result<std::string> Create(TokenEntry& entry, const std::string& custom_id = "");
  // Seals the entry into a self-contained "hvb." token. Nothing is stored.
  Result<std::string> CreateBatch(TokenEntry& entry);

  // The entry for `token` (service or batch), or nullopt if unknown, expired
  // (an expired service entry is revoked on sight), a batch token whose parent
  // is gone, or on its last use by another request (unless include_pending).
  Result<std::optional<TokenEntry>> Lookup(std::string_view token, bool include_pending = false);
  Result<std::optional<TokenEntry>> LookupByHash(const std::string& hash, bool include_pending = false);
  Result<std::optional<TokenEntry>> LookupByAccessor(std::string_view accessor, bool include_pending = false);

  // Applies `mutate` to the stored entry under the token's lock and writes it
  // back. nullopt when the token no longer exists (nothing is written).
  Result<std::optional<TokenEntry>> Update(const std::string& hash,
                                           const std::function<Status(TokenEntry&)>& mutate);
  // Counts one use of a restricted-use token: the entry after the decrement
  // (num_uses == kTokenRevocationPending on its last use: the caller revokes
  // it when the request ends), or nullopt if it was used up meanwhile.
  Result<std::optional<TokenEntry>> UseToken(const std::string& hash);
  // Revokes the token and every descendant. Missing: OK.
  Status RevokeTree(const std::string& hash);
  // Revokes only this token; its children become orphans.
  Status RevokeOrphan(const std::string& hash);
  Result<std::vector<std::string>> ListAccessors();
  // Calls `visit` with every live service token (an unreadable entry is skipped).
  Status ForEachService(const std::function<void(const TokenEntry&)>& visit);
  // Revokes, with their trees, the tokens whose issuing path starts with
  // `path_prefix` ("auth/kubernetes/"): disabling an auth method ends every
  // login it granted, as Vault's. Returns how many issued tokens it revoked.
  // A scan of every token: for rare administrative changes only.
  Result<size_t> RevokeIssuedUnder(const std::string& path_prefix);
  // After an auth method moves, its tokens name the new path (so a later
  // disable at the new path still finds them).
  Status MoveIssuedUnder(const std::string& from_prefix, const std::string& to_prefix);

  // Roles.
  Result<std::optional<TokenRole>> GetRole(const std::string& name);
  Status PutRole(const TokenRole& role);
  Status DeleteRole(const std::string& name);
  Result<std::vector<std::string>> ListRoles();

  // Revokes expired tokens (with their trees) and drops index entries that
  // point at nothing. Safe to run alongside requests.
  Result<TidyStats> Tidy();
  // Runs Tidy() every `interval_seconds` on a background thread until
  // StopBackgroundTidy() or Reset().
  void StartBackgroundTidy(int64_t interval_seconds);
  void StopBackgroundTidy();

  std::string HashToken(std::string_view token) const;
  static bool IsBatchToken(std::string_view token);

 private:
  std::mutex& StripeFor(const std::string& hash);
  Result<std::optional<TokenEntry>> ReadEntry(const std::string& hash);
  Result<std::optional<TokenEntry>> LookupBatch(std::string_view token);
  // Deletes one token's entry and indexes (under its stripe) and runs the hook.
  Status RevokeOne(const std::string& hash);

  Storage* view_;        // not owned
  const Clock* clock_;   // not owned
  RevokeHook revoke_hook_;
  SecureBytes salt_;       // written by Setup/Reset only (see class comment)
  std::unique_ptr<crypto::HmacSha256Key> salt_key_;  // salt_ absorbed once; with salt_
  SecureBytes batch_key_;  // same
  std::array<std::mutex, 64> stripes_;

  // Parsed-entry cache: JSON parsing is most of a lookup's CPU, and every
  // request looks its token up (twice when the token backend serves it).
  // Direct-mapped by hash; a slot is used only when the freshly read stored
  // bytes equal the bytes it was parsed from, so it can never serve a stale
  // or revoked entry (the storage read still happens every time).
  struct CacheSlot {
    std::mutex mu;
    std::string raw;
    std::shared_ptr<const TokenEntry> entry;
  };
  static constexpr size_t kCacheSlots = 1024;
  std::unique_ptr<std::array<CacheSlot, kCacheSlots>> cache_ = std::make_unique<std::array<CacheSlot, kCacheSlots>>();
  void ClearCache();

  std::mutex tidy_mu_;  // guards the fields below
  std::condition_variable tidy_cv_;
  bool tidy_stop_ = false;
  std::thread tidy_thread_;
};

}  // namespace sealbox::auth
