// Values printed as the vault CLI prints them (Go's %v, humanDuration).
#include "cli/output.h"

#include <gtest/gtest.h>

namespace sealbox::cli {
namespace {

TEST(HumanDurationTest, TrimsZeroUnitsAsVault) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(45), "45s");
  EXPECT_EQ(HumanDuration(60), "1m");
  EXPECT_EQ(HumanDuration(90), "1m30s");
  EXPECT_EQ(HumanDuration(3600), "1h");
  EXPECT_EQ(HumanDuration(3601), "1h1s");
  EXPECT_EQ(HumanDuration(3660), "1h1m");
  EXPECT_EQ(HumanDuration(2764800), "768h");
  EXPECT_EQ(HumanDuration(2764799), "767h59m59s");
}

TEST(GoValueTest, PrintsAsGoPercentV) {
  EXPECT_EQ(GoValue(Json("x")), "x");
  EXPECT_EQ(GoValue(Json()), "<nil>");
  EXPECT_EQ(GoValue(Json::array({"a", 1, true})), "[a 1 true]");
  EXPECT_EQ(GoValue(Json{{"b", "c"}, {"a", nullptr}}), "map[a:<nil> b:c]");
  EXPECT_EQ(GoQuoted(Json::array({"default", "x"})), "[\"default\" \"x\"]");
  EXPECT_EQ(GoQuoted(Json()), "[]");
}

TEST(PadEqualSignsTest, CentresTheHeader) {
  EXPECT_EQ(PadEqualSigns("Secret Path", 13), "== Secret Path ==");
  EXPECT_EQ(PadEqualSigns("Metadata", 24), "======= Metadata =======");
  EXPECT_EQ(PadEqualSigns("Data", 9), "== Data ==");
}

TEST(SecretJsonTest, HasVaultsFieldsWhateverTheServerSent) {
  Json s = SecretJson(Json{{"data", {{"k", "v"}}}, {"mount_type", "kv"}});
  EXPECT_EQ(s["lease_id"], "");
  EXPECT_EQ(s["lease_duration"], 0);
  EXPECT_EQ(s["renewable"], false);
  EXPECT_TRUE(s["warnings"].is_null());
  EXPECT_FALSE(s.contains("auth"));
  EXPECT_FALSE(s.contains("mount_type"));
  Json a = SecretJson(Json{{"auth", {{"client_token", "t"}}}})["auth"];
  EXPECT_EQ(a["client_token"], "t");
  EXPECT_EQ(a["orphan"], false);
  EXPECT_TRUE(a["identity_policies"].is_null());
}

}  // namespace
}  // namespace sealbox::cli
