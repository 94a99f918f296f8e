// WriteGate: a closed gate refuses every kind of write with NotActive before
// the store sees it, and passes reads; opened again, writes go through.
#include "storage/write_gate.h"

#include <gtest/gtest.h>

#include "storage/storage.h"

namespace sealbox {
namespace {

TEST(WriteGateTest, ClosedRefusesEveryWriteAndPassesReads) {
  auto mem = NewInMemStorage();
  ASSERT_TRUE(mem->Put("a", "1").ok());
  WriteGate gate(mem.get());
  gate.SetOpen(false);
  EXPECT_EQ(gate.Put("a", "2").code(), StatusCode::kNotActive);
  EXPECT_EQ(gate.Delete("a").code(), StatusCode::kNotActive);
  EXPECT_EQ(gate.Batch({WriteOp::Put("b", "1")}).code(), StatusCode::kNotActive);
  EXPECT_EQ(gate.ReplaceAll({{"c", "1"}}).code(), StatusCode::kNotActive);
  EXPECT_EQ(gate.FinishInterruptedReplace().code(), StatusCode::kNotActive);
  auto a = gate.Get("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, "1");  // nothing reached the store
  auto keys = gate.List("");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, std::vector<std::string>{"a"});

  gate.SetOpen(true);
  ASSERT_TRUE(gate.Put("a", "3").ok());
  ASSERT_TRUE(gate.Batch({WriteOp::Put("b", "1")}).ok());
  EXPECT_EQ(**mem->Get("a"), "3");
  EXPECT_TRUE(mem->Get("b")->has_value());
}

}  // namespace
}  // namespace sealbox
