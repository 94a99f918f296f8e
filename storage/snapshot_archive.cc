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

void PutU32(char* b, uint32_t v) {
  b[0] = static_cast<char>(v >> 24);
  b[1] = static_cast<char>(v >> 16);
  b[2] = static_cast<char>(v >> 8);
  b[3] = static_cast<char>(v);
}

bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(in->data());
  *v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  in->remove_prefix(4);
  return true;
}

// SHA256SUMS from the raw digests of meta.json and of the whole state.
std::string SumsFor(std::string_view meta_sum, std::string_view state_sum) {
  return crypto::HexEncode(meta_sum) + "  " + kMetaFile + "\n" + crypto::HexEncode(state_sum) + "  " + kStateFile + "\n";
}

// "state.sealbox.000042" for part 42.
std::string PartName(int part) {
  std::string digits = std::to_string(part);
  return std::string(kStateFile) + "." + std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
}

Result<Manifest> ParseManifest(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return Bad("meta.json is not a JSON object");
  const Json* v = j.contains("sealbox_snapshot_version") ? &j["sealbox_snapshot_version"] : nullptr;
  if (!v || !v->is_number_integer()) return Bad("not a Sealbox snapshot (no sealbox_snapshot_version)");
  Manifest m;
  m.version = v->get<int>();
  if (m.version != 1 && m.version != kFormatVersion)
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

// The state of a format 1 archive (one state.sealbox) or of a format 2 one
// (its parts, in order, concatenated).
class StateCollector {
 public:
  // Takes `data` if `name` is the state or one of its parts.
  Result<bool> Take(const std::string& name, std::string& data) {
    if (name == kStateFile) {
      if (whole_ || parts_ > 0) return Bad("more than one state in the archive");
      whole_ = true;
      state_ = std::move(data);
      return true;
    }
    if (!name.starts_with(std::string(kStateFile) + ".")) return false;
    if (whole_ || name != PartName(parts_)) return Bad("state parts missing or out of order");
    ++parts_;
    state_.append(data);
    std::string().swap(data);  // one copy of the state in memory, not two
    return true;
  }
  bool found() const { return whole_ || parts_ > 0; }
  // The state, if the archive's format `version` holds it the way it came.
  Result<std::string_view> State(int version) const {
    if (whole_ != (version == 1)) return Bad("the state's layout does not match the format version");
    return std::string_view(state_);
  }

 private:
  std::string state_;
  bool whole_ = false;
  int parts_ = 0;
};

}  // namespace

ArchiveWriter::ArchiveWriter(Sink sink, int64_t mtime, size_t part_bytes)
    : gz_(std::make_unique<archive::GzipWriter>(std::move(sink), 1)), mtime_(mtime), part_bytes_(part_bytes) {
  part_.reserve(part_bytes_);
}

ArchiveWriter::~ArchiveWriter() = default;

Status ArchiveWriter::Add(std::string_view key, std::string_view value) {
  char k[4], v[4];
  PutU32(k, static_cast<uint32_t>(key.size()));
  PutU32(v, static_cast<uint32_t>(value.size()));
  SB_RETURN_IF_ERROR(Append(std::string_view(k, 4)));
  SB_RETURN_IF_ERROR(Append(key));
  SB_RETURN_IF_ERROR(Append(std::string_view(v, 4)));
  SB_RETURN_IF_ERROR(Append(value));
  ++entries_;
  return Status::Ok();
}

// Fills the current part, writing each one that fills up.
Status ArchiveWriter::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), part_bytes_ - part_.size());
    part_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (part_.size() == part_bytes_) SB_RETURN_IF_ERROR(WritePart());
  }
  return Status::Ok();
}

Status ArchiveWriter::WritePart() {
  state_sum_.Update(part_);
  SB_RETURN_IF_ERROR(WriteFile(PartName(parts_++), part_));
  part_.clear();
  return Status::Ok();
}

Status ArchiveWriter::WriteFile(std::string_view name, std::string_view data) {
  SB_RETURN_IF_ERROR(gz_->Write(archive::TarHeader(name, data.size(), mtime_)));
  SB_RETURN_IF_ERROR(gz_->Write(data));
  return gz_->Write(archive::TarPadding(data.size()));
}

Status ArchiveWriter::Finish(Manifest manifest, const std::function<Result<std::string>(std::string_view)>& seal) {
  // The last part, possibly empty: a reader always finds one.
  SB_RETURN_IF_ERROR(WritePart());
  manifest.entries = entries_;
  const std::string meta = Json{{"sealbox_snapshot_version", manifest.version},
                                {"cluster_id", manifest.cluster_id},
                                {"storage_type", manifest.storage_type},
                                {"created_unix", manifest.created_unix},
                                {"entries", manifest.entries}}
                               .dump();
  const std::string sums = SumsFor(crypto::Sha256(meta), state_sum_.Finish());
  SB_ASSIGN_OR_RETURN(std::string sealed, seal(sums));
  if (sealed.empty()) return Internal("sealed checksums are empty");
  SB_RETURN_IF_ERROR(WriteFile(kMetaFile, meta));
  SB_RETURN_IF_ERROR(WriteFile(kSumsFile, sums));
  SB_RETURN_IF_ERROR(WriteFile(kSealedSumsFile, sealed));
  SB_RETURN_IF_ERROR(gz_->Write(archive::TarEnd()));
  return gz_->Finish();
}

Result<Contents> ReadArchive(std::string_view archive, size_t max_state_bytes) {
  auto tar = archive::Gunzip(archive, max_state_bytes + (size_t{1} << 20));
  if (!tar.ok() && tar.status().code() == StatusCode::kTooLarge)
    return Status(StatusCode::kTooLarge, "snapshot is larger than this server accepts");
  if (!tar.ok()) return Bad(tar.status().message());
  auto files = archive::ReadTar(*tar);
  if (!files.ok()) return Bad(files.status().message());
  const std::string* meta = nullptr;
  StateCollector state;
  Contents c;
  for (auto& [name, data] : *files) {
    SB_ASSIGN_OR_RETURN(bool is_state, state.Take(name, data));
    if (is_state) continue;
    if (name == kMetaFile) meta = &data;
    else if (name == kSumsFile) c.sums = data;
    else if (name == kSealedSumsFile) c.sealed_sums = data;
  }
  if (!meta || !state.found()) return Bad("not a Sealbox snapshot (no meta.json or state.sealbox; a raft snapshot?)");
  if (c.sums.empty() || c.sealed_sums.empty()) return Bad("checksum files missing");
  SB_ASSIGN_OR_RETURN(c.manifest, ParseManifest(*meta));
  SB_ASSIGN_OR_RETURN(std::string_view state_bytes, state.State(c.manifest.version));
  if (c.sums != SumsFor(crypto::Sha256(*meta), crypto::Sha256(state_bytes)))
    return Bad("checksum mismatch (the file was altered or damaged)");
  SB_ASSIGN_OR_RETURN(c.entries, ParseState(state_bytes, c.manifest.entries));
  return c;
}

}  // namespace sealbox::snapshot
