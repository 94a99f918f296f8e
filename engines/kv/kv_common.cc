#include "engines/kv/kv_common.h"

#include <functional>

#include "engines/kv/msgpack_reader.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {

size_t KeyLocks::Index(std::string_view key) const { return std::hash<std::string_view>{}(key) % kStripes; }

std::shared_mutex& KeyLocks::For(std::string_view key) { return stripes_[Index(key)]; }

size_t MaxEntrySize(const logical::MountView* mount) {
  if (!mount) return kDefaultMaxEntrySize;
  size_t n = mount->MaxEntrySize();
  return n ? n : kDefaultMaxEntrySize;
}

Status CheckEntrySize(size_t bytes, size_t limit, std::string_view what) {
  if (bytes <= limit) return Status::Ok();
  return TooLarge(std::string(what) + " too large: " + std::to_string(bytes) + " bytes exceeds the limit of " +
                  std::to_string(limit) + " bytes per entry; nothing was written");
}

std::string EncodeObject(const Json& obj) {
  std::string out;
  Json::to_msgpack(obj, out);
  return out;
}

Result<Json> DecodeObject(std::string_view raw, std::string_view what) {
  Json j;
  if (!raw.empty() && raw.front() == '{') {
    j = Json::parse(raw.begin(), raw.end(), nullptr, false);
  } else if (auto fast = ReadMsgpackJson(raw)) {
    j = std::move(*fast);
  } else {
    j = Json::from_msgpack(raw.begin(), raw.end(), /*strict=*/true, /*allow_exceptions=*/false);
  }
  if (!j.is_object()) return Corruption(std::string(what) + " malformed");
  return j;
}

Status ValidateKeyPath(std::string_view key, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid \"" + std::string(field) + "\": " + std::string(why));
  };
  if (key.empty()) return bad("must not be empty");
  if (key.front() == '/' || key.back() == '/') return bad("must not start or end with '/'");
  for (unsigned char c : key)
    if (c < 0x20 || c == 0x7f) return bad("must not contain control characters");
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view seg = key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return bad("must not contain empty, \".\" or \"..\" segments");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status ParseRecursiveListOptions(const Json& data, bool* recursive, RecursiveListOptions* opts) {
  *recursive = false;
  if (!data.is_object()) return Status::Ok();
  auto it = data.find("recursive");
  if (it != data.end()) {
    auto b = JsonToBool(*it);
    if (!b.ok()) return InvalidArgument("error converting input for field \"recursive\": expected a boolean");
    *recursive = *b;
  }
  it = data.find("after");
  if (it != data.end()) {
    auto s = JsonToString(*it);
    if (!s.ok()) return InvalidArgument("error converting input for field \"after\": expected a string");
    opts->after = *s;
  }
  it = data.find("limit");
  if (it != data.end()) {
    auto n = JsonToInt(*it);
    if (!n.ok() || *n < 0) return InvalidArgument("error converting input for field \"limit\": expected a non-negative integer");
    if (*n > 0) opts->limit = static_cast<size_t>(*n);
  }
  if (opts->limit > kMaxRecursiveListLimit) opts->limit = kMaxRecursiveListLimit;
  return Status::Ok();
}

Result<RecursiveListPage> ListRecursivePage(Storage& s, const std::string& prefix, const RecursiveListOptions& opts) {
  RecursiveListPage page;
  const std::string& after = opts.after;
  // One more than the page so we know whether another page follows.
  const size_t want = opts.limit + 1;
  std::vector<std::string> found;
  // Storage::List returns children in byte order with each folder collapsed
  // where its keys sort, so a depth-first walk yields keys in byte order.
  std::function<Status(const std::string&)> walk = [&](const std::string& rel_dir) -> Status {
    SB_ASSIGN_OR_RETURN(auto children, s.List(prefix + rel_dir));
    for (const auto& c : children) {
      if (found.size() >= want) return Status::Ok();
      std::string rel = rel_dir + c;
      if (!c.empty() && c.back() == '/') {
        // Every key under `rel` starts with it: if `after` does not, the whole
        // folder sorts on one side of it.
        if (!after.empty() && after.compare(0, rel.size(), rel) != 0 && rel < after) continue;
        SB_RETURN_IF_ERROR(walk(rel));
      } else if (after.empty() || rel > after) {
        found.push_back(std::move(rel));
      }
    }
    return Status::Ok();
  };
  SB_RETURN_IF_ERROR(walk(""));
  if (found.size() > opts.limit) {
    found.resize(opts.limit);
    page.more = true;
  }
  page.keys = std::move(found);
  return page;
}

logical::Response RecursiveListResponse(const RecursiveListPage& page) {
  Json d = {{"keys", page.keys}};
  if (page.more && !page.keys.empty()) d["next_after"] = page.keys.back();
  return logical::Response::WithData(std::move(d));
}

}  // namespace sealbox::engines::kv
