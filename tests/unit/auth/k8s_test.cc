#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/jws.h"
#include "auth/kubernetes/selector_yaml.h"
#include "auth/kubernetes/kubernetes_backend.h"
#include "base/crypto.h"

namespace sealbox::auth::k8s {
namespace {

struct Key {
  EVP_PKEY* pkey;
  std::string public_pem;
};

Key MakeKey(bool ec) {
  EVP_PKEY* k = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return {k, pem};
}

std::string Sign(const Key& key, const std::string& alg, const Json& claims) {
  std::string input = crypto::Base64UrlEncode(Json{{"alg", alg}, {"typ", "JWT"}}.dump()) + "." +
                      crypto::Base64UrlEncode(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key.pkey);
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg == "ES256") {  // DER → r||s, as JWS wants
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    unsigned char raw[64] = {0};
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
    ECDSA_SIG_free(es);
    sig.assign(reinterpret_cast<char*>(raw), 64);
  }
  return input + "." + crypto::Base64UrlEncode(sig);
}

TEST(JwtTest, ParseAndVerifyEachFamily) {
  Key rsa = MakeKey(false), ec = MakeKey(true), other = MakeKey(true);
  Json claims = {{"sub", "system:serviceaccount:prod:app"}, {"aud", {"vault"}}};
  for (auto [key, alg] : {std::pair{&rsa, "RS256"}, {&rsa, "PS256"}, {&ec, "ES256"}}) {
    auto jwt = ParseJwt(Sign(*key, alg, claims));
    ASSERT_TRUE(jwt.ok()) << alg;
    EXPECT_EQ(jwt->alg, alg);
    EXPECT_EQ(jwt->claims["sub"], "system:serviceaccount:prod:app");
    EXPECT_TRUE(VerifyJwtSignature(*jwt, {key->public_pem}).ok()) << alg;
    EXPECT_FALSE(VerifyJwtSignature(*jwt, {other.public_pem}).ok()) << alg;
    EXPECT_TRUE(VerifyJwtSignature(*jwt, {other.public_pem, key->public_pem}).ok()) << alg;
  }
  std::string t = Sign(ec, "ES256", claims);
  t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyJwtSignature(*ParseJwt(t), {ec.public_pem}).ok());
  EVP_PKEY_free(rsa.pkey);
  EVP_PKEY_free(ec.pkey);
  EVP_PKEY_free(other.pkey);
}

TEST(JwtTest, RejectsMalformedAndDisallowedAlgs) {
  EXPECT_FALSE(ParseJwt("").ok());
  EXPECT_FALSE(ParseJwt("a.b").ok());
  EXPECT_FALSE(ParseJwt("a.b.c.d").ok());
  EXPECT_FALSE(ParseJwt("!!.??.##").ok());
  std::string none = crypto::Base64UrlEncode(R"({"alg":"none"})") + "." + crypto::Base64UrlEncode("{}") + ".";
  EXPECT_FALSE(ParseJwt(none).ok());
  std::string hs = crypto::Base64UrlEncode(R"({"alg":"HS256"})") + "." + crypto::Base64UrlEncode("{}") + ".c2ln";
  EXPECT_FALSE(ParseJwt(hs).ok());
  EXPECT_FALSE(ParseJwt(std::string(20000, 'a')).ok());
  std::string arr = crypto::Base64UrlEncode(R"({"alg":"RS256"})") + "." + crypto::Base64UrlEncode("[1]") + ".c2ln";
  EXPECT_FALSE(ParseJwt(arr).ok());
}

TEST(K8sTest, GlobsCidrsSelectors) {
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("web-*", "web-api"));
  EXPECT_FALSE(GlobMatch("web-*", "api-web"));
  EXPECT_TRUE(GlobMatch("*-sa", "app-sa"));
  EXPECT_TRUE(GlobMatch("*pp*", "app-sa"));
  EXPECT_FALSE(GlobMatch("app", "app-sa"));
  EXPECT_TRUE(IpInCidrs("10.1.2.3", {"10.0.0.0/8"}));
  EXPECT_FALSE(IpInCidrs("11.1.2.3", {"10.0.0.0/8"}));
  EXPECT_TRUE(IpInCidrs("192.168.1.7", {"10.0.0.0/8", "192.168.1.7"}));
  EXPECT_TRUE(IpInCidrs("::ffff:127.0.0.1", {"127.0.0.0/8"}));
  EXPECT_TRUE(IpInCidrs("fd00::5", {"fd00::/8"}));
  EXPECT_FALSE(IpInCidrs("garbage", {"0.0.0.0/0"}));
  Json labels = {{"team", "a"}, {"env", "prod"}};
  EXPECT_TRUE(*SelectorMatches(Json{{"matchLabels", {{"team", "a"}}}}, labels));
  EXPECT_FALSE(*SelectorMatches(Json{{"matchLabels", {{"team", "b"}}}}, labels));
  Json in = {{"matchExpressions", {{{"key", "env"}, {"operator", "In"}, {"values", {"prod", "stage"}}}}}};
  EXPECT_TRUE(*SelectorMatches(in, labels));
  Json notin = {{"matchExpressions", {{{"key", "env"}, {"operator", "NotIn"}, {"values", {"prod"}}}}}};
  EXPECT_FALSE(*SelectorMatches(notin, labels));
  Json exists = {{"matchExpressions", {{{"key", "team"}, {"operator", "Exists"}}}}};
  EXPECT_TRUE(*SelectorMatches(exists, labels));
  Json dne = {{"matchExpressions", {{{"key", "team"}, {"operator", "DoesNotExist"}}}}};
  EXPECT_FALSE(*SelectorMatches(dne, labels));
  Json bad = {{"matchExpressions", {{{"key", "team"}, {"operator", "Near"}}}}};
  EXPECT_FALSE(SelectorMatches(bad, labels).ok());
}

}  // namespace
}  // namespace sealbox::auth::k8s

TEST(LabelSelectorParseTest, JsonAndYaml) {
  auto j = sealbox::auth::k8s::ParseLabelSelector(R"({"matchLabels":{"team":"a"}})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["matchLabels"]["team"], "a");
  auto y = sealbox::auth::k8s::ParseLabelSelector(
      "matchLabels:\n  team: a\nmatchExpressions:\n  - key: env\n    operator: In\n    values: [prod, \"1\"]\n");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ((*y)["matchExpressions"][0]["values"], sealbox::Json::array({"prod", "1"}));
  auto m = sealbox::auth::k8s::SelectorMatches(*y, sealbox::Json{{"team", "a"}, {"env", "prod"}});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(*m);
  for (const char* bad : {"[1, 2]", "just a string", "matchLabels: [unclosed", "\"json string\""}) {
    auto r = sealbox::auth::k8s::ParseLabelSelector(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find(bad), std::string::npos);  // never echoes the input
  }
  EXPECT_FALSE(sealbox::auth::k8s::ParseLabelSelector(std::string(70000, 'a')).ok());
}
