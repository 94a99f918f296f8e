// Unit tests of the Transit backend's routes, driven with logical::Request
// over in-memory storage: answers, batch semantics and Vault's error words
// (the same requests run against the real binary and OpenBao in
// tests/e2e/test_transit.py).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "engines/transit/register.h"
#include "engines/transit/transit_backend.h"
#include "storage/storage.h"

namespace sealbox::engines::transit {
namespace {

using logical::Operation;

std::string B64(std::string_view s) { return crypto::Base64Encode(s); }

class TransitRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = NewInMemStorage();
    logical::BackendConfig cfg;
    cfg.storage = storage_.get();
    cfg.type = "transit";
    auto made = Factory()(cfg);
    ASSERT_TRUE(made.ok());
    backend_ = std::move(*made);
  }

  Result<logical::Response> Call(Operation op, const std::string& path, Json data = Json::object()) {
    logical::Request req;
    req.op = op;
    req.path = path;
    req.data = std::move(data);
    req.storage = storage_.get();
    return backend_->HandleRequest(req);
  }
  // The data of a successful update.
  Json Ok(const std::string& path, Json data = Json::object()) {
    auto r = Call(Operation::kUpdate, path, std::move(data));
    EXPECT_TRUE(r.ok()) << path << ": " << r.status().message();
    return r.ok() && r->data ? *r->data : Json();
  }
  // The error message of a refused update (empty if it succeeded).
  std::string Refused(const std::string& path, Json data = Json::object(), Operation op = Operation::kUpdate) {
    auto r = Call(op, path, std::move(data));
    return r.ok() ? "" : r.status().message();
  }

  std::unique_ptr<Storage> storage_;
  std::unique_ptr<logical::Backend> backend_;
};

TEST_F(TransitRoutes, KeyLifecycle) {
  Json created = Ok("keys/k");
  EXPECT_EQ(created["type"], "aes256-gcm96");
  EXPECT_EQ(created["keys"].size(), 1u);
  Ok("keys/k/rotate");
  EXPECT_EQ(Ok("keys/k/rotate")["latest_version"], 3);
  Json configured = Ok("keys/k/config", {{"min_decryption_version", 2}, {"min_encryption_version", 3}});
  EXPECT_EQ(configured["keys"].size(), 2u);
  EXPECT_EQ(Ok("keys/k/trim", {{"min_available_version", 2}})["min_available_version"], 2);
  EXPECT_EQ(Refused("keys/k", {}, Operation::kDelete), "error deleting policy k: deletion is not allowed for this key");
  Ok("keys/k/config", {{"deletion_allowed", true}});
  EXPECT_EQ(Refused("keys/k", {}, Operation::kDelete), "");
  auto gone = Call(Operation::kRead, "keys/k");
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->IsEmpty());
}

// auto_rotate_period: a key rotates once the period has passed since its
// latest version, on the clock the backend is given; the setting persists.
TEST(TransitAutoRotation, RotatesWhenThePeriodHasPassed) {
  auto storage = NewInMemStorage();
  FakeClock clock;
  logical::BackendConfig cfg;
  cfg.storage = storage.get();
  cfg.type = "transit";
  cfg.clock = &clock;
  auto backend = std::make_unique<TransitBackend>(cfg);
  auto call = [&](Operation op, const std::string& path, Json data = Json::object()) {
    logical::Request req;
    req.op = op;
    req.path = path;
    req.data = std::move(data);
    req.storage = storage.get();
    auto r = backend->HandleRequest(req);
    EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.status().message());
    return r.ok() && r->data ? *r->data : Json();
  };
  auto latest = [&](const std::string& name) { return call(Operation::kRead, "keys/" + name)["latest_version"]; };
  call(Operation::kUpdate, "keys/auto", {{"auto_rotate_period", "1h"}});
  call(Operation::kUpdate, "keys/manual");
  EXPECT_EQ(call(Operation::kRead, "keys/auto")["auto_rotate_period"], 3600);

  clock.AdvanceSeconds(3599);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(latest("auto"), 1);
  clock.AdvanceSeconds(1);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(latest("auto"), 2);
  EXPECT_EQ(latest("manual"), 1);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(latest("auto"), 2) << "rotated again before a new period passed";

  // The setting survives a new backend over the same storage (an unseal).
  backend = std::make_unique<TransitBackend>(cfg);
  clock.AdvanceSeconds(3600);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(latest("auto"), 3);

  call(Operation::kUpdate, "keys/auto/config", {{"auto_rotate_period", 0}});
  clock.AdvanceSeconds(7200);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(latest("auto"), 3);

  // The import wrapping key lists as "import/" (as Vault's) and never rotates.
  std::string pem = call(Operation::kRead, "wrapping_key")["public_key"];
  EXPECT_EQ(call(Operation::kList, "keys")["keys"], (Json{"auto", "import/", "manual"}));
  clock.AdvanceSeconds(400 * 86400);
  ASSERT_TRUE(backend->RotateDueKeys().ok());
  EXPECT_EQ(call(Operation::kRead, "wrapping_key")["public_key"], pem);
}

TEST_F(TransitRoutes, KeyRefusals) {
  EXPECT_EQ(Refused("keys/r", {{"type", "bogus"}}), "unknown key type bogus");
  EXPECT_EQ(Refused("keys/r", {{"convergent_encryption", true}}),
            "convergent encryption requires derivation to be enabled");
  EXPECT_EQ(Refused("keys/r", {{"type", "hmac"}, {"key_size", 600}}),
            "invalid key size for HMAC key, must be between 32 and 512 bytes");
  EXPECT_EQ(Refused("keys/r", {{"type", "hmac"}, {"derived", true}}),
            "key derivation and convergent encryption not supported for keys of type hmac");
  EXPECT_EQ(Refused("keys/r", {{"auto_rotate_period", "10m"}}),
            "auto rotate period must be 0 to disable or at least an hour");
  Ok("keys/r");
  EXPECT_EQ(Refused("keys/r/config", {{"auto_rotate_period", "59m"}}),
            "auto rotate period must be 0 to disable or at least an hour");
  EXPECT_EQ(Refused("keys/r/config", {{"min_decryption_version", 2}}),
            "cannot set min decryption version of 2, latest key version is 1");
  EXPECT_EQ(Refused("keys/r/config", {{"min_decryption_version", -1}}), "min decryption version cannot be negative");
  EXPECT_EQ(Refused("keys/r/trim", {{"min_available_version", 1}}),
            "minimum available version cannot be set when minimum encryption version is not set");
  EXPECT_EQ(Refused("keys/none/rotate"), "key not found");
  EXPECT_EQ(Refused("keys/none/config"), "no existing key named none could be found");
}

TEST_F(TransitRoutes, BatchEncryptFailsTheRequestButAnswersEveryItem) {
  auto r = Call(Operation::kUpdate, "encrypt/b",
                {{"batch_input", {{{"plaintext", B64("a")}, {"reference", "one"}}, {{"plaintext", "!!"}}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->http_status, 400);
  const Json& items = (*r->data)["batch_results"];
  EXPECT_EQ(items[0]["reference"], "one");
  EXPECT_EQ(items[0]["key_version"], 1);
  EXPECT_EQ(items[1]["error"], "illegal base64 data at input byte 0");
  Json back = Ok("decrypt/b", {{"batch_input", {{{"ciphertext", items[0]["ciphertext"]}}, {{"ciphertext", "x"}}}}});
  EXPECT_EQ(back["batch_results"][0]["plaintext"], B64("a"));
  // Rewrap reports item errors with a 200, as Vault does.
  auto rewrap = Call(Operation::kUpdate, "rewrap/b", {{"batch_input", {{{"ciphertext", "junk"}}}}});
  ASSERT_TRUE(rewrap.ok());
  EXPECT_EQ(rewrap->http_status, 0);
  EXPECT_EQ((*rewrap->data)["batch_results"][0]["error"], "invalid ciphertext: no prefix");
  EXPECT_EQ(Refused("encrypt/b", {{"batch_input", Json::array()}}), "missing batch input to process");
  EXPECT_EQ(Refused("encrypt/b", {{"batch_input", {{{"plaintext", B64("a")}, {"context", B64("c")}},
                                                   {{"plaintext", B64("b")}}}}}),
            "context should be set either in all the request blocks or in none");
}

TEST_F(TransitRoutes, EncryptCreatesItsKeyOnce) {
  Ok("encrypt/up", {{"plaintext", B64("x")}, {"type", "aes128-gcm96"}, {"context", B64("c")}});
  auto key = Call(Operation::kRead, "keys/up");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key->data)["type"], "aes128-gcm96");
  EXPECT_EQ((*key->data)["derived"], true);
  EXPECT_EQ(Refused("encrypt/up2", {{"plaintext", B64("x")}, {"type", "hmac"}}), "unknown key type hmac");
  EXPECT_EQ(Refused("decrypt/nokey", {{"ciphertext", "vault:v1:AAAA"}}), "encryption key not found");
}

TEST_F(TransitRoutes, DataKeysHmacsAndVerification) {
  Ok("keys/m");
  Json dk = Ok("datakey/plaintext/m", {{"bits", 512}});
  EXPECT_EQ(crypto::Base64Decode(dk["plaintext"].get<std::string>())->size(), 64u);
  EXPECT_EQ(Ok("decrypt/m", {{"ciphertext", dk["ciphertext"]}})["plaintext"], dk["plaintext"]);
  EXPECT_FALSE(Ok("datakey/wrapped/m").contains("plaintext"));
  EXPECT_EQ(Refused("datakey/wrapped/m", {{"bits", 64}}), "invalid bit length");

  std::string mac = Ok("hmac/m/sha2-384", {{"input", B64("in")}})["hmac"];
  EXPECT_EQ(Ok("verify/m/sha2-384", {{"input", B64("in")}, {"hmac", mac}})["valid"], true);
  EXPECT_EQ(Ok("verify/m", {{"input", B64("in")}, {"hmac", mac}, {"hash_algorithm", "sha2-384"}})["valid"], true);
  EXPECT_EQ(Ok("verify/m", {{"input", B64("in")}, {"hmac", mac}})["valid"], false);  // sha2-256 by default
  EXPECT_EQ(Refused("verify/m", {{"input", B64("in")}, {"hmac", "vault:v7:AAAA"}}), "invalid HMAC: version is too new");
  EXPECT_EQ(Refused("hmac/m", {{"input", B64("in")}, {"key_version", 4}}),
            "key version does not exist; latest key version is 1");
  EXPECT_EQ(Refused("hmac/m/md5", {{"input", B64("in")}}), "unsupported algorithm md5");
}

TEST_F(TransitRoutes, HashRandomAndExport) {
  EXPECT_EQ(Ok("hash/sha2-256", {{"input", B64("hello world")}})["sum"],
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_EQ(Ok("random/12", {{"format", "hex"}})["random_bytes"].get<std::string>().size(), 24u);
  EXPECT_EQ(Refused("random/x"), "error parsing url-set byte count: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(Refused("random", {{"bytes", 0}}), "'bytes' cannot be less than 1");
  Ok("keys/e", {{"exportable", true}});
  Ok("keys/n");
  auto exported = Call(Operation::kRead, "export/encryption-key/e/1");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(crypto::Base64Decode((*exported->data)["keys"]["1"].get<std::string>())->size(), 32u);
  EXPECT_EQ(Refused("export/encryption-key/n", {}, Operation::kRead), "private key material is not exportable");
  EXPECT_EQ(Refused("backup/e", {}, Operation::kRead), "plaintext backup is disallowed on the policy");
}

// Checks a "vault:v1:" signature with OpenSSL's one-shot DigestVerify over the
// PEM public key the key read shows: an independent path from the engine's.
bool OpenSslVerifies(const std::string& pem, const std::string& type, std::string_view msg, std::string_view sig,
                     bool pss) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, type == "ed25519" ? nullptr : EVP_sha256(), nullptr, key) == 1;
  if (ok && pss) ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

TEST_F(TransitRoutes, SignaturesVerifyHereAndWithOpenSsl) {
  for (std::string type : {"ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"}) {
    Json key = Ok("keys/s-" + type, {{"type", type}});
    EXPECT_EQ(key["supports_signing"], true);
    EXPECT_EQ(key["supports_encryption"], type == "rsa-2048");
    EXPECT_EQ(key["supports_derivation"], type == "ed25519");
    const std::string pub = key["keys"]["1"]["public_key"];
    std::string sig = Ok("sign/s-" + type, {{"input", B64("message")}})["signature"];
    ASSERT_EQ(sig.rfind("vault:v1:", 0), 0u) << type;
    EXPECT_EQ(Ok("verify/s-" + type, {{"input", B64("message")}, {"signature", sig}})["valid"], true) << type;
    EXPECT_EQ(Ok("verify/s-" + type, {{"input", B64("other")}, {"signature", sig}})["valid"], false) << type;
    if (type == "ed25519") {
      EXPECT_EQ(crypto::Base64Decode(pub)->size(), 32u);
      continue;
    }
    std::string raw(crypto::Base64Decode(sig.substr(9))->view());
    EXPECT_TRUE(OpenSslVerifies(pub, type, "message", raw, type == "rsa-2048")) << type;
  }
  Json jws = Ok("sign/s-ecdsa-p256", {{"input", B64("m")}, {"marshaling_algorithm", "jws"}});
  EXPECT_EQ(crypto::Base64UrlDecode(jws["signature"].get<std::string>().substr(9))->size(), 64u);
  EXPECT_EQ(Ok("verify/s-ecdsa-p256", {{"input", B64("m")}, {"signature", jws["signature"]},
                                        {"marshaling_algorithm", "jws"}})["valid"],
            true);
  std::string pkcs = Ok("sign/s-rsa-2048/sha2-512", {{"input", B64("m")}, {"signature_algorithm", "pkcs1v15"}})["signature"];
  EXPECT_EQ(Ok("verify/s-rsa-2048/sha2-512", {{"input", B64("m")}, {"signature", pkcs},
                                              {"signature_algorithm", "pkcs1v15"}})["valid"],
            true);
  std::string digest = crypto::Sha256("m");
  std::string pre = Ok("sign/s-ecdsa-p256", {{"input", B64(digest)}, {"prehashed", true}})["signature"];
  EXPECT_EQ(Ok("verify/s-ecdsa-p256", {{"input", B64("m")}, {"signature", pre}})["valid"], true);
}

TEST_F(TransitRoutes, SignatureRefusals) {
  Ok("keys/ec", {{"type", "ecdsa-p256"}});
  Ok("keys/aes");
  EXPECT_EQ(Refused("sign/aes", {{"input", B64("m")}}), "key type aes256-gcm96 does not support signing");
  EXPECT_EQ(Refused("sign/none", {{"input", B64("m")}}), "signing key not found");
  EXPECT_EQ(Refused("sign/ec", {{"input", B64("m")}, {"marshaling_algorithm", "x"}}), "invalid marshaling type \"x\"");
  EXPECT_EQ(Refused("sign/ec", {{"input", B64("m")}, {"hash_algorithm", "md5"}}), "invalid hash algorithm \"md5\"");
  EXPECT_EQ(Refused("sign/ec", {{"input", "!!"}}), "unable to decode input as base64: illegal base64 data at input byte 0");
  EXPECT_EQ(Refused("verify/ec", {{"input", B64("m")}, {"signature", "vault:v1:AAAA"}}), "supplied signature is invalid");
  EXPECT_EQ(Refused("verify/ec", {{"input", B64("m")}, {"signature", "vault:v1:!!"}}), "invalid base64 signature value");
  EXPECT_EQ(Refused("verify/ec", {{"input", B64("m")}, {"signature", "junk"}}), "invalid signature: no prefix");
  Json batch = Ok("verify/ec", {{"batch_input", {{{"input", B64("m")}, {"signature", "junk"}}}}});
  EXPECT_EQ(batch["batch_results"][0], (Json{{"valid", false}, {"error", "invalid signature: no prefix"}, {"reference", ""}}));
  EXPECT_EQ(Refused("keys/ec2", {{"type", "rsa-2048"}, {"derived", true}}),
            "key derivation and convergent encryption not supported for keys of type rsa-2048");
  EXPECT_EQ(Refused("keys/ec2", {{"type", "ed25519"}, {"derived", true}, {"convergent_encryption", true}}),
            "convergent encryption not supported for keys of type ed25519");
  auto pub = Call(Operation::kRead, "export/public-key/ec");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ((*pub->data)["keys"]["1"].get<std::string>().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  EXPECT_EQ(Refused("export/signing-key/ec", {}, Operation::kRead), "private key material is not exportable");
}

}  // namespace
}  // namespace sealbox::engines::transit
