#include "storage/snapshot_archive.h"

#include <algorithm>
#include <cstring>

#include "base/crypto.h"
#include "base/json_util.h"
#include "base/tar_gzip.h"

namespace sealbox::snapshot {
namespace {

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
  std::string tar = archive::WriteTar({{kMetaFile, meta}, {kStateFile, std::move(state_)}, {kSumsFile, sums},
                              {kSealedSumsFile, std::move(sealed)}},
                             manifest.created_unix);
  state_.clear();
  return archive::Gzip(tar);
}

Result<Contents> ReadArchive(std::string_view archive, size_t max_state_bytes) {
  auto tar = archive::Gunzip(archive, max_state_bytes + (size_t{1} << 20));
  if (!tar.ok() && tar.status().code() == StatusCode::kTooLarge)
    return Status(StatusCode::kTooLarge, "snapshot is larger than this server accepts");
  if (!tar.ok()) return Bad(tar.status().message());
  auto files = archive::ReadTar(*tar);
  if (!files.ok()) return Bad(files.status().message());
  const std::string* meta = nullptr;
  const std::string* state = nullptr;
  Contents c;
  for (auto& [name, data] : *files) {
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
