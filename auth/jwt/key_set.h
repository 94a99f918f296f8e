// Where a JWT auth mount's verification keys come from, and their cache:
// the configured PEM keys (jwt_validation_pubkeys), a JWKS URL, or an OIDC
// discovery URL (its document names the JWKS; its issuer must be the URL).
//
// Remote keys are fetched when the config is written (or on first use) and
// kept until a token names a kid none of them has (a rotated key, or no
// kid and no key verifies): then a login fetches them again, at most once per
// `min_refetch_seconds` for the mount, so a stream of tokens with made-up
// kids cannot make Sealbox hammer the issuer. Logins racing a fetch wait for it and use its
// keys. The cache is dropped when the key source in the config changes.
//
// Thread-safety: Verify and Check may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jws.h"
#include "base/clock.h"
#include "base/http_client.h"
#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::jwt {

class KeySet {
 public:
  KeySet(std::shared_ptr<HttpClient> client, const Clock* clock, int64_t min_refetch_seconds = 10)
      : client_(std::move(client)), clock_(clock), min_refetch_(min_refetch_seconds) {}

  // The config's remote source answers as Vault checks at config write
  // (the discovery document and its issuer, the JWKS); primes the cache.
  // InvalidArgument with Vault's message otherwise (the cause is logged).
  Status Check(const Json& cfg);

  // The token, parsed, once one of the config's keys verifies its
  // signature; InvalidArgument with Vault's message otherwise (a token that
  // does not parse fails here too, as in Vault).
  Result<Jwt> Verify(const Json& cfg, std::string_view token);

  void Clear();

 private:
  struct Cache {
    std::string source;                  // identifies the key source the keys came from
    std::string jwks_url;                // resolved (from discovery, when used)
    std::vector<PublicKey> keys;
    uint64_t generation = 0;               // bumped by every fetch
    int64_t last_refetch = INT64_MIN / 2;  // unix seconds of the last fetch a login asked for
  };

  static std::string SourceOf(const Json& cfg);
  // The remote keys; fetches the discovery document first when needed.
  Status Fetch(const Json& cfg, Cache* into);
  Result<std::string> Get(const std::string& url, const std::string& ca_pem, const char* what);
  Cache Snapshot(const Json& cfg);

  std::shared_ptr<HttpClient> client_;
  const Clock* clock_;
  const int64_t min_refetch_;
  std::mutex mu_;        // guards cache_
  std::mutex fetch_mu_;  // one fetch at a time
  Cache cache_;
};

}  // namespace sealbox::auth::jwt
