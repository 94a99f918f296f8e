// Helpers shared by the KV v1, KV v2 and cubbyhole backends: striped per-key
// locks, bounded recursive listing with pagination, entry size checks, Go
// duration strings and key validation.
//
// Thread-safety: KeyLocks is safe for concurrent use; the free functions are
// pure or only touch the Storage they are given (itself thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/json_util.h"
#include "base/status.h"
#include "logical/backend.h"

namespace sealbox {
class Storage;
}

namespace sealbox::engines::kv {

// A fixed set of reader/writer locks picked by key hash, so a
// read-modify-write of one secret never interleaves with another on the same
// key, without a map of locks that grows with the key space.
class KeyLocks {
 public:
  static constexpr size_t kStripes = 256;
  std::shared_mutex& For(std::string_view key);
  // Index of the stripe for `key`: two keys on one stripe share a lock, so
  // callers locking two keys must lock a shared stripe only once.
  size_t Index(std::string_view key) const;
  std::shared_mutex& At(size_t i) { return stripes_[i]; }

 private:
  std::array<std::shared_mutex, kStripes> stripes_;
};

// Default entry limit when a backend runs without a MountView (unit tests).
inline constexpr size_t kDefaultMaxEntrySize = 1 << 20;

size_t MaxEntrySize(const logical::MountView* mount);

// TooLarge (413) if `bytes` exceeds `limit`; the message names both sizes and
// says nothing was written.
Status CheckEntrySize(size_t bytes, size_t limit, std::string_view what);

// Stored form of a JSON object (KV values, KV v2 metadata): MessagePack,
// which decodes strings with one copy instead of scanning them byte by byte
// as JSON text does (a read decodes every value it returns).
std::string EncodeObject(const Json& obj);
// Decodes EncodeObject's output, or JSON text (a leading '{': entries written
// as text, e.g. KV v1 values being upgraded). Corruption unless an object.
Result<Json> DecodeObject(std::string_view raw, std::string_view what);

// A key given in a request body (move's from/to): non-empty, no leading or
// trailing '/', no empty, "." or ".." segments, no control characters.
Status ValidateKeyPath(std::string_view key, std::string_view field);

// Options of the Sealbox recursive LIST (`?recursive=true&after=K&limit=N`).
struct RecursiveListOptions {
  std::string after;   // only keys strictly after this one (relative key)
  size_t limit = 1000;  // at most this many keys per page
};
inline constexpr size_t kMaxRecursiveListLimit = 10000;

// Parses `recursive`, `after` and `limit` from request data. `*recursive` is
// false when the parameter is absent. Errors: InvalidArgument on bad values.
Status ParseRecursiveListOptions(const Json& data, bool* recursive, RecursiveListOptions* opts);

struct RecursiveListPage {
  std::vector<std::string> keys;  // relative to the listed folder, sorted
  bool more = false;              // another page follows (start after keys.back())
};

// Every leaf key below `prefix` (which ends in '/' or is empty), relative to
// it, in byte order, after `opts.after`, at most `opts.limit` of them. Whole
// folders that sort before `after` are skipped without being listed.
Result<RecursiveListPage> ListRecursivePage(Storage& s, const std::string& prefix, const RecursiveListOptions& opts);

// The list response: {"keys": [...]} plus, when truncated, "next_after" (the
// cursor for the next page).
logical::Response RecursiveListResponse(const RecursiveListPage& page);

}  // namespace sealbox::engines::kv
