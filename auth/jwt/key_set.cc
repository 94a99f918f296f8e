#include "auth/jwt/key_set.h"

#include "base/log.h"

namespace sealbox::auth::jwt {
namespace {

constexpr size_t kMaxDocument = 1 << 20;

std::string WithoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool AnyVerifies(const std::vector<PublicKey>& keys, const Jwt& jwt) {
  for (const auto& k : keys)
    if ((jwt.kid.empty() || k.kid() == jwt.kid) && k.Verifies(jwt)) return true;
  return false;
}

// Whether fetching again could help: the token names a key the cache lacks
// (or names none). A bad signature under a known kid is refused without
// asking the issuer.
bool WorthRefetch(const std::vector<PublicKey>& keys, const Jwt& jwt) {
  if (jwt.kid.empty()) return true;
  for (const auto& k : keys)
    if (k.kid() == jwt.kid) return false;
  return true;
}

const std::string kSignaturePrefix = "error validating token: error verifying token signature: ";

// Why a token that does not parse fails, in go-jose's words (and go-oidc's
// for remote keys); the token itself is never quoted.
std::string MalformedReason(const Status& parse_error, bool static_keys) {
  const std::string& m = parse_error.message();
  std::string reason;
  if (m == "malformed token: expected three parts") {
    reason = "go-jose/go-jose: compact JWS format must have three parts";
  } else if (m.starts_with("unexpected signature algorithm") && !static_keys) {
    reason = m + "; expected [\"RS256\" \"RS384\" \"RS512\" \"ES256\" \"ES384\" \"ES512\" \"PS256\" \"PS384\" "
                 "\"PS512\" \"EdDSA\"]";
  } else {
    return static_keys ? "no known key successfully validated the token signature"
                       : "failed to verify id token signature";
  }
  return static_keys ? reason : "oidc: malformed jwt: " + reason;
}

}  // namespace

std::string KeySet::SourceOf(const Json& cfg) {
  const std::string discovery = cfg.value("oidc_discovery_url", "");
  if (!discovery.empty()) return "oidc\n" + discovery + "\n" + cfg.value("oidc_discovery_ca_pem", "");
  return "jwks\n" + cfg.value("jwks_url", "") + "\n" + cfg.value("jwks_ca_pem", "");
}

void KeySet::Clear() {
  std::lock_guard l(mu_);
  cache_ = Cache{};
}

KeySet::Cache KeySet::Snapshot(const Json& cfg) {
  std::lock_guard l(mu_);
  const std::string source = SourceOf(cfg);
  if (cache_.source != source) cache_ = Cache{.source = source};
  return cache_;
}

Result<std::string> KeySet::Get(const std::string& url, const std::string& ca_pem, const char* what) {
  HttpClientRequest hr;
  hr.url = url;
  hr.headers = {{"Accept", "application/json"}};
  hr.tls.ca_pem = ca_pem;
  hr.timeout_ms = 5000;
  auto r = client_->Do(hr);
  if (!r.ok()) {
    log::Warn(std::string("jwt: fetching the ") + what + " failed: " + r.status().message());
    return Unavailable("fetch failed");
  }
  if (r->status != 200 || r->body.size() > kMaxDocument) {
    log::Warn(std::string("jwt: fetching the ") + what + " returned HTTP " + std::to_string(r->status));
    return Unavailable("fetch failed");
  }
  return std::move(r->body);
}

Status KeySet::Fetch(const Json& cfg, Cache* into) {
  const std::string discovery = cfg.value("oidc_discovery_url", "");
  const std::string ca = discovery.empty() ? cfg.value("jwks_ca_pem", "") : cfg.value("oidc_discovery_ca_pem", "");
  if (!discovery.empty() && into->jwks_url.empty()) {
    SB_ASSIGN_OR_RETURN(std::string body,
                        Get(WithoutTrailingSlash(discovery) + "/.well-known/openid-configuration", ca,
                            "OIDC discovery document"));
    auto parsed = ParseJsonBounded(body, JsonLimits{});
    const Json doc = parsed.ok() ? std::move(parsed).value() : Json();
    if (!doc.is_object() || !doc.value("jwks_uri", Json()).is_string()) {
      log::Warn("jwt: the OIDC discovery document is not a JSON object with a jwks_uri");
      return Unavailable("bad discovery document");
    }
    if (doc.value("issuer", Json()) != discovery) {
      // Both URLs are configuration, not secrets: Vault shows them too.
      const Json got = doc.value("issuer", Json());
      return Unavailable("issuer did not match the returned issuer, expected \"" + discovery + "\" got \"" +
                         (got.is_string() ? got.get<std::string>().substr(0, 512) : std::string()) + "\"");
    }
    into->jwks_url = doc["jwks_uri"].get<std::string>();
  }
  const std::string url = discovery.empty() ? cfg.value("jwks_url", "") : into->jwks_url;
  SB_ASSIGN_OR_RETURN(std::string body, Get(url, ca, "JWKS"));
  auto keys = ParseJwks(body);
  if (!keys.ok()) {
    log::Warn("jwt: the JWKS answer is not a JSON Web Key Set");
    return Unavailable("bad JWKS");
  }
  into->keys = std::move(keys).value();
  return Status::Ok();
}

Status KeySet::Check(const Json& cfg) {
  std::lock_guard f(fetch_mu_);
  Cache next{.source = SourceOf(cfg)};
  Status s = Fetch(cfg, &next);
  if (!s.ok() && cfg.value("oidc_discovery_url", "").empty()) return InvalidArgument("error checking jwks URL");
  if (!s.ok()) {
    const bool mismatch = s.message().starts_with("issuer did not match");
    return InvalidArgument("error checking oidc discovery URL" + (mismatch ? ": " + s.message() : std::string()));
  }
  std::lock_guard l(mu_);
  next.generation = cache_.generation + 1;
  cache_ = std::move(next);
  return Status::Ok();
}

Result<Jwt> KeySet::Verify(const Json& cfg, std::string_view token) {
  auto pems = cfg.value("jwt_validation_pubkeys", std::vector<std::string>{});
  auto parsed = ParseJwt(token);
  if (!parsed.ok()) return InvalidArgument(kSignaturePrefix + MalformedReason(parsed.status(), !pems.empty()));
  const Jwt& jwt = *parsed;
  if (!pems.empty()) {
    for (const auto& pem : pems) {
      auto k = PublicKey::FromPem(pem);
      if (k.ok() && k->Verifies(jwt)) return std::move(parsed).value();
    }
    return InvalidArgument(kSignaturePrefix + "no known key successfully validated the token signature");
  }
  const Status failed = InvalidArgument(kSignaturePrefix + "failed to verify id token signature");
  Cache seen = Snapshot(cfg);
  if (AnyVerifies(seen.keys, jwt)) return std::move(parsed).value();
  if (seen.generation != 0 && !WorthRefetch(seen.keys, jwt)) return failed;
  std::lock_guard f(fetch_mu_);
  Cache now = Snapshot(cfg);
  if (now.generation != seen.generation) return AnyVerifies(now.keys, jwt) ? std::move(parsed) : failed;
  const int64_t t = clock_->NowSeconds();
  if (t - now.last_refetch < min_refetch_) return failed;  // fetched moments ago: the kid is not there
  Status fetched = Fetch(cfg, &now);
  {
    std::lock_guard l(mu_);
    if (cache_.source != now.source) return failed;  // the config changed meanwhile
    cache_.last_refetch = t;
    if (fetched.ok()) {
      cache_.keys = now.keys;
      cache_.jwks_url = now.jwks_url;
      ++cache_.generation;
    }
  }
  if (!fetched.ok())
    return InvalidArgument(kSignaturePrefix + "fetching keys oidc: get keys failed");
  return AnyVerifies(now.keys, jwt) ? std::move(parsed) : failed;
}

}  // namespace sealbox::auth::jwt
