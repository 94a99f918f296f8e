// PlainJsonAsciiEnd: how far a string runs in bytes JSON carries as they
// are, scanned eight at a time. Shared by DumpJson (what needs no escape)
// and ParseSimpleJson (what needs no unescaping).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sealbox {

// The index, from `i`, of the first 8-byte word of `s` holding a byte that
// is not plain JSON ASCII (below 0x20, '"', '\\', or 0x80 and above), or of
// the incomplete word at the end. The caller goes on byte by byte from there.
inline size_t PlainJsonAsciiEnd(std::string_view s, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  // A high bit in each byte that is zero (the classic "has zero byte" test).
  auto zero_bytes = [](uint64_t w) { return (w - kOnes) & ~w & kHigh; };
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    // With every byte below 0x80, subtracting 0x20 from each sets the high
    // bit of a result only where the byte was below 0x20 (or borrowed into
    // by one that was); w's own high bits are the bytes >= 0x80.
    uint64_t special = ((w - 0x20 * kOnes) & ~w) | w;
    special |= zero_bytes(w ^ ('"' * kOnes)) | zero_bytes(w ^ ('\\' * kOnes));
    if (special & kHigh) break;
  }
  return i;
}

}  // namespace sealbox
