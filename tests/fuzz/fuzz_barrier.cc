// The barrier: whatever bytes sit in storage under a path decrypt to an
// error, never a crash or a plaintext; a random plaintext round-trips.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/barrier.h"
#include "storage/storage.h"

namespace {

struct Fixture {
  std::unique_ptr<sealbox::Storage> physical = sealbox::NewInMemStorage();
  std::unique_ptr<sealbox::Barrier> barrier = std::make_unique<sealbox::Barrier>(physical.get());
  Fixture() {
    sealbox::SecureBytes key(32);
    if (!barrier->Initialize(key, 1).ok()) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  FuzzedDataProvider in(data, size);
  std::string path = "fuzz/" + in.ConsumeRandomLengthString(16);
  if (in.ConsumeBool()) {
    std::string plaintext = in.ConsumeRemainingBytesAsString();
    if (!f.barrier->Put(path, plaintext).ok()) __builtin_trap();
    auto back = f.barrier->Get(path);
    if (!back.ok() || !back->has_value() || **back != plaintext) __builtin_trap();
    return 0;
  }
  std::string stored = in.ConsumeRemainingBytesAsString();
  if (!f.physical->Put(path, stored).ok()) __builtin_trap();
  auto r = f.barrier->Get(path);
  // Forging a valid AES-GCM tag without the key is not something a fuzzer does.
  if (r.ok() && r->has_value()) __builtin_trap();
  return 0;
}
