#include "storage/snapshot_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sealbox::snapshot {
namespace {

class SnapshotDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sb-snapdir-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    target_ = {root_ + "/snaps", "sb", 2, 0};
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::vector<int64_t> Stamps() {
    auto files = ListSnapshotFiles(target_.directory, "sb");
    EXPECT_TRUE(files.ok());
    std::vector<int64_t> out;
    for (const auto& f : *files) out.push_back(f.stamp);
    return out;
  }
  std::string root_;
  LocalTarget target_;
};

TEST_F(SnapshotDirectoryTest, WritesPrivateFilesAndKeepsTheNewestRetain) {
  for (int64_t stamp : {30, 10, 20, 40}) ASSERT_TRUE(WriteSnapshotFile(target_, "data", stamp).ok());
  // Each write removes the oldest beyond retain; 10 was the oldest when 20 came.
  EXPECT_EQ(Stamps(), (std::vector<int64_t>{30, 40}));
  struct stat st {};
  ASSERT_EQ(::stat(target_.directory.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((target_.directory + "/sb-40.snap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(target_.directory + "/sb-40.snap");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "data");
}

TEST_F(SnapshotDirectoryTest, OtherFilesAreNeitherListedNorRemoved) {
  ASSERT_TRUE(WriteSnapshotFile(target_, "a", 1).ok());
  for (const char* name : {"other-5.snap", "sb-x.snap", ".sb-9.snap.tmp", "sb-3.snap.bak", "sb-9999999999999999999.snap"})
    std::ofstream(target_.directory + "/" + name) << "keep";
  ASSERT_TRUE(WriteSnapshotFile(target_, "b", 2).ok());
  ASSERT_TRUE(WriteSnapshotFile(target_, "c", 3).ok());
  EXPECT_EQ(Stamps(), (std::vector<int64_t>{2, 3}));
  for (const char* name : {"other-5.snap", "sb-x.snap", ".sb-9.snap.tmp", "sb-3.snap.bak", "sb-9999999999999999999.snap"})
    EXPECT_TRUE(std::filesystem::exists(target_.directory + "/" + name)) << name;
}

TEST_F(SnapshotDirectoryTest, MaxSpaceCountsWhatStaysAndRefusesBeyondIt) {
  target_.max_space = 10;
  ASSERT_TRUE(WriteSnapshotFile(target_, "12345", 1).ok());
  // Retain 2: the file kept (5) plus the new one (5) fits exactly.
  ASSERT_TRUE(WriteSnapshotFile(target_, "12345", 2).ok());
  auto refused = WriteSnapshotFile(target_, "123456", 3);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("local_max_space"), std::string::npos);
  EXPECT_EQ(Stamps(), (std::vector<int64_t>{1, 2}));  // nothing written, nothing removed
}

TEST_F(SnapshotDirectoryTest, ErrorsNameTheDirectory) {
  std::ofstream(root_ + "/file") << "x";
  target_.directory = root_ + "/file/sub";
  auto r = WriteSnapshotFile(target_, "data", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(root_ + "/file/sub"), std::string::npos);
  EXPECT_EQ(r.status().message().find("data"), std::string::npos);
}

TEST_F(SnapshotDirectoryTest, ValidatesTheTarget) {
  EXPECT_FALSE(ValidateLocalTarget({"relative", "sb", 1, 0}).ok());
  EXPECT_FALSE(ValidateLocalTarget({"/abs", "a/b", 1, 0}).ok());
  EXPECT_FALSE(ValidateLocalTarget({"/abs", ".hidden", 1, 0}).ok());
  EXPECT_FALSE(ValidateLocalTarget({"/abs", "sb", 0, 0}).ok());
  EXPECT_TRUE(ValidateLocalTarget({"/abs", "sb", 1, 0}).ok());
}

}  // namespace
}  // namespace sealbox::snapshot
