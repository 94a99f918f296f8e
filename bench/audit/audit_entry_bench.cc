// Micro-benchmark of what one audited KV v2 read costs the audit devices:
// its request and response entries (text, HMACs, chain, write), through the
// blocking path (worker pool) and the suspending one (I/O threads, batches
// of 32 requests flushed together), to a local file and to `discard`.
// Not a test: figures only. bench/audit/run.sh measures the whole server.
//
//   ninja -C build audit_entry_bench && build/bench/audit/audit_entry_bench
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_broker.h"
#include "audit/entry_format.h"
#include "base/crypto.h"
#include "storage/storage.h"
#include "tests/unit/base/queue_resumer.h"

namespace sealbox::audit {
namespace {

logical::Request KvRead() {
  logical::Request r;
  r.id = "3c1f3c1e-1d2c-4e36-9d0e-3f0c2b1a0d9e";
  r.op = logical::Operation::kRead;
  r.path = r.original_path = "secret/data/bench";
  r.mount_point = "secret/";
  r.mount_type = "kv";
  r.mount_class = "secret";
  r.mount_accessor = "kv_3c1f3c1e";
  r.client_token = "hvs.CAESIJ0123456789abcdefghijklmnopqrstuvwx";
  r.remote_addr = "127.0.0.1";
  r.remote_port = 50000;
  logical::TokenInfo ti;
  ti.accessor = "abcdefghijklmnopqrstuvwx";
  ti.policies = {"default", "team0"};
  ti.display_name = "token";
  ti.token_type = "service";
  r.token = ti;
  return r;
}

logical::Response KvReadResponse() {
  logical::Response resp;
  resp.data = Json{{"data", {{"v", std::string(900, 'x')}}},
                   {"metadata",
                    {{"created_time", "2026-11-23T10:00:00.123456789Z"},
                     {"custom_metadata", nullptr},
                     {"deletion_time", ""},
                     {"destroyed", false},
                     {"version", 1}}}};
  return resp;
}

// A broker with one device: "file" (a local file) or "discard".
struct Fixture {
  std::string dir;
  std::unique_ptr<Storage> view = NewInMemStorage();
  AuditBroker broker;

  explicit Fixture(const std::string& kind) {
    char tmpl[] = "/tmp/sealbox-audit-bench-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    if (!broker.Setup(view.get()).ok()) std::abort();
    DeviceConfig c;
    c.path = "bench";
    c.type = "file";
    c.options = {{"file_path", kind == "file" ? dir + "/audit.log" : "discard"}};
    if (!broker.Enable(c).ok()) std::abort();
  }
  ~Fixture() {
    broker.Teardown();
    std::filesystem::remove_all(dir);
  }
};

void Blocking(benchmark::State& state, const std::string& kind) {
  Fixture f(kind);
  const logical::Request req = KvRead();
  const logical::Response resp = KvReadResponse();
  for (auto _ : state) {
    if (!f.broker.LogRequest(req, {}, "").ok()) std::abort();
    if (!f.broker.LogResponse(req, {}, &resp, "").ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}

Task<Status> RequestAndResponse(const AuditBroker& b, const logical::Request& req, const logical::Response& resp,
                                Resumer* resumer) {
  const MountInfo mount;
  const std::string no_error;
  Status s = co_await b.Log(EntryKind::kRequest, req, mount, nullptr, no_error, resumer);
  if (!s.ok()) co_return s;
  co_return co_await b.Log(EntryKind::kResponse, req, mount, &resp, no_error, resumer);
}

void Suspending(benchmark::State& state, const std::string& kind) {
  Fixture f(kind);
  QueueResumer resumer;
  constexpr int kBatch = 32;
  std::vector<logical::Request> reqs(kBatch, KvRead());
  const logical::Response resp = KvReadResponse();
  int done = 0;
  for (auto _ : state) {
    done = 0;
    for (auto& r : reqs)
      Start(RequestAndResponse(f.broker, r, resp, &resumer), [&done](Status* s, std::exception_ptr) {
        if (!s || !s->ok()) std::abort();
        ++done;
      });
    resumer.RunAll();
    if (done != kBatch) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// The entry text alone (request and response entries, hashes included), no
// chain and no device: what base's JsonWriter costs on the audit path.
void Format(benchmark::State& state) {
  const logical::Request req = KvRead();
  const logical::Response resp = KvReadResponse();
  const MountInfo mount;
  const EntryOptions opt;
  const crypto::HmacSha256Key salt(std::string(32, 's'));
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendEntry(out, "request", "2026-11-23T10:00:00.123456Z", req, mount, nullptr, "", opt, salt);
    AppendEntry(out, "response", "2026-11-23T10:00:00.123456Z", req, mount, &resp, "", opt, salt);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(Format);
BENCHMARK_CAPTURE(Blocking, file, std::string("file"));
BENCHMARK_CAPTURE(Blocking, discard, std::string("discard"));
BENCHMARK_CAPTURE(Suspending, file, std::string("file"));
BENCHMARK_CAPTURE(Suspending, discard, std::string("discard"));

}  // namespace
}  // namespace sealbox::audit

BENCHMARK_MAIN();
