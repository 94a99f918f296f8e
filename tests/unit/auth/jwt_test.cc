// JWT/OIDC auth: claim matching (exact, globs, lists, JSON pointers), the
// registered claims with their leeways, JWKs, and the key cache's bounded
// refetch against a fake issuer.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth/jws.h"
#include "auth/jwt/claims.h"
#include "auth/jwt/key_set.h"
#include "base/crypto.h"

namespace sealbox::auth::jwt {
namespace {

constexpr int64_t kNow = 1'700'000'000;

Json With(Json j, const Json& patch) {
  j.update(patch);
  return j;
}

TEST(JwtClaimsTest, GetClaimByNameAndPointer) {
  Json c = {{"aud", "vault"},
            {"n", 5.7},
            {"kubernetes.io", {{"namespace", "prod"}, {"list", {"a", "b"}}}},
            {"a/b", {{"~x", 1}}}};
  EXPECT_EQ(GetClaim(c, "aud"), Json::array({"vault"}));  // one audience reads as a list
  EXPECT_EQ(GetClaim(c, "n"), 5);                         // floats compare as their integer part
  EXPECT_EQ(GetClaim(c, "/kubernetes.io/namespace"), "prod");
  EXPECT_EQ(GetClaim(c, "/kubernetes.io/list/1"), "b");
  EXPECT_EQ(GetClaim(c, "/a~1b/~0x"), 1);
  EXPECT_TRUE(GetClaim(c, "/kubernetes.io/missing").is_null());
  EXPECT_TRUE(GetClaim(c, "/kubernetes.io/list/9").is_null());
  EXPECT_TRUE(GetClaim(c, "kubernetes.io/namespace").is_null());  // no '/': a top-level name
}

TEST(JwtClaimsTest, GlobsAsGoGlob) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("team-*", "team-a"));
  EXPECT_FALSE(GlobMatch("team-*", "a-team-a"));
  EXPECT_TRUE(GlobMatch("*-staging", "web-staging"));
  EXPECT_TRUE(GlobMatch("pr*d", "prod"));
  EXPECT_TRUE(GlobMatch("a*b*c", "a-x-b-y-c"));
  EXPECT_FALSE(GlobMatch("a*b*c", "a-x-c-y-b"));
  EXPECT_TRUE(GlobMatch("*mid*", "amidb"));
  EXPECT_FALSE(GlobMatch("exact", "exactly"));
  EXPECT_FALSE(GlobMatch("", "x"));
  EXPECT_TRUE(GlobMatch("", ""));
}

TEST(JwtClaimsTest, BoundClaimsExactGlobAndLists) {
  Json claims = {{"groups", {"dev", "ops"}}, {"email", "a@example.com"}, {"admin", true}, {"level", 3},
                 {"k", {{"ns", "team-a"}}}};
  EXPECT_TRUE(ValidateBoundClaims(Json{{"groups", "ops"}}, false, claims).ok());
  EXPECT_TRUE(ValidateBoundClaims(Json{{"groups", {"qa", "dev"}}}, false, claims).ok());
  EXPECT_TRUE(ValidateBoundClaims(Json{{"admin", true}, {"level", 3}}, false, claims).ok());
  EXPECT_FALSE(ValidateBoundClaims(Json{{"admin", "true"}}, false, claims).ok());  // types differ
  EXPECT_FALSE(ValidateBoundClaims(Json{{"email", "*@example.com"}}, false, claims).ok());
  EXPECT_TRUE(ValidateBoundClaims(Json{{"email", "*@example.com"}}, true, claims).ok());
  EXPECT_TRUE(ValidateBoundClaims(Json{{"/k/ns", {"x-*", "team-*"}}}, true, claims).ok());
  Status miss = ValidateBoundClaims(Json{{"/k/ns", "other-*"}}, true, claims);
  EXPECT_EQ(miss.message(), "claim \"/k/ns\" does not match any associated bound claim values");
  EXPECT_EQ(ValidateBoundClaims(Json{{"missing", "x"}}, false, claims).message(), "claim \"missing\" is missing");
  // Every bound claim must match, not just one.
  EXPECT_FALSE(ValidateBoundClaims(Json{{"groups", "dev"}, {"email", "b@example.com"}}, false, claims).ok());
}

TEST(JwtClaimsTest, MetadataAndGroups) {
  Json claims = {{"email", "a@example.com"}, {"n", 1}, {"groups", {"dev", "", "ops"}}, {"one", "solo"}};
  auto md = ExtractMetadata(claims, Json{{"email", "mail"}, {"absent", "x"}});
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(*md, (Json{{"mail", "a@example.com"}}));
  EXPECT_EQ(ExtractMetadata(claims, Json{{"n", "num"}}).status().message(), "error converting claim 'n' to string");
  EXPECT_EQ(*GroupNames(claims, "groups"), (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(*GroupNames(claims, "one"), (std::vector<std::string>{"solo"}));
  EXPECT_EQ(GroupNames(claims, "nope").status().message(), "failed to fetch groups: \"nope\" claim not found in token");
}

TEST(JwtClaimsTest, RegisteredClaimsAndLeeways) {
  Expected want;
  want.issuer = "https://issuer";
  want.subject = "me";
  want.audiences = {"a", "b"};
  Json good = {{"iss", "https://issuer"}, {"sub", "me"}, {"aud", {"x", "b"}}, {"iat", kNow}, {"exp", kNow + 60}};
  EXPECT_TRUE(ValidateRegisteredClaims(good, want, kNow).ok());
  EXPECT_EQ(ValidateRegisteredClaims(With(good, {{"iss", "other"}}), want, kNow).message(),
            "invalid issuer (iss) claim");
  EXPECT_EQ(ValidateRegisteredClaims(With(good, {{"sub", "you"}}), want, kNow).message(),
            "invalid subject (sub) claim");
  EXPECT_EQ(ValidateRegisteredClaims(With(good, {{"aud", "c"}}), want, kNow).message(),
            "invalid audience (aud) claim: audience claim does not match any expected audience");
  // Absurd numbers are held in range, not undefined.
  EXPECT_TRUE(ValidateRegisteredClaims(With(good, {{"exp", 1e300}}), want, kNow).ok());
  EXPECT_FALSE(ValidateRegisteredClaims(With(good, {{"exp", -1e300}}), want, kNow).ok());
  EXPECT_EQ(GetClaim(Json{{"n", -1e300}}, "n"), -1'000'000'000'000'000);
  // exp: the clock skew leeway (60 s by default; -1 means none) applies.
  Json expired = With(good, {{"exp", kNow - 59}, {"iat", kNow - 100}});
  EXPECT_TRUE(ValidateRegisteredClaims(expired, want, kNow).ok());
  EXPECT_EQ(ValidateRegisteredClaims(expired, want, kNow + 2).message(),
            "invalid expiration time (exp) claim: token is expired");
  want.clock_skew_leeway = -1;
  EXPECT_FALSE(ValidateRegisteredClaims(expired, want, kNow).ok());
  want.clock_skew_leeway = 300;
  EXPECT_TRUE(ValidateRegisteredClaims(expired, want, kNow + 200).ok());
  want.clock_skew_leeway = 0;
  // nbf in the future beyond the skew; iat in the future.
  EXPECT_EQ(ValidateRegisteredClaims(With(good, {{"nbf", kNow + 61}}), want, kNow).message(),
            "invalid not before (nbf) claim: token not yet valid");
  EXPECT_EQ(ValidateRegisteredClaims(With(good, {{"iat", kNow + 61}}), want, kNow).message(),
            "invalid not before (nbf) claim: token not yet valid");  // nbf defaults to iat, checked first
  // No exp: iat plus the expiration leeway (150 s by default) is the expiry.
  Json no_exp = {{"iss", "https://issuer"}, {"sub", "me"}, {"aud", "a"}, {"iat", kNow}};
  EXPECT_TRUE(ValidateRegisteredClaims(no_exp, want, kNow + 150 + 60).ok());
  EXPECT_FALSE(ValidateRegisteredClaims(no_exp, want, kNow + 150 + 61).ok());
  want.expiration_leeway = 10;
  EXPECT_FALSE(ValidateRegisteredClaims(no_exp, want, kNow + 71).ok());
  EXPECT_EQ(ValidateRegisteredClaims(Json{{"iss", "https://issuer"}, {"sub", "me"}, {"aud", "a"}}, want, kNow)
                .message(),
            "no issued at (iat), not before (nbf), or expiration time (exp) claims in token");
}

// ---- JWKs and the key cache ----

std::string Sign(EVP_PKEY* key, const std::string& alg, const std::string& kid, const Json& claims) {
  std::string input = crypto::Base64UrlEncode(Json{{"alg", alg}, {"kid", kid}}.dump()) + "." +
                      crypto::Base64UrlEncode(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, alg == "EdDSA" ? nullptr : EVP_sha256(), nullptr, key);
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return input + "." + crypto::Base64UrlEncode(sig);
}

std::string BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return crypto::Base64UrlEncode(out);
}

Json RsaJwk(EVP_PKEY* key, const std::string& kid) {
  return {{"kty", "RSA"}, {"use", "sig"}, {"kid", kid}, {"alg", "RS256"},
          {"n", BnParam(key, OSSL_PKEY_PARAM_RSA_N)}, {"e", BnParam(key, OSSL_PKEY_PARAM_RSA_E)}};
}

Json EdJwk(EVP_PKEY* key, const std::string& kid) {
  unsigned char raw[32];
  size_t len = sizeof raw;
  EVP_PKEY_get_raw_public_key(key, raw, &len);
  return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", kid},
          {"x", crypto::Base64UrlEncode(std::string(reinterpret_cast<char*>(raw), len))}};
}

TEST(JwkTest, RsaAndEd25519VerifyTheirOwnTokensOnly) {
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  Json claims = {{"sub", "me"}};
  auto rsa_key = PublicKey::FromJwk(RsaJwk(rsa, "r1"));
  auto ed_key = PublicKey::FromJwk(EdJwk(ed, "e1"));
  ASSERT_TRUE(rsa_key.ok() && ed_key.ok());
  auto rs = ParseJwt(Sign(rsa, "RS256", "r1", claims));
  auto eddsa = ParseJwt(Sign(ed, "EdDSA", "e1", claims));
  ASSERT_TRUE(rs.ok() && eddsa.ok());
  EXPECT_EQ(rs->kid, "r1");
  EXPECT_TRUE(rsa_key->Verifies(*rs));
  EXPECT_FALSE(ed_key->Verifies(*rs));
  EXPECT_TRUE(ed_key->Verifies(*eddsa));
  EXPECT_FALSE(rsa_key->Verifies(*eddsa));
  // A JWK whose alg is not the token's does not verify it (PS256 token, RS256 key).
  Jwt ps = *rs;
  ps.alg = "PS256";
  EXPECT_FALSE(rsa_key->Verifies(ps));
  EXPECT_FALSE(PublicKey::FromJwk(Json{{"kty", "RSA"}, {"use", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(Json{{"kty", "oct"}, {"k", "c2VjcmV0"}}).ok());  // no symmetric keys
  EXPECT_FALSE(ParseJwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJtZSJ9.").ok());          // alg none
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(ed);
}

// An issuer whose JWKS the test changes; it counts the fetches.
class FakeIssuer : public HttpClient {
 public:
  Result<HttpClientResponse> Do(const HttpClientRequest& req) override {
    ++fetches;
    HttpClientResponse r;
    r.status = 200;
    r.body = Json{{"keys", keys}}.dump();
    return r;
  }
  Json keys = Json::array();
  int fetches = 0;
};

TEST(KeySetTest, RefetchesOnAnUnknownKidAtMostOncePerInterval) {
  EVP_PKEY* k1 = EVP_RSA_gen(2048);
  EVP_PKEY* k2 = EVP_RSA_gen(2048);
  auto issuer = std::make_shared<FakeIssuer>();
  issuer->keys.push_back(RsaJwk(k1, "k1"));
  FakeClock clock;
  KeySet keys(issuer, &clock, 10);
  const Json cfg = {{"jwks_url", "https://issuer/jwks"}};
  ASSERT_TRUE(keys.Check(cfg).ok());
  EXPECT_EQ(issuer->fetches, 1);
  const Json claims = {{"sub", "me"}};
  EXPECT_TRUE(keys.Verify(cfg, Sign(k1, "RS256", "k1", claims)).ok());
  EXPECT_EQ(issuer->fetches, 1);
  // Rotation: k2 published; its first token makes one fetch.
  issuer->keys.push_back(RsaJwk(k2, "k2"));
  EXPECT_TRUE(keys.Verify(cfg, Sign(k2, "RS256", "k2", claims)).ok());
  EXPECT_EQ(issuer->fetches, 2);
  // Unknown kids: refused without fetching until the interval has passed.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(keys.Verify(cfg, Sign(k2, "RS256", "k9", claims)).ok());
  EXPECT_EQ(issuer->fetches, 2);
  clock.AdvanceSeconds(10);
  EXPECT_FALSE(keys.Verify(cfg, Sign(k2, "RS256", "k9", claims)).ok());
  EXPECT_EQ(issuer->fetches, 3);
  // A bad signature under a known kid never fetches.
  clock.AdvanceSeconds(10);
  EXPECT_FALSE(keys.Verify(cfg, Sign(k1, "RS256", "k2", claims)).ok());
  EXPECT_EQ(issuer->fetches, 3);
  // Another key source drops the cache.
  EXPECT_TRUE(keys.Verify(Json{{"jwks_url", "https://issuer/other"}}, Sign(k1, "RS256", "k1", claims)).ok());
  EXPECT_EQ(issuer->fetches, 4);
  EVP_PKEY_free(k1);
  EVP_PKEY_free(k2);
}

}  // namespace
}  // namespace sealbox::auth::jwt
