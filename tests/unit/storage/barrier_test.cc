#include "storage/barrier.h"

#include <gtest/gtest.h>

#include "base/crypto.h"

namespace sealbox {
namespace {

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    physical_ = NewInMemStorage();
    barrier_ = std::make_unique<Barrier>(physical_.get());
    root_ = crypto::RandomBytes(32);
    ASSERT_TRUE(barrier_->Initialize(root_, 1).ok());
  }
  std::unique_ptr<Storage> physical_;
  std::unique_ptr<Barrier> barrier_;
  SecureBytes root_;
};

TEST_F(BarrierTest, RoundTripAndCiphertextAtRest) {
  ASSERT_TRUE(barrier_->Put("logical/a/secret", "hunter2-plaintext").ok());
  auto v = barrier_->Get("logical/a/secret");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "hunter2-plaintext");
  auto raw = physical_->Get("logical/a/secret");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->find("hunter2"), std::string::npos);
  // term 1, version 2
  EXPECT_EQ((**raw)[3], 1);
  EXPECT_EQ((**raw)[4], 2);
  EXPECT_EQ((*raw)->size(), 5 + 12 + 17 + 16u);
}

TEST_F(BarrierTest, MissingKeyIsNullopt) {
  auto v = barrier_->Get("nope");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST_F(BarrierTest, TamperedCiphertextFails) {
  ASSERT_TRUE(barrier_->Put("k", "value").ok());
  auto raw = physical_->Get("k");
  std::string bad = **raw;
  bad[bad.size() - 1] ^= 0x01;
  ASSERT_TRUE(physical_->Put("k", bad).ok());
  auto v = barrier_->Get("k");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kCorruption);
}

TEST_F(BarrierTest, SwappedPathFails) {
  ASSERT_TRUE(barrier_->Put("a", "value-a").ok());
  ASSERT_TRUE(barrier_->Put("b", "value-b").ok());
  auto raw_a = physical_->Get("a");
  ASSERT_TRUE(physical_->Put("b", **raw_a).ok());
  auto v = barrier_->Get("b");
  EXPECT_FALSE(v.ok());
}

TEST_F(BarrierTest, RotationKeepsOldEntriesReadable) {
  ASSERT_TRUE(barrier_->Put("old", "v1").ok());
  ASSERT_TRUE(barrier_->Rotate(2).ok());
  EXPECT_EQ(barrier_->ActiveKeyStatus().term, 2u);
  ASSERT_TRUE(barrier_->Put("new", "v2").ok());
  EXPECT_EQ((**physical_->Get("new"))[3], 2);
  EXPECT_EQ(**barrier_->Get("old"), "v1");
  // Still readable after seal + unseal (keyring persisted with both terms).
  barrier_->Seal();
  ASSERT_TRUE(barrier_->Unseal(root_).ok());
  EXPECT_EQ(**barrier_->Get("old"), "v1");
  EXPECT_EQ(**barrier_->Get("new"), "v2");
}

TEST_F(BarrierTest, SealedRefusesEverything) {
  barrier_->Seal();
  EXPECT_TRUE(barrier_->Sealed());
  EXPECT_EQ(barrier_->Get("k").status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Put("k", "v").code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->List("").status().code(), StatusCode::kSealed);
  EXPECT_EQ(barrier_->Batch({WriteOp::Put("k", "v")}).code(), StatusCode::kSealed);
}

TEST_F(BarrierTest, WrongRootKeyRefused) {
  barrier_->Seal();
  SecureBytes wrong = crypto::RandomBytes(32);
  Status s = barrier_->Unseal(wrong);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(barrier_->Sealed());
  EXPECT_TRUE(barrier_->Unseal(root_).ok());
  EXPECT_FALSE(barrier_->Sealed());
}

TEST_F(BarrierTest, DoubleInitializeRefused) {
  Barrier second(physical_.get());
  EXPECT_FALSE(second.Initialize(crypto::RandomBytes(32), 1).ok());
}

TEST_F(BarrierTest, BatchIsEncrypted) {
  ASSERT_TRUE(barrier_->Batch({WriteOp::Put("x/1", "one"), WriteOp::Put("x/2", "two")}).ok());
  EXPECT_EQ(**barrier_->Get("x/2"), "two");
  EXPECT_EQ((**physical_->Get("x/1")).find("one"), std::string::npos);
  auto keys = barrier_->List("x/");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"1", "2"}));
}

TEST(PrefixViewTest, IsolatesPrefixes) {
  auto phys = NewInMemStorage();
  PrefixView a(phys.get(), "logical/aaa/"), b(phys.get(), "logical/bbb/");
  ASSERT_TRUE(a.Put("k", "A").ok());
  ASSERT_TRUE(b.Put("k", "B").ok());
  EXPECT_EQ(**a.Get("k"), "A");
  EXPECT_EQ(**b.Get("k"), "B");
  EXPECT_EQ(*a.List(""), std::vector<std::string>{"k"});
  ASSERT_TRUE(a.Delete("k").ok());
  EXPECT_FALSE(a.Get("k")->has_value());
  EXPECT_EQ(**b.Get("k"), "B");
}

}  // namespace
}  // namespace sealbox
