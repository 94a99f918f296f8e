// Micro-benchmark of the JSON text written on hot paths, besides audit
// entries (bench/audit/audit_entry_bench.cc, Format): the body of a KV v2
// read (a 1 KiB secret) and the stored text of a token entry (one per login).
// Not a test: figures only.
//
//   ninja -C build json_bench && build/bench/json/json_bench
#include <benchmark/benchmark.h>

#include <string>

#include "auth/token_store.h"
#include "base/json_util.h"

namespace sealbox {
namespace {

void KvReadBody(benchmark::State& state) {
  const Json body = {{"request_id", "3c1f3c1e-1d2c-4e36-9d0e-3f0c2b1a0d9e"},
                     {"lease_id", ""},
                     {"renewable", false},
                     {"lease_duration", 0},
                     {"data",
                      {{"data", {{"v", std::string(900, 'x')}}},
                       {"metadata",
                        {{"created_time", "2026-11-23T10:00:00.123456789Z"},
                         {"custom_metadata", nullptr},
                         {"deletion_time", ""},
                         {"destroyed", false},
                         {"version", 1}}}}},
                     {"wrap_info", nullptr},
                     {"warnings", nullptr},
                     {"auth", nullptr},
                     {"mount_type", "kv"}};
  for (auto _ : state) benchmark::DoNotOptimize(DumpJson(body));
  state.SetItemsProcessed(state.iterations());
}

void TokenEntryText(benchmark::State& state) {
  auth::TokenEntry e;
  e.hash = std::string(64, 'h');
  e.accessor = "abcdefghijklmnopqrstuvwx";
  e.policies = {"default", "team0"};
  e.path = "auth/kubernetes/login";
  e.display_name = "kubernetes-default-app";
  e.meta = {{"role", "app"}, {"service_account_name", "app"}, {"service_account_namespace", "default"},
            {"service_account_uid", "0b5c1f7e-2a9d-4c43-9f0e-6c1d2b3a4f5e"}};
  e.creation_time = 1795000000;
  e.creation_time_nanos = 1795000000123456789;
  e.creation_ttl = e.lease_ttl = 3600;
  e.expire_time_nanos = e.issue_time_nanos = 1795003600123456789;
  e.renewable = true;
  e.internal = {{"role", "app"}};
  e.alias = auth::IdentityAlias{};
  e.alias->name = "0b5c1f7e-2a9d-4c43-9f0e-6c1d2b3a4f5e";
  e.alias->mount_accessor = "auth_kubernetes_3c1f3c1e";
  e.alias->metadata = {{"service_account_name", "app"}, {"service_account_namespace", "default"}};
  for (auto _ : state) benchmark::DoNotOptimize(e.ToText());
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(KvReadBody);
BENCHMARK(TokenEntryText);

}  // namespace
}  // namespace sealbox

BENCHMARK_MAIN();
