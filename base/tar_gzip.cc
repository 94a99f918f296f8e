#include "base/tar_gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace sealbox::archive {
namespace {

constexpr size_t kBlock = 512;

Status Bad(const std::string& why) { return InvalidArgument(why); }

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

constexpr char kZeros[2 * kBlock] = {};

}  // namespace

std::string TarHeader(std::string_view name, uint64_t size, int64_t mtime) {
  std::string h(kBlock, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 99));
  PutOctal(h.data() + 100, 8, 0600);
  PutOctal(h.data() + 108, 8, 0);
  PutOctal(h.data() + 116, 8, 0);
  PutOctal(h.data() + 124, 12, size);
  PutOctal(h.data() + 136, 12, static_cast<uint64_t>(mtime < 0 ? 0 : mtime));
  h[156] = '0';
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  PutOctal(h.data() + 148, 7, HeaderChecksum(h.data()));  // six digits, NUL, then a space (as tar writes it)
  h[155] = ' ';
  return h;
}

std::string_view TarPadding(uint64_t size) { return std::string_view(kZeros, (kBlock - size % kBlock) % kBlock); }

std::string_view TarEnd() { return std::string_view(kZeros, sizeof kZeros); }

std::string WriteTar(const std::vector<std::pair<std::string, std::string>>& files, int64_t mtime) {
  std::string out;
  for (const auto& [name, data] : files) {
    out += TarHeader(name, data.size(), mtime);
    out += data;
    out += TarPadding(data.size());
  }
  out += TarEnd();
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

struct GzipWriter::Stream {
  z_stream zs{};
  bool open = false;
};

GzipWriter::GzipWriter(Sink sink, int level) : z_(std::make_unique<Stream>()), sink_(std::move(sink)) {
  z_->open = deflateInit2(&z_->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  if (!z_->open) status_ = Internal("cannot start compression");
}

GzipWriter::~GzipWriter() {
  if (z_->open) deflateEnd(&z_->zs);
}

Status GzipWriter::Write(std::string_view data) { return Deflate(data, Z_NO_FLUSH); }

Status GzipWriter::Finish() {
  SB_RETURN_IF_ERROR(Deflate({}, Z_FINISH));
  deflateEnd(&z_->zs);
  z_->open = false;
  status_ = Internal("the gzip stream is finished");
  return Status::Ok();
}

Status GzipWriter::Deflate(std::string_view data, int flush) {
  if (!status_.ok()) return status_;
  z_stream& zs = z_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());  // callers write far less than 4 GiB at once
  int rc = Z_OK;
  do {
    piece_.resize(kPieceBytes);
    zs.next_out = reinterpret_cast<Bytef*>(piece_.data());
    zs.avail_out = static_cast<uInt>(piece_.size());
    rc = deflate(&zs, flush);
    if (rc == Z_STREAM_ERROR) return status_ = Internal("compression failed");
    piece_.resize(kPieceBytes - zs.avail_out);
    if (!piece_.empty()) {
      if (Status s = sink_(piece_); !s.ok()) return status_ = s;
    }
  } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  return Status::Ok();
}

Result<std::string> Gzip(std::string_view data) {
  std::string out;
  GzipWriter gz([&out](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  });
  SB_RETURN_IF_ERROR(gz.Write(data));
  SB_RETURN_IF_ERROR(gz.Finish());
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
  if (rc == Z_MEM_ERROR) return Status(StatusCode::kTooLarge, "archive is larger than " + std::to_string(max_bytes) + " bytes");
  if (rc != Z_STREAM_END || trailing) return Bad("not a complete gzip stream");
  return out;
}

}  // namespace sealbox::archive
