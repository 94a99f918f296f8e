// KeyMeta's stored form written and read directly, without building a Json
// tree: a write re-encoded its key's whole version map through nlohmann
// (a sixth of a write's instructions), and the existence check decoded it.
// The bytes are exactly those of EncodeObject(meta.ToJson()) (MessagePack,
// keys in std::map order, smallest integer forms), so entries written
// either way read back the same; tests compare both paths.
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engines/kv/kv_v2_meta.h"
#include "engines/kv/msgpack_reader.h"

namespace sealbox::engines::kv {
namespace {

// ---- Writing (nlohmann's to_msgpack choices) ----

void PutBig(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A one-byte tag, then `v` big endian in `bytes` bytes.
void PutTagged(std::string& out, uint8_t tag, uint64_t v, int bytes) {
  out.push_back(static_cast<char>(tag));
  PutBig(out, v, bytes);
}

void PutUnsigned(std::string& out, uint64_t v) {
  if (v < 128) {
    out.push_back(static_cast<char>(v));  // positive fixint
  } else if (v <= 0xff) {
    PutTagged(out, 0xcc, v, 1);
  } else if (v <= 0xffff) {
    PutTagged(out, 0xcd, v, 2);
  } else if (v <= 0xffffffff) {
    PutTagged(out, 0xce, v, 4);
  } else {
    PutTagged(out, 0xcf, v, 8);
  }
}

void PutSigned(std::string& out, int64_t v) {
  auto bits = static_cast<uint64_t>(v);
  if (v >= 0) {
    PutUnsigned(out, bits);
  } else if (v >= -32) {
    out.push_back(static_cast<char>(v));  // negative fixint
  } else if (v >= std::numeric_limits<int8_t>::min()) {
    PutTagged(out, 0xd0, bits, 1);
  } else if (v >= std::numeric_limits<int16_t>::min()) {
    PutTagged(out, 0xd1, bits, 2);
  } else if (v >= std::numeric_limits<int32_t>::min()) {
    PutTagged(out, 0xd2, bits, 4);
  } else {
    PutTagged(out, 0xd3, bits, 8);
  }
}

void PutString(std::string& out, std::string_view s) {
  if (s.size() <= 31) {
    out.push_back(static_cast<char>(0xa0 | s.size()));  // fixstr
  } else if (s.size() <= 0xff) {
    PutTagged(out, 0xd9, s.size(), 1);
  } else if (s.size() <= 0xffff) {
    PutTagged(out, 0xda, s.size(), 2);
  } else {
    PutTagged(out, 0xdb, s.size(), 4);
  }
  out.append(s);
}

void PutMapHeader(std::string& out, size_t n) {
  if (n <= 15) {
    out.push_back(static_cast<char>(0x80 | n));  // fixmap
  } else if (n <= 0xffff) {
    PutTagged(out, 0xde, n, 2);
  } else {
    PutTagged(out, 0xdf, n, 4);
  }
}

void PutBool(std::string& out, bool b) { out.push_back(b ? '\xc3' : '\xc2'); }

// ---- Reading: only the shapes EncodeKeyMeta writes; anything else fails ----

bool ReadVersion(MsgpackReader& r, VersionMeta* vm) {
  uint64_t n;
  if (!r.MapHeader(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k;
    if (!r.String(&k)) return false;
    bool ok = k == "created_time"    ? r.Signed(&vm->created)
              : k == "deletion_time" ? r.Signed(&vm->deletion)
              : k == "destroyed"     ? r.Bool(&vm->destroyed)
                                     : false;
    if (!ok) return false;
  }
  return true;
}

bool ReadVersions(MsgpackReader& r, std::map<uint64_t, VersionMeta>* versions) {
  uint64_t n;
  if (!r.MapHeader(&n)) return false;
  versions->clear();  // a repeated "versions" key replaces the map, as in Json
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k;
    // Decimal without leading zeros, as std::to_string wrote it; 19 digits never overflow.
    if (!r.String(&k) || k.empty() || k.size() > 19 || (k.size() > 1 && k[0] == '0')) return false;
    uint64_t number = 0;
    for (char c : k) {
      if (c < '0' || c > '9') return false;
      number = number * 10 + static_cast<uint64_t>(c - '0');
    }
    VersionMeta vm;
    if (!ReadVersion(r, &vm)) return false;
    (*versions)[number] = vm;
  }
  return true;
}

// custom_metadata: null, or a map of strings (what the API accepts).
bool ReadCustomMetadata(MsgpackReader& r, Json* out) {
  if (r.p < r.end && *r.p == 0xc0) {
    ++r.p;
    *out = nullptr;
    return true;
  }
  uint64_t n;
  if (!r.MapHeader(&n)) return false;
  *out = Json::object();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!r.String(&k) || !r.String(&v)) return false;
    (*out)[std::string(k)] = std::string(v);
  }
  return true;
}

bool ReadField(MsgpackReader& r, std::string_view k, KeyMeta* m) {
  if (k == "key_id") {
    std::string_view s;
    if (!r.String(&s)) return false;
    m->key_id = std::string(s);
    return true;
  }
  if (k == "created_time") return r.Signed(&m->created);
  if (k == "updated_time") return r.Signed(&m->updated);
  if (k == "current_version") return r.Unsigned(&m->current);
  if (k == "oldest_version") return r.Unsigned(&m->oldest);
  if (k == "max_versions") return r.Unsigned(&m->max_versions);
  if (k == "cas_required") return r.Bool(&m->cas_required);
  if (k == "delete_version_after") return r.Signed(&m->delete_version_after);
  if (k == "custom_metadata") return ReadCustomMetadata(r, &m->custom_metadata);
  if (k == "versions") return ReadVersions(r, &m->versions);
  return false;
}

}  // namespace

std::string EncodeKeyMeta(const KeyMeta& m) {
  std::string out;
  out.reserve(160 + 48 * m.versions.size());
  // ToJson's keys, in the order std::map (nlohmann's object) keeps them.
  PutMapHeader(out, 10);
  PutString(out, "cas_required"), PutBool(out, m.cas_required);
  PutString(out, "created_time"), PutSigned(out, m.created);
  PutString(out, "current_version"), PutUnsigned(out, m.current);
  PutString(out, "custom_metadata");
  Json::to_msgpack(m.custom_metadata, out);
  PutString(out, "delete_version_after"), PutSigned(out, m.delete_version_after);
  PutString(out, "key_id"), PutString(out, m.key_id);
  PutString(out, "max_versions"), PutUnsigned(out, m.max_versions);
  PutString(out, "oldest_version"), PutUnsigned(out, m.oldest);
  PutString(out, "updated_time"), PutSigned(out, m.updated);
  PutString(out, "versions");
  // Version numbers are keys compared as strings: "10" before "9".
  std::map<std::string, const VersionMeta*> by_name;
  for (const auto& [n, vm] : m.versions) by_name.emplace(std::to_string(n), &vm);
  PutMapHeader(out, by_name.size());
  for (const auto& [name, vm] : by_name) {
    PutString(out, name);
    PutMapHeader(out, 3);
    PutString(out, "created_time"), PutSigned(out, vm->created);
    PutString(out, "deletion_time"), PutSigned(out, vm->deletion);
    PutString(out, "destroyed"), PutBool(out, vm->destroyed);
  }
  return out;
}

std::optional<KeyMeta> DecodeKeyMeta(std::string_view raw) {
  const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
  MsgpackReader r{p, p + raw.size()};
  uint64_t n;
  if (!r.MapHeader(&n)) return std::nullopt;
  KeyMeta m;
  bool has_key_id = false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k;
    if (!r.String(&k) || !ReadField(r, k, &m)) return std::nullopt;
    has_key_id |= k == "key_id";
  }
  if (r.p != r.end || !has_key_id || m.key_id.empty()) return std::nullopt;
  return m;
}

}  // namespace sealbox::engines::kv
