// Unit tests of the Transit engine's crypto pieces (known-answer vectors for
// AES-GCM, HKDF-SHA256 and HMAC; Go's base64 errors), its stored key layout,
// the vault:vN ciphertext and the backend driven over in-memory storage.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/crypto.h"
#include "engines/transit/backup.h"
#include "engines/transit/key_policy.h"
#include "engines/transit/register.h"
#include "engines/transit/transit_crypto.h"
#include "storage/storage.h"

namespace sealbox::engines::transit {
namespace {

std::string HexOf(std::string_view b) { return crypto::HexEncode(b); }

TEST(TransitCrypto, Aes256GcmMatchesNistVector) {
  // GCM spec test case 14: zero key, zero IV, 16 zero bytes.
  SecureBytes key(32);
  std::string nonce(12, '\0');
  auto sealed = AeadSeal(KeyType::kAes256Gcm96, key, nonce, std::string(16, '\0'), "");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(HexOf(*sealed), std::string(24, '0') + "cea7403d4d606b6e074ec5d3baf39d18" +
                                "d0d1c8a799996bf0265b98b5d48ab919");
  auto opened = AeadOpen(KeyType::kAes256Gcm96, key, *sealed, "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->view(), std::string(16, '\0'));
}

TEST(TransitCrypto, EveryAeadRoundTripsAndRefusesTampering) {
  for (KeyType type : {KeyType::kAes128Gcm96, KeyType::kAes256Gcm96, KeyType::kChaCha20Poly1305}) {
    SecureBytes key = crypto::RandomBytes(AeadKeySize(type));
    std::string nonce(12, 'n');
    auto sealed = AeadSeal(type, key, nonce, "secret message", "aad");
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), kNonceSize + 14 + kTagSize);
    EXPECT_EQ(sealed->substr(0, 12), nonce);
    EXPECT_EQ(AeadOpen(type, key, *sealed, "aad")->view(), "secret message");

    auto wrong_aad = AeadOpen(type, key, *sealed, "other");
    EXPECT_EQ(wrong_aad.status().message(), "cipher: message authentication failed");
    std::string flipped = *sealed;
    flipped[14] ^= 1;
    EXPECT_FALSE(AeadOpen(type, key, flipped, "aad").ok());
    SecureBytes other = crypto::RandomBytes(AeadKeySize(type));
    EXPECT_FALSE(AeadOpen(type, other, *sealed, "aad").ok());
    EXPECT_EQ(AeadOpen(type, key, "short", "").status().message(), "invalid ciphertext length");
  }
}

TEST(TransitCrypto, HkdfMatchesRfc5869NoSaltVector) {
  // RFC 5869 test case 3: no salt, no info.
  SecureBytes ikm(22);
  for (size_t i = 0; i < ikm.size(); ++i) ikm[i] = 0x0b;
  SecureBytes okm = HkdfSha256(ikm, "", 42);
  EXPECT_EQ(HexOf(okm.view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // A shorter read is a prefix (derived keys and convergent MAC keys rely on it).
  EXPECT_EQ(HexOf(HkdfSha256(ikm, "", 16).view()), HexOf(okm.view()).substr(0, 32));
}

TEST(TransitCrypto, HmacAndDigestMatchKnownValues) {
  SecureBytes jefe(std::string_view("Jefe"));
  EXPECT_EQ(HexOf(Hmac(HashAlgo::kSha2_256, jefe, "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexOf(Digest(HashAlgo::kSha2_256, "hello world")),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_EQ(HexOf(Digest(HashAlgo::kSha3_256, "hello world")),
            "644bcc7e564373040999aac89e7622f3ca71fba1d972fd94a31c3bfbf24e3938");
  EXPECT_FALSE(ParseHashAlgo("md5").has_value());
  EXPECT_EQ(Hmac(HashAlgo::kSha2_512, jefe, "x").size(), 64u);
}

TEST(TransitCrypto, Base64IsGoStrict) {
  EXPECT_EQ(DecodeStdBase64("YWJj")->view(), "abc");
  EXPECT_EQ(DecodeStdBase64("YQ==")->view(), "a");
  EXPECT_EQ(DecodeStdBase64("YWI=")->view(), "ab");
  EXPECT_EQ(DecodeStdBase64("")->view(), "");
  EXPECT_EQ(DecodeStdBase64("!!").status().message(), "illegal base64 data at input byte 0");
  EXPECT_EQ(DecodeStdBase64("YWJjZ").status().message(), "illegal base64 data at input byte 4");
  EXPECT_EQ(DecodeStdBase64("YQ").status().message(), "illegal base64 data at input byte 0");
  EXPECT_FALSE(DecodeStdBase64("YQ=").ok());
  EXPECT_FALSE(DecodeStdBase64("YQ==YQ==").ok());
  EXPECT_FALSE(DecodeStdBase64("YW\nJj").ok());
}

TEST(TransitCiphertext, SplitsVersionedValues) {
  auto ok = SplitVersioned("vault:v12:abc:d");
  EXPECT_EQ(ok.error, VersionedValue::Error::kNone);
  EXPECT_EQ(ok.version, 12);
  EXPECT_EQ(ok.payload, "abc:d");
  EXPECT_EQ(SplitVersioned("abc").error, VersionedValue::Error::kNoPrefix);
  EXPECT_EQ(SplitVersioned("vault:v1").error, VersionedValue::Error::kFieldCount);
  EXPECT_EQ(SplitVersioned("vault:vx:abc").error, VersionedValue::Error::kBadVersion);
  EXPECT_EQ(SplitVersioned("vault:v:abc").error, VersionedValue::Error::kBadVersion);
}

KeyPolicy NewKey(KeyType type, bool derived = false, bool convergent = false) {
  KeyPolicy p;
  p.name = "k";
  p.type = type;
  p.derived = derived;
  p.convergent = convergent;
  p.Rotate(1000);
  return p;
}

TEST(TransitCiphertext, LaysOutNonceCiphertextTagAsVault) {
  KeyPolicy p = NewKey(KeyType::kAes256Gcm96);
  auto ct = EncryptValue(p, 1, "", "hello world", "");
  ASSERT_TRUE(ct.ok());
  ASSERT_EQ(ct->rfind("vault:v1:", 0), 0u);
  auto raw = DecodeStdBase64(ct->substr(9));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 12u + 11u + 16u);
  // The payload is exactly what the raw AEAD opens under the version's key.
  EXPECT_EQ(AeadOpen(p.type, p.versions[1].key, raw->view(), "")->view(), "hello world");
  EXPECT_EQ(DecryptValue(p, "", *ct, "")->plaintext.view(), "hello world");
}

TEST(TransitCiphertext, DerivedKeysNeedTheirContext) {
  KeyPolicy p = NewKey(KeyType::kChaCha20Poly1305, true);
  EXPECT_FALSE(EncryptValue(p, 1, "", "x", "").ok());
  auto ct = EncryptValue(p, 1, "ctx", "x", "");
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(DecryptValue(p, "ctx", *ct, "")->plaintext.view(), "x");
  EXPECT_EQ(DecryptValue(p, "other", *ct, "").status().message(), "cipher: message authentication failed");
  // The derived key is HKDF-SHA256(key, info=context), as Vault's kdf 1.
  auto raw = DecodeStdBase64(ct->substr(9));
  SecureBytes derived = HkdfSha256(p.versions[1].key, "ctx", 32);
  EXPECT_EQ(AeadOpen(p.type, derived, raw->view(), "")->view(), "x");
}

TEST(TransitCiphertext, ConvergentNonceComesFromThePlaintext) {
  KeyPolicy p = NewKey(KeyType::kAes128Gcm96, true, true);
  auto a = EncryptValue(p, 1, "ctx", "same", "");
  auto b = EncryptValue(p, 1, "ctx", "same", "");
  auto c = EncryptValue(p, 1, "ctx2", "same", "");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  // Vault v3: HKDF(key, ctx) gives enc key || 32-byte MAC key; nonce = HMAC(MAC key, pt)[:12].
  SecureBytes okm = HkdfSha256(p.versions[1].key, "ctx", 16 + 32);
  SecureBytes mac_key(okm.data() + 16, 32);
  auto raw = DecodeStdBase64(a->substr(9));
  EXPECT_EQ(raw->view().substr(0, 12), ConvergentNonce(mac_key, "same"));
}

TEST(TransitCiphertext, VersionsAreCheckedAsVault) {
  KeyPolicy p = NewKey(KeyType::kAes256Gcm96);
  auto v1 = EncryptValue(p, 1, "", "x", "");
  p.Rotate(2000);
  p.min_decryption_version = 2;
  EXPECT_EQ(DecryptValue(p, "", *v1, "").status().message(),
            "ciphertext or signature version is disallowed by policy (too old)");
  EXPECT_EQ(DecryptValue(p, "", "vault:v3:AAAA", "").status().message(), "invalid ciphertext: version is too new");
  EXPECT_EQ(DecryptValue(p, "", "vault:v2:!!", "").status().message(), "invalid ciphertext: could not decode base64");
  p.min_encryption_version = 2;
  EXPECT_EQ(*EncryptionVersion(p, 0), 2);
  EXPECT_FALSE(EncryptionVersion(p, 1).ok());
  EXPECT_FALSE(EncryptionVersion(p, 3).ok());
  EXPECT_FALSE(EncryptionVersion(p, -1).ok());
}

TEST(TransitStorage, PolicyRoundTripsAndRefusesDamage) {
  KeyPolicy p = NewKey(KeyType::kHmac);
  p.key_size = 64;
  p.versions.clear();
  p.latest_version = 0;
  p.Rotate(10);
  p.Rotate(20);
  p.exportable = true;
  SecureBytes enc = EncodePolicy(p);
  // No key byte appears in the settings text.
  EXPECT_EQ(enc.view().find(p.versions[1].key.view()), enc.view().rfind(p.versions[1].key.view()));
  auto back = DecodePolicy(enc.view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->latest_version, 2);
  EXPECT_TRUE(back->exportable);
  EXPECT_EQ(back->versions[2].created, 20);
  EXPECT_EQ(back->versions[1].key.size(), 64u);
  EXPECT_TRUE(back->versions[2].key.Equals(p.versions[2].key));
  EXPECT_TRUE(back->versions[2].hmac_key.Equals(p.versions[2].hmac_key));
  EXPECT_FALSE(DecodePolicy(enc.view().substr(0, enc.size() - 3)).ok());
  EXPECT_FALSE(DecodePolicy("garbage").ok());
}

// Known answers from OpenBao 2.7.2 (`bao server -dev`, keys made for this
// test): its ciphertext and HMAC open and verify here, and a convergent key
// reproduces its ciphertext byte for byte.
KeyPolicy OpenBaoKey(KeyType type, std::string_view key_b64, std::string_view hmac_b64, bool convergent) {
  KeyPolicy p;
  p.name = "kat";
  p.type = type;
  p.derived = p.convergent = convergent;
  p.latest_version = 1;
  p.versions[1].key = *DecodeStdBase64(key_b64);
  p.versions[1].hmac_key = *DecodeStdBase64(hmac_b64);
  return p;
}

TEST(TransitOpenBao, ConvergentCiphertextIsByteForByteOpenBaos) {
  KeyPolicy p = OpenBaoKey(KeyType::kAes128Gcm96, "MKEFnFSMuLeDodO9FiMs0A==",
                           "c1GCWh6DhVw9emhxudQRsjhHDqAupFHoY/68GUboDik=", true);
  const std::string bao = "vault:v1:IAc8VaNPn6yTGVrLTxMvTYjLNvTSp41WY98aFdsGGOEZ";
  EXPECT_EQ(*EncryptValue(p, 1, "ctx", "hello", ""), bao);
  EXPECT_EQ(DecryptValue(p, "ctx", bao, "")->plaintext.view(), "hello");
}

TEST(TransitOpenBao, CiphertextAndHmacOpenHere) {
  KeyPolicy p = OpenBaoKey(KeyType::kAes256Gcm96, "EqiD5cWRC7aMxQKtawY66DGx3k0sIFZ0n9zIha94a1E=",
                           "4/73l3kadB8pUroq4YnRTYwvKzBSWEPV2j5l0dsVBTA=", false);
  auto plain = DecryptValue(p, "", "vault:v1:Xc21Rgc/MvdxFZrswpWJJ2rvWM9pCFZHMZyMM5dgM1Aa", "aad");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->plaintext.view(), "hello");
  EXPECT_EQ(crypto::Base64Encode(Hmac(HashAlgo::kSha2_256, p.versions[1].hmac_key, "hello")),
            "0jVBPgdztixcozydcb+YdHgc+Cg2kJQ+w1B5A6+F72M=");
}

TEST(TransitOpenBao, RestoresItsBackupAndBacksUpRestorably) {
  const std::string backup =
    "eyJwb2xpY3kiOnsibmFtZSI6ImthdC1wbGFpbiIsImtleXMiOnsiMSI6eyJrZXkiOiJFcWlENWNXUkM3YU14UUt0YXdZNjZER3gz"
    "azBzSUZaMG45ekloYTk0YTFFPSIsImhtYWNfa2V5IjoiNC83M2wza2FkQjhwVXJvcTRZblJUWXd2S3pCU1dFUFYyajVsMGRzVkJU"
    "QT0iLCJ0aW1lIjoiMjAyNi0xMi0wN1QwNTowNTo0MC4wNjUwNzQwODFaIiwiZWNfeCI6bnVsbCwiZWNfeSI6bnVsbCwiZWNfZCI6"
    "bnVsbCwicnNhX2tleSI6bnVsbCwicnNhX3B1YmxpY19rZXkiOm51bGwsInB1YmxpY19rZXkiOiIiLCJjb252ZXJnZW50X3ZlcnNp"
    "b24iOjAsImNyZWF0aW9uX3RpbWUiOjE3OTY2MTk5NDAsImNlcnRpZmljYXRlX2NoYWluIjpudWxsLCJleHRlcm5hbF9rZXlfcmVm"
    "IjoiIn19LCJkZXJpdmVkIjpmYWxzZSwia2RmIjowLCJjb252ZXJnZW50X2VuY3J5cHRpb24iOmZhbHNlLCJleHBvcnRhYmxlIjp0"
    "cnVlLCJtaW5fZGVjcnlwdGlvbl92ZXJzaW9uIjoxLCJtaW5fZW5jcnlwdGlvbl92ZXJzaW9uIjowLCJsYXRlc3RfdmVyc2lvbiI6"
    "MSwiYXJjaGl2ZV92ZXJzaW9uIjoxLCJhcmNoaXZlX21pbl92ZXJzaW9uIjowLCJtaW5fYXZhaWxhYmxlX3ZlcnNpb24iOjAsImRl"
    "bGV0aW9uX2FsbG93ZWQiOmZhbHNlLCJjb252ZXJnZW50X3ZlcnNpb24iOjAsInR5cGUiOjAsImJhY2t1cF9pbmZvIjp7InRpbWUi"
    "OiIyMDI2LTEyLTA3VDA1OjA1OjUwLjk2NTY1NTUxNloiLCJ2ZXJzaW9uIjoxfSwicmVzdG9yZV9pbmZvIjpudWxsLCJhbGxvd19w"
    "bGFpbnRleHRfYmFja3VwIjp0cnVlLCJ2ZXJzaW9uX3RlbXBsYXRlIjoiIiwic3RvcmFnZV9wcmVmaXgiOiIiLCJhdXRvX3JvdGF0"
    "ZV9wZXJpb2QiOjAsIkltcG9ydGVkIjpmYWxzZSwiQWxsb3dJbXBvcnRlZEtleVJvdGF0aW9uIjpmYWxzZSwic29mdF9kZWxldGVk"
    "IjpmYWxzZX0sImFyY2hpdmVkX2tleXMiOnsia2V5cyI6W3sia2V5IjpudWxsLCJobWFjX2tleSI6bnVsbCwidGltZSI6IjAwMDEt"
    "MDEtMDFUMDA6MDA6MDBaIiwiZWNfeCI6bnVsbCwiZWNfeSI6bnVsbCwiZWNfZCI6bnVsbCwicnNhX2tleSI6bnVsbCwicnNhX3B1"
    "YmxpY19rZXkiOm51bGwsInB1YmxpY19rZXkiOiIiLCJjb252ZXJnZW50X3ZlcnNpb24iOjAsImNyZWF0aW9uX3RpbWUiOjAsImNl"
    "cnRpZmljYXRlX2NoYWluIjpudWxsLCJleHRlcm5hbF9rZXlfcmVmIjoiIn0seyJrZXkiOiJFcWlENWNXUkM3YU14UUt0YXdZNjZE"
    "R3gzazBzSUZaMG45ekloYTk0YTFFPSIsImhtYWNfa2V5IjoiNC83M2wza2FkQjhwVXJvcTRZblJUWXd2S3pCU1dFUFYyajVsMGRz"
    "VkJUQT0iLCJ0aW1lIjoiMjAyNi0xMi0wN1QwNTowNTo0MC4wNjUwNzQwODFaIiwiZWNfeCI6bnVsbCwiZWNfeSI6bnVsbCwiZWNf"
    "ZCI6bnVsbCwicnNhX2tleSI6bnVsbCwicnNhX3B1YmxpY19rZXkiOm51bGwsInB1YmxpY19rZXkiOiIiLCJjb252ZXJnZW50X3Zl"
    "cnNpb24iOjAsImNyZWF0aW9uX3RpbWUiOjE3OTY2MTk5NDAsImNlcnRpZmljYXRlX2NoYWluIjpudWxsLCJleHRlcm5hbF9rZXlf"
    "cmVmIjoiIn1dfX0K";
  auto p = RestorePolicy(backup, "");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "kat-plain");
  EXPECT_EQ(p->type, KeyType::kAes256Gcm96);
  EXPECT_TRUE(p->exportable && p->allow_plaintext_backup);
  EXPECT_EQ(DecryptValue(*p, "", "vault:v1:Xc21Rgc/MvdxFZrswpWJJ2rvWM9pCFZHMZyMM5dgM1Aa", "aad")->plaintext.view(),
            "hello");
  // Our backup of it restores to the same key under another name.
  auto again = RestorePolicy(*BackupPolicy(*p), "copy");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->name, "copy");
  EXPECT_TRUE(again->versions[1].key.Equals(p->versions[1].key));
  EXPECT_TRUE(again->versions[1].hmac_key.Equals(p->versions[1].hmac_key));
  EXPECT_EQ(again->versions[1].created, p->versions[1].created);
  EXPECT_EQ(RestorePolicy("e30=", "").status().message(), "invalid backup: not a key backup");
}

TEST(TransitBackup, RefusesHostileBackups) {
  auto restore = [](std::string_view json) { return RestorePolicy(crypto::Base64Encode(json), ""); };
  EXPECT_EQ(restore(R"({"policy":{"type":"x"}})").status().message(), "invalid backup: malformed policy");
  EXPECT_EQ(restore(R"({"policy":{"type":11,"latest_version":1}})").status().message(),
            "restoring this key type is not supported");
  EXPECT_EQ(restore(R"({"policy":{"type":0,"latest_version":1,"min_available_version":-5}})").status().message(),
            "invalid backup: inconsistent key versions");
  EXPECT_EQ(restore(R"({"policy":{"type":0,"latest_version":1,"keys":{"1":{"key":"AAAA","hmac_key":""}}}})")
                .status()
                .message(),
            "invalid backup: key of the wrong size");
  EXPECT_EQ(restore(R"({"policy":{"type":0,"latest_version":1,"keys":{"9":{"key":"AAAA","hmac_key":""}}}})")
                .status()
                .message(),
            "invalid backup: malformed key entry");
  EXPECT_EQ(restore(R"({"policy":{"type":0,"latest_version":1,"archive_min_version":"x","keys":{}},
                        "archived_keys":{"keys":[]}})")
                .status()
                .message(),
            "invalid backup: malformed policy");
}

// The backend over in-memory storage: keys survive a cache drop (seal).
TEST(TransitBackendTest, KeysPersistAcrossCleanup) {
  auto storage = NewInMemStorage();
  logical::BackendConfig cfg;
  cfg.storage = storage.get();
  cfg.type = "transit";
  auto made = Factory()(cfg);
  ASSERT_TRUE(made.ok());
  std::unique_ptr<logical::Backend> backend = std::move(*made);
  auto call = [&](logical::Operation op, const std::string& path, Json data) {
    logical::Request req;
    req.op = op;
    req.path = path;
    req.data = std::move(data);
    req.storage = storage.get();
    return backend->HandleRequest(req);
  };
  ASSERT_TRUE(call(logical::Operation::kUpdate, "keys/k", Json::object()).ok());
  auto ct = call(logical::Operation::kUpdate, "encrypt/k", Json{{"plaintext", "aGk="}});
  ASSERT_TRUE(ct.ok());
  backend->Cleanup();
  auto pt = call(logical::Operation::kUpdate, "decrypt/k", Json{{"ciphertext", (*ct->data)["ciphertext"]}});
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ((*pt->data)["plaintext"], "aGk=");
  auto bad = call(logical::Operation::kUpdate, "keys/bad name", Json::object());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sealbox::engines::transit
