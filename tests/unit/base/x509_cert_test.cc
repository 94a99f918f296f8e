#include "base/x509_cert.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

namespace sealbox {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert Parse(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert c(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  return c;
}

// Verifies `leaf` against `anchor` alone, for `purpose`.
bool Verifies(X509* leaf, X509* anchor, int purpose, unsigned long flags = 0) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, anchor);
  X509_STORE_set_flags(store, flags);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST(X509CertTest, CaSignsALeafThatVerifiesAgainstItOnly) {
  auto ca = IssueCert({.organization = "Test", .common_name = "Test CA", .ca = true}, nullptr);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  auto leaf = IssueCert({.common_name = "localhost", .ext_key_usage = "serverAuth",
                         .subject_alt_name = "DNS:localhost,IP:127.0.0.1"},
                        &*ca);
  ASSERT_TRUE(leaf.ok()) << leaf.status().message();
  EXPECT_NE(leaf->key_pem.view().find("BEGIN PRIVATE KEY"), std::string_view::npos);
  Cert c = Parse(ca->cert_pem), l = Parse(leaf->cert_pem);
  ASSERT_TRUE(c && l);
  EXPECT_TRUE(Verifies(l.get(), c.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_EQ(X509_check_host(l.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(l.get(), "example.com", 0, 0, nullptr), 1);
  auto other = IssueCert({.common_name = "Other CA", .ca = true}, nullptr);
  ASSERT_TRUE(other.ok());
  Cert o = Parse(other->cert_pem);
  EXPECT_FALSE(Verifies(l.get(), o.get(), X509_PURPOSE_SSL_SERVER));
}

TEST(X509CertTest, SelfSignedClusterCertificateServesBothEnds) {
  auto p = IssueCert({.common_name = "sealbox-cluster", .key_usage = "critical,digitalSignature",
                      .ext_key_usage = "serverAuth,clientAuth", .subject_alt_name = "DNS:sealbox-cluster"},
                     nullptr);
  ASSERT_TRUE(p.ok()) << p.status().message();
  Cert c = Parse(p->cert_pem);
  ASSERT_TRUE(c);
  EXPECT_TRUE(Verifies(c.get(), c.get(), X509_PURPOSE_SSL_SERVER, X509_V_FLAG_PARTIAL_CHAIN));
  EXPECT_TRUE(Verifies(c.get(), c.get(), X509_PURPOSE_SSL_CLIENT, X509_V_FLAG_PARTIAL_CHAIN));
  EXPECT_EQ(X509_check_host(c.get(), "sealbox-cluster", 0, 0, nullptr), 1);
  // Two calls, two different keys.
  auto q = IssueCert({.common_name = "sealbox-cluster"}, nullptr);
  ASSERT_TRUE(q.ok());
  EXPECT_NE(p->key_pem.view(), q->key_pem.view());
}

TEST(X509CertTest, AnIssuerThatIsNotPemIsRefused) {
  PemKeyPair bad{.cert_pem = "not a certificate", .key_pem = SecureBytes(std::string_view("nor a key"))};
  auto r = IssueCert({.common_name = "x"}, &bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("nor a key"), std::string::npos);
}

}  // namespace
}  // namespace sealbox
