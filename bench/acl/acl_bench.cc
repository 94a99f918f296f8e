// Micro-benchmark of the per-request authorisation cost: Acl::AllowOperation
// for a token with 5 realistic policies (exact, prefix, `+` and deny rules,
// parameter constraints) against the root ACL, plus PolicyStore::AclFor (the
// cached lookup every request does). Not a test: figures only.
//
//   ninja -C build acl_bench && build/bench/acl/acl_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "auth/acl.h"
#include "auth/policy.h"
#include "auth/policy_store.h"
#include "storage/storage.h"

namespace sealbox::auth {
namespace {

// Five policies of the kind a team writes: per-app KV trees, a shared
// read-only tree, templated-looking `+` paths, a deny island and sys bits.
std::vector<std::string> PolicyTexts() {
  std::vector<std::string> out;
  for (int p = 0; p < 5; ++p) {
    std::string t;
    for (int i = 0; i < 8; ++i) {
      std::string app = "app" + std::to_string(p * 10 + i);
      t += "path \"secret/data/" + app + "/*\" { capabilities = [\"create\", \"read\", \"update\", \"list\"] }\n";
      t += "path \"secret/metadata/" + app + "/*\" { capabilities = [\"list\", \"read\"] }\n";
    }
    t += "path \"secret/data/shared/+/config\" { capabilities = [\"read\"] }\n";
    t += "path \"secret/data/team" + std::to_string(p) + "/+/creds/*\" { capabilities = [\"read\"] }\n";
    t += "path \"secret/data/app" + std::to_string(p * 10) + "/admin/*\" { capabilities = [\"deny\"] }\n";
    t += "path \"database/creds/role" + std::to_string(p) + "\" { capabilities = [\"read\"] }\n";
    t += "path \"secret/data/bench\" {\n  capabilities = [\"read\", \"update\"]\n"
         "  allowed_parameters = { \"data\" = [] \"options\" = [] }\n}\n";
    t += "path \"sys/leases/renew\" { capabilities = [\"update\"] }\n";
    out.push_back(std::move(t));
  }
  return out;
}

std::shared_ptr<const Acl> FivePolicyAcl() {
  std::vector<std::shared_ptr<const Policy>> ps;
  auto texts = PolicyTexts();
  for (size_t i = 0; i < texts.size(); ++i) {
    auto p = ParsePolicy("p" + std::to_string(i), texts[i]);
    if (!p.ok()) std::abort();
    ps.push_back(std::make_shared<const Policy>(std::move(p).value()));
  }
  auto d = ParsePolicy("default", kDefaultPolicyText);
  if (!d.ok()) std::abort();
  ps.push_back(std::make_shared<const Policy>(std::move(d).value()));
  return Acl::Compile(ps, false);
}

void BM_AllowKvRead_5Policies(benchmark::State& state) {
  auto acl = FivePolicyAcl();
  const Json data = nullptr;
  for (auto _ : state) {
    auto r = acl->AllowOperation("secret/data/bench", logical::Operation::kRead, data, false);
    benchmark::DoNotOptimize(r.allowed);
  }
}
BENCHMARK(BM_AllowKvRead_5Policies);

void BM_AllowKvWriteWithParams_5Policies(benchmark::State& state) {
  auto acl = FivePolicyAcl();
  const Json data = {{"data", {{"password", "x"}}}, {"options", {{"cas", 1}}}};
  for (auto _ : state) {
    auto r = acl->AllowOperation("secret/data/bench", logical::Operation::kUpdate, data, false);
    benchmark::DoNotOptimize(r.allowed);
  }
}
BENCHMARK(BM_AllowKvWriteWithParams_5Policies);

void BM_AllowPrefixAndPlus_5Policies(benchmark::State& state) {
  auto acl = FivePolicyAcl();
  const Json data = nullptr;
  for (auto _ : state) {
    auto a = acl->AllowOperation("secret/data/app23/service/db", logical::Operation::kRead, data, false);
    auto b = acl->AllowOperation("secret/data/team3/x/creds/pg", logical::Operation::kRead, data, false);
    auto c = acl->AllowOperation("secret/data/app20/admin/root", logical::Operation::kRead, data, false);
    benchmark::DoNotOptimize(a.allowed && b.allowed && !c.allowed);
  }
}
BENCHMARK(BM_AllowPrefixAndPlus_5Policies);

void BM_AllowLookupSelf_5Policies(benchmark::State& state) {
  auto acl = FivePolicyAcl();
  const Json data = nullptr;
  for (auto _ : state) {
    auto r = acl->AllowOperation("auth/token/lookup-self", logical::Operation::kRead, data, false);
    benchmark::DoNotOptimize(r.allowed);
  }
}
BENCHMARK(BM_AllowLookupSelf_5Policies);

void BM_AllowKvRead_Root(benchmark::State& state) {
  auto acl = Acl::Compile({}, true);
  const Json data = nullptr;
  for (auto _ : state) {
    auto r = acl->AllowOperation("secret/data/bench", logical::Operation::kRead, data, false);
    benchmark::DoNotOptimize(r.allowed);
  }
}
BENCHMARK(BM_AllowKvRead_Root);

// The cached per-request lookup: policy names -> compiled ACL.
void BM_PolicyStoreAclFor_5Policies(benchmark::State& state) {
  auto storage = NewInMemStorage();
  PolicyStore store(storage.get());
  if (!store.Setup().ok()) std::abort();
  auto texts = PolicyTexts();
  std::vector<std::string> names = {"default"};
  for (size_t i = 0; i < texts.size(); ++i) {
    names.push_back("p" + std::to_string(i));
    if (!store.Put(names.back(), texts[i]).ok()) std::abort();
  }
  for (auto _ : state) {
    auto acl = store.AclFor(names);
    benchmark::DoNotOptimize(acl.ok());
  }
}
BENCHMARK(BM_PolicyStoreAclFor_5Policies);

void BM_Compile_5Policies(benchmark::State& state) {
  for (auto _ : state) {
    auto acl = FivePolicyAcl();
    benchmark::DoNotOptimize(acl.get());
  }
}
BENCHMARK(BM_Compile_5Policies);

}  // namespace
}  // namespace sealbox::auth

BENCHMARK_MAIN();
