// Transit's parsers of untrusted bytes: Go-strict base64 (every plaintext,
// context and ciphertext), "vault:vN:" values, restore's backups and the
// stored key layout. What must hold: no crash; base64 that decodes encodes
// to the same length class and its decoding round-trips; a backup or stored
// key that parses is well formed and survives its own encode/decode.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/crypto.h"
#include "engines/transit/backup.h"
#include "engines/transit/key_policy.h"

namespace transit = sealbox::engines::transit;

namespace {

void CheckPolicy(const transit::KeyPolicy& p) {
  for (const auto& [v, kv] : p.versions)
    if (v < 1 || v > p.latest_version || kv.key.empty()) __builtin_trap();
}

bool SameKeys(const transit::KeyPolicy& a, const transit::KeyPolicy& b) {
  if (a.versions.size() != b.versions.size()) return false;
  for (const auto& [v, kv] : a.versions) {
    auto it = b.versions.find(v);
    if (it == b.versions.end() || !kv.key.Equals(it->second.key) || !kv.hmac_key.Equals(it->second.hmac_key))
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = transit::DecodeStdBase64(in);
  if (decoded.ok()) {
    if (in.size() % 4 != 0 || decoded->size() > in.size() / 4 * 3) __builtin_trap();
    std::string again = sealbox::crypto::Base64Encode(decoded->view());
    auto twice = transit::DecodeStdBase64(again);
    if (again.size() != in.size() || !twice.ok() || !twice->Equals(*decoded)) __builtin_trap();
  }
  (void)transit::SplitVersioned(in);
  auto restored = transit::RestorePolicy(in, "fuzz");
  if (restored.ok()) {
    CheckPolicy(*restored);
    auto backup = transit::BackupPolicy(*restored);  // a restored key (checked whole) always backs up
    if (!backup.ok()) __builtin_trap();
    auto round = transit::RestorePolicy(*backup, "");
    if (!round.ok() || !SameKeys(*restored, *round)) __builtin_trap();
  }
  auto stored = transit::DecodePolicy(in);
  if (stored.ok()) {
    auto round = transit::DecodePolicy(transit::EncodePolicy(*stored).view());
    if (!round.ok() || !SameKeys(*stored, *round)) __builtin_trap();
  }
  return 0;
}
