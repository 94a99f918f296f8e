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
  if (rc == Z_MEM_ERROR) return Status(StatusCode::kTooLarge, "archive is larger than " + std::to_string(max_bytes) + " bytes");
  if (rc != Z_STREAM_END || trailing) return Bad("not a complete gzip stream");
  return out;
}

}  // namespace sealbox::archive
