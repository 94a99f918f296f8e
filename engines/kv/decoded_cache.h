// DecodedCache: decoded copies of stored entries, each kept beside the exact
// plaintext it was decoded from. A lookup hands back the decoded copy only
// when storage returned those same bytes again, so a slot left over from
// before a write never answers (it misses, and is replaced): no invalidation
// is needed, and what a hit returns is what decoding would have returned.
// Bounded: a fixed number of slots picked by key hash, and entries larger
// than kMaxRawBytes are never kept.
//
// KV v2 reads its metadata entry (a MessagePack map with every version)
// twice per write (the existence check, then under the key's lock) and once
// per read; decoding it was a third of a write's instructions.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sealbox::engines::kv {

template <typename T>
class DecodedCache {
 public:
  static constexpr size_t kSlots = 256;
  static constexpr size_t kMaxRawBytes = 16 * 1024;

  // A copy of what `raw`, read at `key`, decodes to, if a slot holds it.
  std::optional<T> Find(std::string_view key, std::string_view raw) {
    std::shared_ptr<const T> hit;
    {
      Slot& s = SlotOf(key);
      std::lock_guard l(s.mu);
      if (s.value && s.raw == raw) hit = s.value;
    }
    if (!hit) return std::nullopt;
    return *hit;
  }

  // Keeps `decoded`, which `raw` read at `key` decodes to.
  void Remember(std::string_view key, std::string_view raw, const T& decoded) {
    if (raw.size() > kMaxRawBytes) return;
    auto value = std::make_shared<const T>(decoded);
    std::string copy(raw);
    Slot& s = SlotOf(key);
    std::lock_guard l(s.mu);
    s.raw.swap(copy);
    s.value.swap(value);
  }

 private:
  struct Slot {
    std::mutex mu;
    std::string raw;                  // guarded by mu
    std::shared_ptr<const T> value;   // guarded by mu; null: empty slot
  };
  Slot& SlotOf(std::string_view key) { return slots_[std::hash<std::string_view>{}(key) % kSlots]; }

  std::array<Slot, kSlots> slots_;
};

}  // namespace sealbox::engines::kv
