// MsgpackReader: bounds-checked reads of MessagePack's forms from a byte
// span, each false (and the reader unusable) on a form it does not expect or
// on too few bytes; and ReadMsgpackJson, a whole value read with it. Internal
// to engines/kv (kv_v2_meta_codec.cc, msgpack_json.cc, kv_common.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "base/json_util.h"

namespace sealbox::engines::kv {

struct MsgpackReader {
  const uint8_t* p;
  const uint8_t* end;

  bool Take(size_t n, const uint8_t** at) {
    if (static_cast<size_t>(end - p) < n) return false;
    *at = p;
    p += n;
    return true;
  }
  bool Big(int bytes, uint64_t* v) {
    const uint8_t* at;
    if (!Take(bytes, &at)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) *v = *v << 8 | at[i];
    return true;
  }
  bool Byte(uint8_t* b) {
    const uint8_t* at;
    if (!Take(1, &at)) return false;
    *b = *at;
    return true;
  }
  bool MapHeader(uint64_t* n) {
    uint8_t b;
    if (!Byte(&b)) return false;
    if ((b & 0xf0) == 0x80) return *n = b & 0x0f, true;
    if (b == 0xde) return Big(2, n);
    if (b == 0xdf) return Big(4, n);
    return false;
  }
  bool String(std::string_view* s) {
    uint8_t b;
    uint64_t len;
    if (!Byte(&b)) return false;
    if ((b & 0xe0) == 0xa0) {
      len = b & 0x1f;
    } else if (b >= 0xd9 && b <= 0xdb) {
      if (!Big(1 << (b - 0xd9), &len)) return false;
    } else {
      return false;
    }
    const uint8_t* at;
    if (!Take(len, &at)) return false;
    *s = std::string_view(reinterpret_cast<const char*>(at), len);
    return true;
  }
  // An integer as nlohmann writes one; `negative` says how to read `bits`.
  bool Integer(uint64_t* bits, bool* negative) {
    uint8_t b;
    if (!Byte(&b)) return false;
    *negative = false;
    if (b < 0x80) return *bits = b, true;
    if (b >= 0xe0) return *negative = true, *bits = static_cast<uint64_t>(static_cast<int8_t>(b)), true;
    if (b >= 0xcc && b <= 0xcf) return Big(1 << (b - 0xcc), bits);
    if (b >= 0xd0 && b <= 0xd3) {
      int bytes = 1 << (b - 0xd0);
      if (!Big(bytes, bits)) return false;
      int shift = 64 - 8 * bytes;  // sign-extend
      *bits = static_cast<uint64_t>(static_cast<int64_t>(*bits << shift) >> shift);
      *negative = static_cast<int64_t>(*bits) < 0;
      return true;
    }
    return false;
  }
  bool Signed(int64_t* v) {
    uint64_t bits;
    bool negative;
    if (!Integer(&bits, &negative)) return false;
    if (!negative && bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *v = static_cast<int64_t>(bits);
    return true;
  }
  bool Unsigned(uint64_t* v) {
    bool negative;
    return Integer(v, &negative) && !negative;
  }
  bool Bool(bool* v) {
    uint8_t b;
    if (!Byte(&b) || (b != 0xc2 && b != 0xc3)) return false;
    *v = b == 0xc3;
    return true;
  }
};

// The value `raw` holds, exactly as nlohmann's from_msgpack reads it
// (unsigned forms as unsigned, signed forms as signed), without its
// byte-at-a-time string copies; nullopt for bin and ext values, more than 128
// levels of nesting, or anything malformed, which the caller leaves to
// nlohmann.
std::optional<Json> ReadMsgpackJson(std::string_view raw);

}  // namespace sealbox::engines::kv
