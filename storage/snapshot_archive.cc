#include "storage/snapshot_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "base/crypto.h"
#include "base/json_util.h"

namespace sealbox::snapshot {
namespace {

constexpr size_t kBlock = 512;
constexpr const char* kMetaFile = "meta.json";
constexpr const char* kStateFile = "state.sealbox";
constexpr const char* kSumsFile = "SHA256SUMS";
// Keys are storage paths: far below this. A longer one means a bad file.
constexpr uint32_t kMaxKeyBytes = 64 * 1024;

Status Bad(const std::string& why) { return InvalidArgument("invalid snapshot: " + why); }

void PutU32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(in->data());
  *v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  in->remove_prefix(4);
  return true;
}

// A USTAR header field holding an octal number: zero-padded digits, then NUL.
void PutOctal(char* field, size_t width, uint64_t v) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
}

uint64_t HeaderChecksum(const char* h) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  return sum;
}

bool ParseOctal(std::string_view field, uint64_t* v) {
  *v = 0;
  bool any = false;
  for (char c : field) {
    if (c == '\0' || c == ' ') {
      if (any) break;
      continue;
    }
    if (c < '0' || c > '7') return false;
    if (*v > (UINT64_MAX >> 3)) return false;
    *v = (*v << 3) | static_cast<uint64_t>(c - '0');
    any = true;
  }
  return any;
}

std::string SumsFor(std::string_view meta, std::string_view state) {
  return crypto::HexEncode(crypto::Sha256(meta)) + "  " + kMetaFile + "\n" + crypto::HexEncode(crypto::Sha256(state)) +
         "  " + kStateFile + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return Bad("meta.json is not a JSON object");
  const Json* v = j.contains("sealbox_snapshot_version") ? &j["sealbox_snapshot_version"] : nullptr;
  if (!v || !v->is_number_integer()) return Bad("not a Sealbox snapshot (no sealbox_snapshot_version)");
  Manifest m;
  m.version = v->get<int>();
  if (m.version != kFormatVersion)
    return Bad("snapshot format version " + std::to_string(m.version) + " is not supported (this server reads " +
               std::to_string(kFormatVersion) + ")");
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  m.cluster_id = str("cluster_id");
  m.storage_type = str("storage_type");
  if (j.contains("created_unix") && j["created_unix"].is_number_integer()) m.created_unix = j["created_unix"].get<int64_t>();
  if (!j.contains("entries") || !j["entries"].is_number_unsigned()) return Bad("meta.json has no entry count");
  m.entries = j["entries"].get<uint64_t>();
  return m;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseState(std::string_view in, uint64_t expected) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!in.empty()) {
    uint32_t klen = 0, vlen = 0;
    if (!GetU32(&in, &klen) || klen == 0 || klen > kMaxKeyBytes || in.size() < klen) return Bad("state record cut short");
    std::string key(in.substr(0, klen));
    in.remove_prefix(klen);
    if (!GetU32(&in, &vlen) || in.size() < vlen) return Bad("state record cut short");
    if (!out.empty() && !(out.back().first < key)) return Bad("state keys out of order");
    out.emplace_back(std::move(key), std::string(in.substr(0, vlen)));
    in.remove_prefix(vlen);
  }
  if (out.size() != expected) return Bad("entry count does not match the manifest");
  return out;
}

}  // namespace

std::string WriteTar(const std::vector<std::pair<std::string, std::string>>& files, int64_t mtime) {
  std::string out;
  for (const auto& [name, data] : files) {
    char h[kBlock] = {};
    std::memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
    PutOctal(h + 100, 8, 0600);
    PutOctal(h + 108, 8, 0);
    PutOctal(h + 116, 8, 0);
    PutOctal(h + 124, 12, data.size());
    PutOctal(h + 136, 12, static_cast<uint64_t>(mtime < 0 ? 0 : mtime));
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    PutOctal(h + 148, 7, HeaderChecksum(h));  // six digits, NUL, then a space (as tar writes it)
    h[155] = ' ';
    out.append(h, kBlock);
    out.append(data);
    out.append((kBlock - data.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadTar(std::string_view tar) {
  std::vector<std::pair<std::string, std::string>> files;
  while (true) {
    if (tar.size() < kBlock) return Bad("archive cut short");
    const char* h = tar.data();
    if (std::all_of(h, h + kBlock, [](char c) { return c == '\0'; })) return files;
    uint64_t sum = 0, size = 0;
    if (!ParseOctal(std::string_view(h + 148, 8), &sum) || sum != HeaderChecksum(h)) return Bad("archive header damaged");
    if (!ParseOctal(std::string_view(h + 124, 12), &size)) return Bad("archive header damaged");
    if (h[156] != '0' && h[156] != '\0') return Bad("unexpected entry type in the archive");
    tar.remove_prefix(kBlock);
    const uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
    if (tar.size() < padded) return Bad("archive cut short");
    files.emplace_back(std::string(h, strnlen(h, 100)), std::string(tar.substr(0, size)));
    tar.remove_prefix(padded);
  }
}

Result<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Internal("cannot start compression");
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Internal("compression failed");
  return out;
}

Result<std::string> Gunzip(std::string_view data, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Internal("cannot start decompression");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  char buf[64 * 1024];
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_bytes) rc = Z_MEM_ERROR;
    else if (rc == Z_BUF_ERROR && zs.avail_in == 0) rc = Z_DATA_ERROR;  // input ended mid-stream
  }
  const bool trailing = zs.avail_in != 0;
  inflateEnd(&zs);
  if (rc == Z_MEM_ERROR) return Status(StatusCode::kTooLarge, "snapshot is larger than this server accepts");
  if (rc != Z_STREAM_END || trailing) return Bad("not a complete gzip stream");
  return out;
}

Status ArchiveBuilder::Add(std::string_view key, std::string_view value) {
  if (state_.size() + key.size() + value.size() + 8 > max_state_bytes_)
    return Status(StatusCode::kTooLarge, "the store is larger than a snapshot may hold");
  PutU32(&state_, static_cast<uint32_t>(key.size()));
  state_.append(key);
  PutU32(&state_, static_cast<uint32_t>(value.size()));
  state_.append(value);
  ++entries_;
  return Status::Ok();
}

Result<std::string> ArchiveBuilder::Finish(Manifest manifest,
                                           const std::function<Result<std::string>(std::string_view)>& seal) {
  manifest.entries = entries_;
  const std::string meta = Json{{"sealbox_snapshot_version", manifest.version},
                                {"cluster_id", manifest.cluster_id},
                                {"storage_type", manifest.storage_type},
                                {"created_unix", manifest.created_unix},
                                {"entries", manifest.entries}}
                               .dump();
  const std::string sums = SumsFor(meta, state_);
  SB_ASSIGN_OR_RETURN(std::string sealed, seal(sums));
  if (sealed.empty()) return Internal("sealed checksums are empty");
  std::string tar = WriteTar({{kMetaFile, meta}, {kStateFile, std::move(state_)}, {kSumsFile, sums},
                              {kSealedSumsFile, std::move(sealed)}},
                             manifest.created_unix);
  state_.clear();
  return Gzip(tar);
}

Result<Contents> ReadArchive(std::string_view archive, size_t max_state_bytes) {
  SB_ASSIGN_OR_RETURN(std::string tar, Gunzip(archive, max_state_bytes + (size_t{1} << 20)));
  SB_ASSIGN_OR_RETURN(auto files, ReadTar(tar));
  const std::string* meta = nullptr;
  const std::string* state = nullptr;
  Contents c;
  for (auto& [name, data] : files) {
    if (name == kMetaFile) meta = &data;
    else if (name == kStateFile) state = &data;
    else if (name == kSumsFile) c.sums = data;
    else if (name == kSealedSumsFile) c.sealed_sums = data;
  }
  if (!meta || !state) return Bad("not a Sealbox snapshot (no meta.json or state.sealbox; a raft snapshot?)");
  if (c.sums.empty() || c.sealed_sums.empty()) return Bad("checksum files missing");
  if (c.sums != SumsFor(*meta, *state)) return Bad("checksum mismatch (the file was altered or damaged)");
  SB_ASSIGN_OR_RETURN(c.manifest, ParseManifest(*meta));
  SB_ASSIGN_OR_RETURN(c.entries, ParseState(*state, c.manifest.entries));
  return c;
}

}  // namespace sealbox::snapshot
