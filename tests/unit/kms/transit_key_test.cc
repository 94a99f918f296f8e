// The plugin's Transit calls against a scripted HTTP client: what is sent,
// how replies and refusals become values, and the key_id it derives.
#include "kms/transit_key.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "base/crypto.h"
#include "base/http_client.h"

namespace sealbox::kms {
namespace {

class ScriptedClient : public HttpClient {
 public:
  Result<HttpClientResponse> Do(const HttpClientRequest& req) override {
    sent.push_back(req);
    if (replies.empty()) return Unavailable("connection refused");
    HttpClientResponse r = replies.front();
    replies.pop_front();
    return r;
  }
  void Reply(int status, const std::string& body) { replies.push_back({status, {}, body}); }
  std::deque<HttpClientResponse> replies;
  std::vector<HttpClientRequest> sent;
};

class TransitKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<ScriptedClient>();
    cli::SetClient(client_);
    cli::Connection c;
    c.addr = "https://sealbox:8200";
    c.token = "s.plugin";
    session_ = std::make_unique<Session>(c);
    key_ = std::make_unique<TransitKey>(session_.get(), "transit", "k8s");
  }
  void TearDown() override { cli::SetClient(nullptr); }

  std::shared_ptr<ScriptedClient> client_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<TransitKey> key_;
};

TEST_F(TransitKeyTest, EncryptSendsBase64AndReturnsTheCiphertext) {
  client_->Reply(200, R"({"data":{"ciphertext":"vault:v3:abcd"}})");
  auto ct = key_->Encrypt("dek-bytes");
  ASSERT_TRUE(ct.ok()) << ct.status().message();
  EXPECT_EQ(*ct, "vault:v3:abcd");
  ASSERT_EQ(client_->sent.size(), 1u);
  EXPECT_EQ(client_->sent[0].url, "https://sealbox:8200/v1/transit/encrypt/k8s");
  EXPECT_EQ(Json::parse(client_->sent[0].body)["plaintext"], crypto::Base64Encode("dek-bytes"));
  bool token_sent = false;
  for (const auto& [k, v] : client_->sent[0].headers) token_sent |= k == "X-Vault-Token" && v == "s.plugin";
  EXPECT_TRUE(token_sent);
}

TEST_F(TransitKeyTest, DecryptReturnsThePlaintextBytes) {
  client_->Reply(200, R"({"data":{"plaintext":")" + crypto::Base64Encode("dek-bytes") + R"("}})");
  auto pt = key_->Decrypt("vault:v1:xyz");
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pt->data()), pt->size()), "dek-bytes");
  EXPECT_EQ(Json::parse(client_->sent[0].body)["ciphertext"], "vault:v1:xyz");
}

TEST_F(TransitKeyTest, SealedUnreachableAndRefusedAreErrors) {
  client_->Reply(503, R"({"errors":["Vault is sealed"]})");
  EXPECT_EQ(key_->Encrypt("x").status().code(), StatusCode::kSealed);
  EXPECT_EQ(key_->Encrypt("x").status().code(), StatusCode::kUnavailable);  // no reply scripted: refused
  client_->Reply(403, R"({"errors":["permission denied"]})");
  EXPECT_EQ(key_->LatestVersion().status().code(), StatusCode::kPermissionDenied);
  client_->Reply(200, R"({"data":{"ciphertext":"not-transit"}})");
  EXPECT_FALSE(key_->Encrypt("x").ok());
}

TEST_F(TransitKeyTest, LatestVersionNeedsAKeyThatEncryptsAndDecrypts) {
  client_->Reply(200, R"({"data":{"latest_version":4,"supports_encryption":true,"supports_decryption":true}})");
  EXPECT_EQ(*key_->LatestVersion(), 4);
  client_->Reply(200, R"({"data":{"latest_version":1,"type":"ed25519","supports_encryption":false}})");
  EXPECT_EQ(key_->LatestVersion().status().code(), StatusCode::kInvalidArgument);
}

TEST(TransitKeyId, NamesMountKeyAndVersion) {
  Session s{cli::Connection{}};
  EXPECT_EQ(TransitKey(&s, "kms/transit", "k8s").KeyId(7), "sealbox:kms/transit/k8s:v7");
}

TEST(TransitVersionOf, ParsesOnlyTransitCiphertext) {
  EXPECT_EQ(TransitKey::VersionOf("vault:v12:AAAA"), 12);
  EXPECT_EQ(TransitKey::VersionOf("vault:v0:AAAA"), std::nullopt);
  EXPECT_EQ(TransitKey::VersionOf("vault:v12"), std::nullopt);
  EXPECT_EQ(TransitKey::VersionOf("vault:vx:AAAA"), std::nullopt);
  EXPECT_EQ(TransitKey::VersionOf("k8s:enc:kms:v2:"), std::nullopt);
}

}  // namespace
}  // namespace sealbox::kms
