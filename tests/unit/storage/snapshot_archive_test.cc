#include "storage/snapshot_archive.h"

#include <gtest/gtest.h>

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

std::string Build(const std::vector<std::pair<std::string, std::string>>& entries) {
  ArchiveBuilder b;
  for (const auto& [k, v] : entries) EXPECT_TRUE(b.Add(k, v).ok());
  Manifest m;
  m.cluster_id = "c-1";
  m.storage_type = "rocksdb";
  m.created_unix = 1700000000;
  auto out = b.Finish(m, Reverse);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return *out;
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
    if (name == "state.sealbox") data.back() ^= 1;
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
  const std::string meta = R"({"sealbox_snapshot_version":2,"entries":0})";
  // Checksums made consistent, so the version is what refuses it.
  const std::string sums = crypto::HexEncode(crypto::Sha256(meta)) + "  meta.json\n" +
                           crypto::HexEncode(crypto::Sha256("")) + "  state.sealbox\n";
  for (auto& [name, data] : files) {
    if (name == "meta.json") data = meta;
    if (name == "SHA256SUMS") data = sums;
  }
  auto c = ReadArchive(*Gzip(WriteTar(files, 0)));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("format version 2 is not supported"), std::string::npos)
      << c.status().message();
}

TEST(SnapshotArchive, SizeLimitsHold) {
  ArchiveBuilder small(64);
  EXPECT_TRUE(small.Add("k", std::string(40, 'v')).ok());
  EXPECT_EQ(small.Add("k2", std::string(40, 'v')).code(), StatusCode::kTooLarge);
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
