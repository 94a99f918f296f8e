#include "base/tar_gzip.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace sealbox::archive {
namespace {

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(random());
  return s;
}

TEST(GzipWriter, StreamsInBoundedPiecesThatGunzipBack) {
  const std::string data = RandomBytes(1 << 20, 1) + std::string(1 << 20, 'z');
  std::string out;
  size_t pieces = 0, largest = 0;
  GzipWriter gz(
      [&](std::string_view piece) {
        out.append(piece);
        ++pieces;
        largest = std::max(largest, piece.size());
        return Status::Ok();
      },
      1);
  for (size_t at = 0; at < data.size(); at += 10000) ASSERT_TRUE(gz.Write(std::string_view(data).substr(at, 10000)).ok());
  // Incompressible input comes out as it goes in, not all at the end.
  EXPECT_GT(pieces, 8u);
  ASSERT_TRUE(gz.Finish().ok());
  EXPECT_LE(largest, GzipWriter::kPieceBytes);
  auto back = Gunzip(out, 4 << 20);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(gz.Write("more").ok());
}

TEST(GzipWriter, AStreamCutBeforeFinishIsNotAWholeGzip) {
  std::string out;
  {
    GzipWriter gz([&](std::string_view piece) {
      out.append(piece);
      return Status::Ok();
    });
    ASSERT_TRUE(gz.Write(RandomBytes(300000, 2)).ok());
  }
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(Gunzip(out, 1 << 20).status().code(), StatusCode::kInvalidArgument);
}

TEST(GzipWriter, ASinkErrorIsReturnedFromThenOn) {
  GzipWriter gz([](std::string_view) { return Unavailable("gone"); }, 1);
  Status s = gz.Write(RandomBytes(200000, 3));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(gz.Write("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(gz.Finish().code(), StatusCode::kUnavailable);
}

TEST(TarPieces, MakeTheSameArchiveAsWriteTar) {
  const std::vector<std::pair<std::string, std::string>> files = {{"a", "hello"}, {"b", std::string(512, 'x')}, {"c", ""}};
  std::string pieces;
  for (const auto& [name, data] : files) {
    pieces += TarHeader(name, data.size(), 42);
    pieces += data;
    pieces += TarPadding(data.size());
  }
  pieces += TarEnd();
  EXPECT_EQ(pieces, WriteTar(files, 42));
  EXPECT_EQ(TarPadding(512).size(), 0u);
  EXPECT_EQ(TarPadding(1).size(), 511u);
  auto back = ReadTar(pieces);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, files);
}

}  // namespace
}  // namespace sealbox::archive
