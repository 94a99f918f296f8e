#include "etcd/etcd_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace sealbox::etcd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EtcdEndpoints, SchemesPortsAndDefaults) {
  auto e = ParseEndpoints(" http://127.0.0.1:2379, https://etcd-1:2379/ ,10.0.0.3:2379", false);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].target, "127.0.0.1:2379");
  EXPECT_FALSE((*e)[0].tls);
  EXPECT_EQ((*e)[1].target, "etcd-1:2379");
  EXPECT_TRUE((*e)[1].tls);
  EXPECT_FALSE((*e)[2].tls);
  // No scheme: TLS when TLS files are configured.
  EXPECT_TRUE((*ParseEndpoints("[::1]:2379", true))[0].tls);
  EXPECT_EQ((*ParseEndpoints("[::1]:2379", true))[0].target, "[::1]:2379");
}

TEST(EtcdEndpoints, RefusesWhatCannotBeDialled) {
  EXPECT_THAT(ParseEndpoints("", false).status().message(), HasSubstr("no endpoint"));
  EXPECT_THAT(ParseEndpoints(" , ", false).status().message(), HasSubstr("no endpoint"));
  EXPECT_THAT(ParseEndpoints("unix://x:1", false).status().message(), HasSubstr("scheme"));
  EXPECT_THAT(ParseEndpoints("http://host", false).status().message(), HasSubstr("host:port"));
  EXPECT_THAT(ParseEndpoints("http://host:", false).status().message(), HasSubstr("host:port"));
  EXPECT_THAT(ParseEndpoints("host:23x9", false).status().message(), HasSubstr("bad port"));
  EXPECT_THAT(ParseEndpoints("http://host:2379/v3", false).status().message(), HasSubstr("host:port"));
}

TEST(EtcdKeys, PathPrefixAlwaysEndsInSlash) {
  EXPECT_EQ(Keyspace("").prefix(), "/vault/");
  EXPECT_EQ(Keyspace("/sealbox").prefix(), "/sealbox/");
  Keyspace ks("/vault/");
  EXPECT_EQ(ks.ToEtcd("core/keyring"), "/vault/core/keyring");
  EXPECT_EQ(ks.FromEtcd("/vault/core/keyring"), "core/keyring");
}

TEST(EtcdKeys, PrefixEndIsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(PrefixEnd("/vault/"), "/vault0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff")), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdList, ChildrenFoldAndPagesSkipSubFolders) {
  EXPECT_EQ(ChildOf("leaf"), "leaf");
  EXPECT_EQ(ChildOf("dir/x/y"), "dir/");
  // The page ended inside "/v/a/dir/": the next starts past all of it.
  EXPECT_EQ(NextListStart("/v/a/", "/v/a/dir/x/y"), "/v/a/dir0");
  EXPECT_EQ(NextListStart("/v/a/", "/v/a/leaf"), std::string("/v/a/leaf") + '\0');
  EXPECT_GT(NextListStart("/v/a/", "/v/a/dir/x"), "/v/a/dir/zzzz");
  EXPECT_LT(NextListStart("/v/a/", "/v/a/dir/x"), "/v/a/dir_");
}

WriteOp Put(std::string k, size_t bytes = 1) { return WriteOp::Put(std::move(k), std::string(bytes, 'v')); }
WriteOp Del(std::string k) { return WriteOp::Delete(std::move(k)); }

std::vector<std::string> Keys(const std::vector<WriteOp>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) out.push_back(op.key);
  return out;
}

TEST(EtcdBatch, WithinLimitsIsOneTransaction) {
  auto txns = PlanBatch({Put("a"), Del("b"), Put("c")}, {128, 1 << 20});
  ASSERT_TRUE(txns.ok());
  ASSERT_EQ(txns->size(), 1u);
  EXPECT_THAT(Keys((*txns)[0]), ElementsAre("a", "b", "c"));
  EXPECT_TRUE(PlanBatch({}, {128, 1 << 20})->empty());
}

TEST(EtcdBatch, WritesToOneKeyCollapseToTheLast) {
  auto txns = PlanBatch({Put("t", 1), Del("x"), Del("t"), Put("t", 5)}, {128, 1 << 20});
  ASSERT_TRUE(txns.ok());
  ASSERT_EQ(txns->size(), 1u);
  ASSERT_THAT(Keys((*txns)[0]), ElementsAre("x", "t"));
  EXPECT_EQ((*txns)[0][1].kind, WriteOp::Kind::kPut);
  EXPECT_EQ((*txns)[0][1].value.size(), 5u);
}

TEST(EtcdBatch, ManyDeletesSplitInOrderWithinTheOpLimit) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 300; ++i) ops.push_back(Del("k" + std::to_string(1000 + i)));
  auto txns = PlanBatch(ops, {128, 1 << 20});
  ASSERT_TRUE(txns.ok());
  std::vector<std::string> all;
  for (const auto& t : *txns) {
    EXPECT_LE(t.size(), 128u);
    for (const auto& k : Keys(t)) all.push_back(k);
  }
  EXPECT_EQ(txns->size(), 3u);
  ASSERT_EQ(all.size(), 300u);
  // The last delete (a KV key's metadata after its versions) commits last.
  EXPECT_EQ(txns->back().back().key, "k1299");
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 300u);
}

TEST(EtcdBatch, PutsAndTheLastOpStayTogetherInTheFinalTransaction) {
  // Pruned versions deleted, then the metadata put that drops them.
  std::vector<WriteOp> ops;
  for (int i = 0; i < 200; ++i) ops.push_back(Del("v" + std::to_string(100 + i)));
  ops.push_back(Put("meta"));
  ops.insert(ops.begin() + 50, Put("early-put"));
  auto txns = PlanBatch(ops, {128, 1 << 20});
  ASSERT_TRUE(txns.ok());
  ASSERT_GE(txns->size(), 2u);
  const auto& last = txns->back();
  EXPECT_EQ(last.size(), 128u);
  auto keys = Keys(last);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "early-put"), keys.end());
  EXPECT_EQ(keys.back(), "meta");
  for (size_t t = 0; t + 1 < txns->size(); ++t)
    for (const auto& op : (*txns)[t]) EXPECT_EQ(op.kind, WriteOp::Kind::kDelete);
}

TEST(EtcdBatch, SplitsOnBytesToo) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(Del(std::string(300, 'a' + i)));
  ops.push_back(Put("meta", 100));
  auto txns = PlanBatch(ops, {128, 1000});
  ASSERT_TRUE(txns.ok());
  size_t total = 0;
  for (const auto& t : *txns) {
    size_t bytes = 0;
    for (const auto& op : t) bytes += OpBytes(op);
    EXPECT_LE(bytes, 1000u);
    total += t.size();
  }
  EXPECT_EQ(total, 11u);
  EXPECT_EQ(txns->back().back().key, "meta");
}

TEST(EtcdBatch, RefusesWhatNoTransactionHolds) {
  TxnLimits limits = LimitsFor(128, 1536 * 1024);
  auto big = PlanBatch({Put("k", 2 << 20)}, limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kTooLarge);
  EXPECT_THAT(big.status().message(), HasSubstr("1.5 MiB"));
  EXPECT_THAT(big.status().message(), ::testing::Not(HasSubstr("vvvv")));
  std::vector<WriteOp> puts;
  for (int i = 0; i < 129; ++i) puts.push_back(Put("p" + std::to_string(i)));
  auto many = PlanBatch(puts, limits);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), StatusCode::kTooLarge);
  EXPECT_THAT(many.status().message(), HasSubstr("128 operations"));
  EXPECT_TRUE(CheckPutFits(10, limits.max_bytes - 100, limits).ok());
  EXPECT_EQ(CheckPutFits(10, limits.max_bytes, limits).code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace sealbox::etcd
