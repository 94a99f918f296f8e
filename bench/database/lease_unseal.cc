// Unseal time and RSS with N leases in storage (issue 6: unseal must not load
// every lease). Writes N leases through the real ExpirationManager into
// RocksDB, seals, reopens the process state, and times the unseal.
//   lease_unseal <dir> <N>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/core_impl.h"
#include "storage/rocksdb_storage.h"

using namespace sealbox;

static long RssKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f && std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  if (f) std::fclose(f);
  return kb;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string dir = argv[1];
  long n = std::stol(argv[2]);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SecureBytes share;
  {
    core::CoreOptions o;
    o.physical = std::move(OpenRocksDbStorage(dir)).value();
    auto c = std::move(core::Core::Create(std::move(o))).value();
    auto init = std::move(c->Initialize({1, 1})).value();
    share = init.shares[0];
    if (c->SubmitUnsealKey(share)->sealed) return 1;
    auto* impl = static_cast<core::CoreImpl*>(c.get());
    impl->expiration().Stop();  // writing only: no revocations during the load
    logical::Secret s;
    s.ttl = 30 * 24 * 3600;
    s.renewable = true;
    s.internal_data = {{"username", "v-bench"}};
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
      if (!impl->expiration().Register("database/creds/bench", "database/", "tok", s).ok()) return 1;
      s.ttl += 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %ld leases in %.1f s\n", n, secs);
    c->Shutdown();
  }
  core::CoreOptions o;
  o.physical = std::move(OpenRocksDbStorage(dir)).value();
  auto c = std::move(core::Core::Create(std::move(o))).value();
  long rss_before = RssKb();
  auto t0 = std::chrono::steady_clock::now();
  auto st = c->SubmitUnsealKey(share);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok() || st->sealed) return 1;
  std::printf("leases %ld: unseal %.1f ms, RSS %ld MB after unseal (%ld MB before)\n", n, ms, RssKb() / 1024,
              rss_before / 1024);
  c->Shutdown();
  return 0;
}
