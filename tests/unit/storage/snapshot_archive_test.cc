#include "storage/snapshot_archive.h"

#include <gtest/gtest.h>

#include <random>

#include "base/crypto.h"
#include "base/tar_gzip.h"

namespace sealbox::snapshot {
namespace {

using archive::Gunzip;
using archive::Gzip;
using archive::ReadTar;
using archive::WriteTar;

// A stand-in for the barrier: "sealed" = reversed text.
Result<std::string> Reverse(std::string_view s) { return std::string(s.rbegin(), s.rend()); }

Manifest TestManifest() {
  Manifest m;
  m.cluster_id = "c-1";
  m.storage_type = "rocksdb";
  m.created_unix = 1700000000;
  return m;
}

// The archive, streamed into a string; `largest_piece` (if any) gets the
// largest piece the sink was handed.
std::string Build(const std::vector<std::pair<std::string, std::string>>& entries, size_t part_bytes = kStatePartBytes,
                  size_t* largest_piece = nullptr) {
  std::string out;
  ArchiveWriter w(
      [&](std::string_view piece) {
        out.append(piece);
        if (largest_piece) *largest_piece = std::max(*largest_piece, piece.size());
        return Status::Ok();
      },
      1700000000, part_bytes);
  for (const auto& [k, v] : entries) EXPECT_TRUE(w.Add(k, v).ok());
  Status s = w.Finish(TestManifest(), Reverse);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<std::string> NamesIn(const std::string& archive) {
  std::vector<std::string> names;
  auto tar = Gunzip(archive, 64 << 20);
  if (!tar.ok()) return names;
  auto files = ReadTar(*tar);
  if (!files.ok()) return names;
  for (const auto& file : *files) names.push_back(file.first);
  return names;
}

TEST(SnapshotArchive, RoundTripsEntriesAndManifest) {
  std::vector<std::pair<std::string, std::string>> entries = {
      {"core/keyring", std::string("\0\x01\xff binary", 10)}, {"core/seal-config", "{}"}, {"logical/x/a", ""}};
  auto c = ReadArchive(Build(entries));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->entries, entries);
  EXPECT_EQ(c->manifest.version, kFormatVersion);
  EXPECT_EQ(c->manifest.cluster_id, "c-1");
  EXPECT_EQ(c->manifest.storage_type, "rocksdb");
  EXPECT_EQ(c->manifest.created_unix, 1700000000);
  EXPECT_EQ(c->manifest.entries, 3u);
  EXPECT_EQ(c->sealed_sums, *Reverse(c->sums));
  EXPECT_NE(c->sums.find("  state.sealbox\n"), std::string::npos);
}

TEST(SnapshotArchive, SealedSumsIsTheLastFileAsVaultsCliExpects) {
  auto tar = Gunzip(Build({{"k", "v"}}), 1 << 20);
  ASSERT_TRUE(tar.ok());
  auto files = ReadTar(*tar);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ(files->back().first, kSealedSumsFile);
  EXPECT_FALSE(files->back().second.empty());
}

TEST(SnapshotArchive, TheStateIsCutIntoPartsThatRecordsMaySpan) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 40; ++i) entries.emplace_back("k" + std::to_string(100 + i), std::string(100 + i, 'a' + i % 26));
  size_t largest_piece = 0;
  const std::string archive = Build(entries, 1000, &largest_piece);
  const auto names = NamesIn(archive);
  // ~4.7 KB of records in 1000-byte parts: five full parts and a short one.
  ASSERT_EQ(names.size(), 9u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(names[i], "state.sealbox.00000" + std::to_string(i));
  EXPECT_EQ(names[6], "meta.json");
  EXPECT_EQ(names[8], kSealedSumsFile);
  EXPECT_LE(largest_piece, archive::GzipWriter::kPieceBytes);
  auto c = ReadArchive(archive);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->entries, entries);
  EXPECT_EQ(c->manifest.entries, 40u);
}

TEST(SnapshotArchive, AValueLargerThanAPartStreamsInBoundedPieces) {
  const std::string big(3 << 20, 'x');
  size_t largest_piece = 0;
  const std::string archive = Build({{"a", big}, {"b", "small"}}, 1 << 20, &largest_piece);
  EXPECT_LE(largest_piece, archive::GzipWriter::kPieceBytes);
  auto c = ReadArchive(archive);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->entries.size(), 2u);
  EXPECT_EQ(c->entries[0].second, big);
}

TEST(SnapshotArchive, MissingOrReorderedPartsAreRefused) {
  const std::string archive = Build({{"a", std::string(2500, 'x')}}, 1000);
  auto files = *ReadTar(*Gunzip(archive, 1 << 20));
  ASSERT_EQ(files[1].first, "state.sealbox.000001");
  auto dropped = files;
  dropped.erase(dropped.begin() + 1);
  auto c = ReadArchive(*Gzip(WriteTar(dropped, 0)));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("state parts missing or out of order"), std::string::npos);
  std::swap(files[0], files[1]);
  EXPECT_FALSE(ReadArchive(*Gzip(WriteTar(files, 0))).ok());
}

TEST(SnapshotArchive, FormatOneArchivesAreStillRead) {
  const std::vector<std::pair<std::string, std::string>> entries = {{"core/keyring", "k"}, {"z", "v"}};
  std::string state;
  for (const auto& [k, v] : entries) {
    for (const std::string* s : {&k, &v}) {
      const uint32_t n = static_cast<uint32_t>(s->size());
      state += std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                           static_cast<char>(n)};
      state += *s;
    }
  }
  const std::string meta = R"({"sealbox_snapshot_version":1,"cluster_id":"c-0","entries":2})";
  const std::string sums = crypto::HexEncode(crypto::Sha256(meta)) + "  meta.json\n" +
                           crypto::HexEncode(crypto::Sha256(state)) + "  state.sealbox\n";
  auto c = ReadArchive(*Gzip(WriteTar(
      {{"meta.json", meta}, {"state.sealbox", state}, {"SHA256SUMS", sums}, {kSealedSumsFile, *Reverse(sums)}}, 0)));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->entries, entries);
  EXPECT_EQ(c->manifest.version, 1);
}

TEST(SnapshotArchive, ASinkErrorStopsTheWriter) {
  int calls = 0;
  ArchiveWriter w(
      [&](std::string_view) {
        ++calls;
        return Unavailable("the reader went away");
      },
      0, 1000);
  // Ciphertext-like values: gzip has output to hand over long before the end.
  std::mt19937 random(7);
  std::string value(2000, '\0');
  Status s = Status::Ok();
  for (int i = 0; i < 1000 && s.ok(); ++i) {
    for (char& c : value) c = static_cast<char>(random());
    s = w.Add("k" + std::to_string(1000 + i), value);
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(w.Finish(TestManifest(), Reverse).code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST(SnapshotArchive, TruncationAnywhereIsRefused) {
  const std::string a = Build({{"a", std::string(3000, 'x')}, {"b", "y"}});
  for (size_t cut : {size_t{0}, size_t{10}, a.size() / 2, a.size() - 8, a.size() - 1}) {
    auto c = ReadArchive(std::string_view(a).substr(0, cut));
    EXPECT_FALSE(c.ok()) << "cut at " << cut;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SnapshotArchive, AlteredStateFailsItsChecksum) {
  auto tar = Gunzip(Build({{"a", "secret-ciphertext"}}), 1 << 20);
  ASSERT_TRUE(tar.ok());
  auto files = *ReadTar(*tar);
  for (auto& [name, data] : files)
    if (name == "state.sealbox.000000") data.back() ^= 1;
  auto c = ReadArchive(*Gzip(WriteTar(files, 0)));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("checksum mismatch"), std::string::npos);
}

TEST(SnapshotArchive, DamagedTarHeaderIsRefused) {
  auto tar = *Gunzip(Build({{"a", "b"}}), 1 << 20);
  tar[0] ^= 0x20;  // a name byte: the header checksum no longer matches
  auto c = ReadArchive(*Gzip(tar));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("header damaged"), std::string::npos);
}

TEST(SnapshotArchive, ARaftSnapshotOrOtherArchiveIsNotOurs) {
  auto c = ReadArchive(*Gzip(WriteTar({{"meta.json", "{}"}, {"state.bin", "raft"}, {"SHA256SUMS", "x"}}, 0)));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("not a Sealbox snapshot"), std::string::npos);
  EXPECT_FALSE(ReadArchive("plain text, not gzip").ok());
}

TEST(SnapshotArchive, AnotherFormatVersionIsRefused) {
  auto files = *ReadTar(*Gunzip(Build({}), 1 << 20));
  const std::string meta = R"({"sealbox_snapshot_version":3,"entries":0})";
  // Checksums made consistent, so the version is what refuses it.
  const std::string sums = crypto::HexEncode(crypto::Sha256(meta)) + "  meta.json\n" +
                           crypto::HexEncode(crypto::Sha256("")) + "  state.sealbox\n";
  for (auto& [name, data] : files) {
    if (name == "meta.json") data = meta;
    if (name == "SHA256SUMS") data = sums;
  }
  auto c = ReadArchive(*Gzip(WriteTar(files, 0)));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("format version 3 is not supported"), std::string::npos)
      << c.status().message();
}

TEST(SnapshotArchive, SizeLimitsHold) {
  EXPECT_EQ(ReadArchive(Build({{"k", std::string(2 << 20, 'v')}}), 1000).status().code(), StatusCode::kTooLarge);
  // A gzip bomb stops at the bound instead of filling memory.
  auto bomb = Gzip(std::string(4 << 20, '\0'));
  ASSERT_TRUE(bomb.ok());
  EXPECT_EQ(Gunzip(*bomb, 1 << 20).status().code(), StatusCode::kTooLarge);
}

TEST(SnapshotArchive, TarHeadersAreUstarWithChecksum) {
  std::string tar = WriteTar({{"f", "hello"}}, 5);
  ASSERT_EQ(tar.size(), 512u * 4);
  EXPECT_EQ(tar.substr(257, 5), "ustar");
  EXPECT_EQ(tar.substr(124, 12), std::string("00000000005") + '\0');
  auto files = ReadTar(tar);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ((*files)[0], std::make_pair(std::string("f"), std::string("hello")));
}

}  // namespace
}  // namespace sealbox::snapshot
