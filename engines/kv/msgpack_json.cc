#include <algorithm>
#include <cstring>

#include "engines/kv/msgpack_reader.h"

namespace sealbox::engines::kv {
namespace {

constexpr int kMaxDepth = 128;

bool ReadValue(MsgpackReader& r, Json* out, int depth);

bool ReadArray(MsgpackReader& r, uint64_t n, Json* out, int depth) {
  *out = Json::array();
  auto& items = out->get_ref<Json::array_t&>();
  items.reserve(std::min<uint64_t>(n, r.end - r.p));  // each item takes a byte at least
  for (uint64_t i = 0; i < n; ++i) {
    items.emplace_back();
    if (!ReadValue(r, &items.back(), depth + 1)) return false;
  }
  return true;
}

bool ReadMap(MsgpackReader& r, uint64_t n, Json* out, int depth) {
  *out = Json::object();
  auto& members = out->get_ref<Json::object_t&>();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k;
    Json v;
    if (!r.String(&k) || !ReadValue(r, &v, depth + 1)) return false;
    members[std::string(k)] = std::move(v);  // a repeated key: the last wins, as in nlohmann
  }
  return true;
}

bool ReadFloat(MsgpackReader& r, uint8_t tag, Json* out) {
  uint64_t bits;
  ++r.p;
  if (tag == 0xca) {
    if (!r.Big(4, &bits)) return false;
    float f;
    auto u = static_cast<uint32_t>(bits);
    std::memcpy(&f, &u, sizeof f);
    *out = static_cast<double>(f);
    return true;
  }
  if (!r.Big(8, &bits)) return false;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  *out = d;
  return true;
}

bool ReadValue(MsgpackReader& r, Json* out, int depth) {
  if (depth > kMaxDepth || r.p == r.end) return false;
  const uint8_t b = *r.p;
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
    uint64_t bits;
    bool negative;
    if (!r.Integer(&bits, &negative)) return false;
    bool signed_form = b >= 0xd0;  // int8..int64 and negative fixint
    *out = signed_form ? Json(static_cast<int64_t>(bits)) : Json(bits);
    return true;
  }
  if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
    uint64_t n;
    return r.MapHeader(&n) && ReadMap(r, n, out, depth);
  }
  if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
    ++r.p;
    uint64_t n = b & 0x0f;
    if (b != 0xdc && b != 0xdd) return ReadArray(r, n, out, depth);
    return r.Big(b == 0xdc ? 2 : 4, &n) && ReadArray(r, n, out, depth);
  }
  if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
    std::string_view s;
    if (!r.String(&s)) return false;
    *out = std::string(s);
    return true;
  }
  if (b == 0xc2 || b == 0xc3) {
    bool v;
    if (!r.Bool(&v)) return false;
    *out = v;
    return true;
  }
  if (b == 0xc0) {
    ++r.p;
    *out = nullptr;
    return true;
  }
  if (b == 0xca || b == 0xcb) return ReadFloat(r, b, out);
  return false;  // bin, ext, never used
}

}  // namespace

std::optional<Json> ReadMsgpackJson(std::string_view raw) {
  const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
  MsgpackReader r{p, p + raw.size()};
  Json out;
  if (!ReadValue(r, &out, 0) || r.p != r.end) return std::nullopt;
  return out;
}

}  // namespace sealbox::engines::kv
