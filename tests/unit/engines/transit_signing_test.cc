// Signing keys moved in Vault's backup format, derived ed25519 keys and RSA
// encryption, checked against known answers taken from OpenBao 2.7 (its
// backups, public keys and deterministic ed25519 signatures).
#include <gtest/gtest.h>

#include <string>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/crypto.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/backup.h"
#include "engines/transit/key_policy.h"
#include "engines/transit/rsa_encryption.h"
#include "engines/transit/signing_backup.h"

namespace sealbox::engines::transit {
namespace {

// OpenBao's backup of an ed25519 key "ed" (its archive left out).
constexpr std::string_view kOpenBaoEd25519 =
    R"({"policy":{"name":"ed","keys":{"1":{"key":"PBv6qczPomUcpSg4gdnuhEhveIXeELA3AfQa1OzNpn0P996IEHNrEKEhCCpHft+xM0w1XHmrFInsn0QVnNO2ig==","hmac_key":"jgs1W2W/C2JBmwpKwF5mriPKtumFknq/Wux8auCdvOo=","time":"2026-12-07T14:55:52.679606444Z","ec_x":null,"ec_y":null,"ec_d":null,"rsa_key":null,"rsa_public_key":null,"public_key":"D/feiBBzaxChIQgqR37fsTNMNVx5qxSJ7J9EFZzTtoo=","convergent_version":0,"creation_time":1796655352,"certificate_chain":null,"external_key_ref":""}},"derived":false,"kdf":0,"convergent_encryption":false,"exportable":true,"min_decryption_version":1,"min_encryption_version":0,"latest_version":1,"archive_version":1,"archive_min_version":0,"min_available_version":0,"deletion_allowed":false,"convergent_version":0,"type":2}})";

// OpenBao's backup of an ecdsa-p256 key "p256": Go writes big.Int as bare numbers.
constexpr std::string_view kOpenBaoP256 =
    R"({"policy":{"name":"p256","keys":{"1":{"key":null,"hmac_key":"a/0q7d57OvwDKWCgIXDSWS7ayuUzdDWKJwbn+Nsyc2Y=","time":"2026-12-07T15:03:14.709731211Z","ec_x":19002897675977897525587944540793059258011412072208872840598253365977351188877,"ec_y":63225191548927635972503444819352334689061485109180238789896306713485018934630,"ec_d":88897754804021793990972745494034965084468548112811920263709331171962050388193,"rsa_key":null,"rsa_public_key":null,"public_key":"","convergent_version":0,"creation_time":1796655794,"certificate_chain":null,"external_key_ref":""}},"derived":false,"kdf":0,"convergent_encryption":false,"exportable":true,"min_decryption_version":1,"min_encryption_version":0,"latest_version":1,"archive_version":1,"archive_min_version":0,"min_available_version":0,"deletion_allowed":false,"convergent_version":0,"type":1}})";

constexpr std::string_view kOpenBaoP256Public =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKgNCSWf9U/8DW5U4HIaKrsPTd2kn\n"
    "ImlJn0rzgf7H8Y2LyDC1t3t2GdbLorpDzPxBz2l5vIJ/QsZKBlWpMYAtZg==\n-----END PUBLIC KEY-----\n";

Result<KeyPolicy> Restore(std::string_view json) { return RestorePolicy(crypto::Base64Encode(json), ""); }

std::string B64(std::string_view s) { return crypto::Base64Encode(s); }

TEST(TransitSigningBackup, RestoresOpenBaosEd25519AndSignsAsItDoes) {
  auto p = Restore(kOpenBaoEd25519);
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->type, KeyType::kEd25519);
  const KeyVersion& v = p->versions.at(1);
  EXPECT_EQ(*PublicKeyText(p->type, v.key), "D/feiBBzaxChIQgqR37fsTNMNVx5qxSJ7J9EFZzTtoo=");
  // ed25519 signatures are deterministic: OpenBao's signature of "hi" with this key.
  EXPECT_EQ(B64(*Sign(p->type, v.key, "hi", SignOptions{})),
            "akW12V1s+87iQcD/GVR7u+NaKH5mhEkEEVNhoHh3W/7zKKjY9WdRvHBKRsfh3iYpRX+hIplMXZVe9DQ879ZYDg==");
  // Our backup of it carries the same 64-byte Go key.
  auto text = BackupPolicy(*p);
  ASSERT_TRUE(text.ok());
  auto doc = ParseJsonBounded(crypto::Base64Decode(*text)->view(), JsonLimits{});
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["policy"]["type"], 2);
  EXPECT_EQ((*doc)["policy"]["keys"]["1"]["key"],
            "PBv6qczPomUcpSg4gdnuhEhveIXeELA3AfQa1OzNpn0P996IEHNrEKEhCCpHft+xM0w1XHmrFInsn0QVnNO2ig==");
}

TEST(TransitSigningBackup, RestoresOpenBaosEcdsaWithExactBigNumbers) {
  auto p = Restore(kOpenBaoP256);
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->type, KeyType::kEcdsaP256);
  EXPECT_EQ(*PublicKeyText(p->type, p->versions.at(1).key), kOpenBaoP256Public);
  // Our backup writes the same numbers, bare, as Go does.
  auto text = BackupPolicy(*p);
  ASSERT_TRUE(text.ok());
  std::string json(crypto::Base64Decode(*text)->view());
  EXPECT_NE(json.find(R"("ec_d":88897754804021793990972745494034965084468548112811920263709331171962050388193,)"),
            std::string::npos);
  // A scalar that is not the point's is refused.
  std::string bad(kOpenBaoP256);
  bad.replace(bad.find("\"ec_d\":8889") + 7, 4, "7777");
  EXPECT_EQ(Restore(bad).status().message(), "invalid backup: inconsistent signing key");
}

TEST(TransitSigningBackup, EveryGeneratedSigningTypeRoundTrips) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kEcdsaP521,
                       KeyType::kRsa2048}) {
    KeyPolicy p;
    p.name = "k";
    p.type = type;
    p.exportable = p.allow_plaintext_backup = true;
    p.Rotate(1796655352);
    p.Rotate(1796655353);
    auto text = BackupPolicy(p);
    ASSERT_TRUE(text.ok()) << KeyTypeName(type);
    auto back = RestorePolicy(*text, "");
    ASSERT_TRUE(back.ok()) << KeyTypeName(type) << ": " << back.status().message();
    EXPECT_EQ(back->type, type);
    for (int v : {1, 2}) {
      EXPECT_EQ(*PublicKeyText(type, back->versions.at(v).key), *PublicKeyText(type, p.versions.at(v).key));
      EXPECT_TRUE(back->versions.at(v).hmac_key.Equals(p.versions.at(v).hmac_key));
    }
  }
}

TEST(TransitSigningBackup, BigNumbersSurviveTaggingOnly) {
  std::string in =
      R"({"a":"12345678901234567890","n":123456789012345678901234567890,"e":65537,"f":0.12345678901234567890,)"
      R"("p":[ 12345678901234567890]})";
  std::string tagged = TagBigNumbers(in);
  EXPECT_EQ(tagged, R"({"a":"12345678901234567890","n":"\u0001123456789012345678901234567890","e":65537,)"
                    R"("f":0.12345678901234567890,"p":[ "\u000112345678901234567890"]})");
  EXPECT_EQ(EmitBigNumbers(tagged), in);
}

TEST(TransitDerivedEd25519, MatchesOpenBaosPerContextKeys) {
  // OpenBao's derived ed25519 key "edd": its public key and signature of "hi"
  // for context "abc".
  std::string json = R"({"policy":{"name":"edd","type":2,"derived":true,"kdf":1,"exportable":true,)"
                     R"("allow_plaintext_backup":true,"latest_version":1,"min_decryption_version":1,"keys":{"1":{)"
                     R"("key":"e8qv9W+0m5X0JyNDCRzkSZGL3SCBurOWbQvS9BlqvMH09vLaaBxlYzf+CAyYFBNBPsMdaAMNPzMYEUD7yz4Vew==",)"
                     R"("hmac_key":"eAHNCd6TU80zrA7lPspxaxJb/d0IgvsopuRHpYrEgIU=","creation_time":1796655362}}}})";
  auto p = Restore(json);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->derived);
  auto derived = DeriveEd25519(p->versions.at(1).key, "abc");
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(*PublicKeyText(KeyType::kEd25519, *derived), "gg3T5ppUSUwUDJKXA9JCjCLqhj/c627C9RZ6tDlW6yI=");
  EXPECT_EQ(B64(*Sign(KeyType::kEd25519, *derived, "hi", SignOptions{})),
            "uqgcFNs+/3A2sz3Rb7TnV204ht3qXgPdR1ewL5W2etXpm/Z7HZhhTI2qakSJc7K2bmoSt3FZWfxQbFX83I0nDw==");
  EXPECT_EQ(p->ReadView("abc")["keys"]["1"]["public_key"], "gg3T5ppUSUwUDJKXA9JCjCLqhj/c627C9RZ6tDlW6yI=");
  EXPECT_EQ(p->ReadView()["keys"]["1"]["public_key"], "");
  EXPECT_EQ(DeriveEd25519(p->versions.at(1).key, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(TransitRsaEncryption, OaepRoundTripsAndRefusesAsGo) {
  KeyPolicy p;
  p.name = "r";
  p.type = KeyType::kRsa2048;
  p.Rotate(1796655352);
  auto ct = EncryptValue(p, 1, "", "secret", "");
  ASSERT_TRUE(ct.ok()) << ct.status().message();
  ASSERT_EQ(ct->rfind("vault:v1:", 0), 0u);
  EXPECT_EQ(crypto::Base64Decode(ct->substr(9))->size(), 256u);  // one RSA block
  EXPECT_NE(*ct, *EncryptValue(p, 1, "", "secret", ""));         // OAEP is randomised
  EXPECT_EQ(DecryptValue(p, "", *ct, "")->plaintext.view(), "secret");
  // 2048-bit OAEP(SHA-256) holds at most 256 - 2*32 - 2 = 190 bytes.
  EXPECT_TRUE(EncryptValue(p, 1, "", std::string(190, 'x'), "").ok());
  EXPECT_EQ(EncryptValue(p, 1, "", std::string(191, 'x'), "").status().message(),
            "failed to RSA encrypt the plaintext: crypto/rsa: message too long for RSA key size");
  std::string tampered = *ct;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  EXPECT_EQ(DecryptValue(p, "", tampered, "").status().message(),
            "failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
  EXPECT_EQ(DecryptValue(p, "", "vault:v1:AAAA", "").status().message(),
            "failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
}

TEST(TransitPublicKeyAlone, IsStoredAsSuchAndOnlyVerifiesAndEncrypts) {
  KeyPolicy full;
  full.type = KeyType::kRsa2048;
  full.Rotate(1796655352);
  KeyPolicy half = full;
  half.name = "half";
  half.imported = true;
  EVP_PKEY* key = *LoadKeyDer(full.versions.at(1).key);
  int len = i2d_PUBKEY(key, nullptr);
  SecureBytes spki(static_cast<size_t>(len));
  unsigned char* o = spki.data();
  i2d_PUBKEY(key, &o);
  EVP_PKEY_free(key);
  half.versions.at(1).key = spki;
  half.versions.at(1).public_only = true;

  SecureBytes encoded = EncodePolicy(half);
  auto back = DecodePolicy(encoded.view());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->imported && back->versions.at(1).public_only);
  EXPECT_EQ(*PublicKeyText(back->type, back->versions.at(1).key), *PublicKeyText(full.type, full.versions.at(1).key));
  auto ct = EncryptValue(*back, 1, "", "to the holder", "");
  ASSERT_TRUE(ct.ok()) << ct.status().message();
  EXPECT_EQ(DecryptValue(full, "", *ct, "")->plaintext.view(), "to the holder");
  EXPECT_EQ(DecryptValue(*back, "", *ct, "").status().message(),
            "cannot decrypt ciphertext, key version does not have a private counterpart");
  SignOptions opts;
  std::string sig = *Sign(full.type, full.versions.at(1).key, "m", opts);
  EXPECT_TRUE(*Verify(back->type, back->versions.at(1).key, "m", sig, opts));
}

}  // namespace
}  // namespace sealbox::engines::transit
