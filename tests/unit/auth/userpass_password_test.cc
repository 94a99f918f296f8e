// userpass password hashing: Argon2id PHC strings, salted, verified only by
// the right password, bounded input.
#include <gtest/gtest.h>

#include "auth/userpass/password_hash.h"

namespace sealbox::auth::userpass {
namespace {

TEST(UserpassPassword, HashIsArgon2idWithTheParametersInline) {
  auto h = HashPassword("correct horse");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *h;
  EXPECT_EQ(h->find("correct horse"), std::string::npos);
}

TEST(UserpassPassword, SaltsDiffer) {
  auto a = HashPassword("same");
  auto b = HashPassword("same");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(UserpassPassword, OnlyTheRightPasswordVerifies) {
  auto h = HashPassword("pa55-word");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(VerifyPassword(*h, "pa55-word"));
  EXPECT_FALSE(VerifyPassword(*h, "pa55-Word"));
  EXPECT_FALSE(VerifyPassword(*h, ""));
  EXPECT_FALSE(VerifyPassword(*h, std::string("pa55-word\0", 10)));
}

TEST(UserpassPassword, MalformedHashesAndOversizePasswordsNeverVerify) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA", "x"));
  EXPECT_FALSE(VerifyPassword("plaintext", "plaintext"));
  const std::string huge(kMaxPasswordBytes + 1, 'a');
  EXPECT_FALSE(HashPassword(huge).ok());
  auto h = HashPassword("a");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(VerifyPassword(*h, huge));
}

}  // namespace
}  // namespace sealbox::auth::userpass
