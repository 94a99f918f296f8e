// The CLI's flag parser follows Go's flag package (the vault CLI's): typed
// values checked while parsing, booleans that never take the next argument,
// repeatable flags, and parsing that stops at the first positional argument.
#include "cli/flags.h"

#include <gtest/gtest.h>

namespace sealbox::cli {
namespace {

using T = FlagType;

FlagSet Flags() {
  return FlagSet({{"format", T::kString, "", "table"},
                  {"use-limit", T::kInt, "", ""},
                  {"accessor", T::kBool, "", "false"},
                  {"renewable", T::kBool, "", "true"},
                  {"ttl", T::kDuration, "", ""},
                  {"policy", T::kStrings, "", ""}});
}

ParsedArgs MustParse(const std::vector<std::string>& args) {
  auto p = Flags().Parse(args);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : ParsedArgs{};
}

std::string ParseError(const std::vector<std::string>& args) {
  auto p = Flags().Parse(args);
  EXPECT_FALSE(p.ok());
  return p.ok() ? "" : p.status().message();
}

TEST(FlagSetTest, ValueFormsAreEquivalent) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-format=json", "x"}, {"-format", "json", "x"}, {"--format=json", "x"}, {"--format", "json", "x"}}) {
    auto p = MustParse(args);
    EXPECT_EQ(p.flags.String("format"), "json");
    EXPECT_EQ(p.args, std::vector<std::string>{"x"});
  }
}

TEST(FlagSetTest, DefaultsApplyWhenAbsent) {
  auto p = MustParse({});
  EXPECT_FALSE(p.flags.Has("format"));
  EXPECT_EQ(p.flags.String("format"), "table");
  EXPECT_TRUE(p.flags.Bool("renewable"));
  EXPECT_FALSE(p.flags.Bool("accessor"));
}

TEST(FlagSetTest, BooleanNeverSwallowsTheNextArgument) {
  auto p = MustParse({"-accessor", "abc123"});
  EXPECT_TRUE(p.flags.Bool("accessor"));
  EXPECT_EQ(p.args, std::vector<std::string>{"abc123"});
  p = MustParse({"-renewable=false", "x"});
  EXPECT_FALSE(p.flags.Bool("renewable"));
  EXPECT_EQ(p.args, std::vector<std::string>{"x"});
}

TEST(FlagSetTest, RepeatedFlagsAccumulate) {
  auto p = MustParse({"-policy=a", "-policy", "b", "--policy=c,d"});
  EXPECT_EQ(p.flags.Strings("policy"), (std::vector<std::string>{"a", "b", "c,d"}));
}

TEST(FlagSetTest, LastValueWinsForSingleFlags) {
  EXPECT_EQ(MustParse({"-format=json", "-format=yaml"}).flags.String("format"), "yaml");
}

TEST(FlagSetTest, ParsingStopsAtFirstPositional) {
  auto p = MustParse({"-format=json", "secret/x", "-use-limit=abc", "k=v"});
  EXPECT_FALSE(p.flags.Has("use-limit"));
  EXPECT_EQ(p.args, (std::vector<std::string>{"secret/x", "-use-limit=abc", "k=v"}));
  EXPECT_EQ(FlagLikeArgs(p.args), std::vector<std::string>{"-use-limit=abc"});
}

TEST(FlagSetTest, DoubleDashEndsFlagsAndDashIsPositional) {
  auto p = MustParse({"--", "-accessor"});
  EXPECT_FALSE(p.flags.Has("accessor"));
  EXPECT_EQ(p.args, std::vector<std::string>{"-accessor"});
  p = MustParse({"-", "x"});
  EXPECT_EQ(p.args, (std::vector<std::string>{"-", "x"}));
}

TEST(FlagSetTest, TypedValuesAreCheckedWhileParsing) {
  EXPECT_EQ(ParseError({"-use-limit=abc"}), "invalid value \"abc\" for flag -use-limit: not an integer");
  EXPECT_NE(ParseError({"-ttl=soon"}).find("for flag -ttl"), std::string::npos);
  EXPECT_NE(ParseError({"-renewable=maybe"}).find("for flag -renewable"), std::string::npos);
  auto p = MustParse({"-use-limit=-3", "-ttl=1h30m"});
  EXPECT_EQ(p.flags.Int("use-limit"), -3);
  EXPECT_EQ(p.flags.Seconds("ttl"), 5400);
  EXPECT_EQ(MustParse({"-ttl=90"}).flags.Seconds("ttl"), 90);
}

TEST(FlagSetTest, UnknownMissingAndMalformed) {
  EXPECT_EQ(ParseError({"-x"}), "flag provided but not defined: -x");
  EXPECT_EQ(ParseError({"--nope=1"}), "flag provided but not defined: -nope");
  EXPECT_EQ(ParseError({"-format"}), "flag needs an argument: -format");
  EXPECT_EQ(ParseError({"---format=json"}), "bad flag syntax: ---format=json");
  EXPECT_EQ(ParseError({"-=x"}), "bad flag syntax: -=x");
}

TEST(FlagSetTest, ValueMayStartWithDash) {
  EXPECT_EQ(MustParse({"-format", "-json"}).flags.String("format"), "-json");
}

TEST(WantsHelpTest, AnyHelpSpellingBeforeDoubleDash) {
  EXPECT_TRUE(WantsHelp({"-h"}));
  EXPECT_TRUE(WantsHelp({"secret/x", "-help"}));
  EXPECT_TRUE(WantsHelp({"-format=json", "--help"}));
  EXPECT_FALSE(WantsHelp({"--", "-h"}));
  EXPECT_FALSE(WantsHelp({"k=-h", "-hx"}));
}

}  // namespace
}  // namespace sealbox::cli
