// Unit tests for auth/policy and auth/acl: policy parsing (HCL and JSON, error
// messages), the §5.3 merge and precedence algorithm as a decision table, the
// §5.4 parameter rules, Capabilities() and the mounts preflight check.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/acl.h"
#include "auth/policy.h"

namespace sealbox::auth {
namespace {

using logical::Operation;

constexpr Operation kRead = Operation::kRead;
constexpr Operation kList = Operation::kList;
constexpr Operation kCreate = Operation::kCreate;
constexpr Operation kUpdate = Operation::kUpdate;
constexpr Operation kPatch = Operation::kPatch;
constexpr Operation kDelete = Operation::kDelete;
constexpr Operation kRenew = Operation::kRenew;
constexpr Operation kRevoke = Operation::kRevoke;
constexpr Operation kHelp = Operation::kHelp;

std::shared_ptr<const Policy> MustParse(const std::string& name, const std::string& text) {
  auto p = ParsePolicy(name, text);
  EXPECT_TRUE(p.ok()) << name << ": " << p.status().message();
  if (!p.ok()) return std::make_shared<const Policy>();
  return std::make_shared<const Policy>(std::move(p).value());
}

// Policies are named p0, p1, ... in order.
std::shared_ptr<const Acl> CompileAll(const std::vector<std::string>& texts) {
  std::vector<std::shared_ptr<const Policy>> ps;
  for (size_t i = 0; i < texts.size(); ++i) ps.push_back(MustParse("p" + std::to_string(i), texts[i]));
  return Acl::Compile(ps, /*is_root=*/false);
}

Json Data(const char* json) { return json == nullptr ? Json(nullptr) : Json::parse(json); }

// ---------------------------------------------------------------------------
// The decision table.

struct AclCase {
  const char* name;
  std::vector<std::string> policies;
  const char* path;
  Operation op;
  const char* data;  // JSON text, or nullptr for no data
  bool sudo;
  bool allowed;
};

void PrintTo(const AclCase& c, std::ostream* os) { *os << c.name; }

class AclTableTest : public ::testing::TestWithParam<AclCase> {};

TEST_P(AclTableTest, Decides) {
  const AclCase& c = GetParam();
  auto acl = CompileAll(c.policies);
  AclResult r = acl->AllowOperation(c.path, c.op, Data(c.data), c.sudo);
  EXPECT_EQ(r.allowed, c.allowed) << c.name << " path=" << c.path;
  EXPECT_FALSE(r.is_root);
  if (!r.allowed) {
    EXPECT_TRUE(r.granting_policies.empty());
  }
}

const AclCase kCases[] = {
    // --- Exact patterns and default deny.
    {"ExactRead", {R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo", kRead, nullptr, false, true},
    {"ExactDoesNotMatchChild", {R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo/bar", kRead, nullptr, false, false},
    {"ExactDoesNotMatchLonger", {R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foobar", kRead, nullptr, false, false},
    {"NoMatchDefaultDeny", {R"(path "secret/foo" { capabilities = ["read"] })"}, "other/foo", kRead, nullptr, false, false},
    {"OpNotGranted", {R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo", kUpdate, nullptr, false, false},
    {"PolicyLeadingSlashRemoved", {R"(path "/secret/foo" { capabilities = ["read"] })"}, "secret/foo", kRead, nullptr, false, true},
    {"RequestLeadingSlashIgnored", {R"(path "secret/foo" { capabilities = ["read"] })"}, "/secret/foo", kRead, nullptr, false, true},
    {"EmptyBlockGrantsNothing", {R"(path "secret/foo" {})"}, "secret/foo", kRead, nullptr, false, false},
    {"SubscribeRecoverGrantNothing", {R"(path "secret/foo" { capabilities = ["subscribe", "recover"] })"}, "secret/foo", kRead, nullptr, false, false},
    {"DenyAmongOthersIsDenyOnly", {R"(path "secret/foo" { capabilities = ["read", "deny", "update"] })"}, "secret/foo", kRead, nullptr, false, false},

    // --- Prefix globs: '*' only at the end, plain string prefix.
    {"PrefixMatchesDeep", {R"(path "secret/*" { capabilities = ["read"] })"}, "secret/a/b/c", kRead, nullptr, false, true},
    {"PrefixIsPlainStringPrefix", {R"(path "secret/fo*" { capabilities = ["read"] })"}, "secret/foo/bar", kRead, nullptr, false, true},
    {"PrefixNoMatch", {R"(path "secret/fo*" { capabilities = ["read"] })"}, "secret/bar", kRead, nullptr, false, false},
    {"StarInMiddleIsLiteral", {R"(path "secret/*/x" { capabilities = ["read"] })"}, "secret/a/x", kRead, nullptr, false, false},
    {"StarInMiddleLiteralMatch", {R"(path "secret/*/x" { capabilities = ["read"] })"}, "secret/*/x", kRead, nullptr, false, true},
    {"RootGlobMatchesAll", {R"(path "*" { capabilities = ["read"] })"}, "anything/at/all", kRead, nullptr, false, true},
    {"LongestPrefixDenyWins", {R"(path "secret/*" { capabilities = ["read"] })", R"(path "secret/a/*" { capabilities = ["deny"] })"}, "secret/a/b", kRead, nullptr, false, false},
    {"LongestPrefixGrantWins", {R"(path "secret/*" { capabilities = ["deny"] })", R"(path "secret/a/*" { capabilities = ["read"] })"}, "secret/a/b", kRead, nullptr, false, true},
    {"DenyOnGlobDoesNotOverrideExact", {R"(path "secret/*" { capabilities = ["deny"] }
                                           path "secret/foo" { capabilities = ["read"] })"}, "secret/foo", kRead, nullptr, false, true},
    {"DenyOnGlobAppliesElsewhere", {R"(path "secret/*" { capabilities = ["deny"] }
                                       path "secret/foo" { capabilities = ["read"] })"}, "secret/bar", kRead, nullptr, false, false},

    // --- Segment wildcards.
    {"PlusMatchesOneSegment", {R"(path "secret/+/db" { capabilities = ["read"] })"}, "secret/a/db", kRead, nullptr, false, true},
    {"PlusSegmentCountMismatchLonger", {R"(path "secret/+/db" { capabilities = ["read"] })"}, "secret/a/b/db", kRead, nullptr, false, false},
    {"PlusWithoutStarNeedsSameCount", {R"(path "secret/+/db" { capabilities = ["read"] })"}, "secret/a/db/x", kRead, nullptr, false, false},
    {"PlusWithTrailingStar", {R"(path "secret/+/team/*" { capabilities = ["read"] })"}, "secret/a/team/x/y", kRead, nullptr, false, true},
    {"PlusWithTrailingStarLiteralMismatch", {R"(path "secret/+/team/*" { capabilities = ["read"] })"}, "secret/a/other/x", kRead, nullptr, false, false},
    {"PlusWithTrailingStarTooShort", {R"(path "secret/+/team/*" { capabilities = ["read"] })"}, "secret/a/team", kRead, nullptr, false, false},
    {"PlusStarLastSegmentPrefix", {R"(path "secret/+/te*" { capabilities = ["read"] })"}, "secret/x/team/q", kRead, nullptr, false, true},
    {"PlusPlusTwoSegments", {R"(path "+/+" { capabilities = ["read"] })"}, "a/b", kRead, nullptr, false, true},
    {"PlusPlusOneSegment", {R"(path "+/+" { capabilities = ["read"] })"}, "a", kRead, nullptr, false, false},
    {"PlusDoesNotMatchEmptyPathSegmentCount", {R"(path "a/+" { capabilities = ["read"] })"}, "a/b/c", kRead, nullptr, false, false},

    // --- §5.3 ranking key 1: the earlier first '+'/'*' ranks lower.
    {"Rank1LaterPlusWinsDeny", {R"(path "secret/+/b" { capabilities = ["read"] }
                                   path "secret/a/+" { capabilities = ["deny"] })"}, "secret/a/b", kRead, nullptr, false, false},
    {"Rank1LaterPlusWinsGrant", {R"(path "secret/+/b" { capabilities = ["deny"] }
                                    path "secret/a/+" { capabilities = ["read"] })"}, "secret/a/b", kRead, nullptr, false, true},
    {"Rank1GlobAfterPlusWins", {R"(path "secret/a*" { capabilities = ["deny"] }
                                   path "secret/+" { capabilities = ["read"] })"}, "secret/ab", kRead, nullptr, false, false},
    {"Rank1PlusAfterGlobWins", {R"(path "secret/*" { capabilities = ["deny"] }
                                   path "secret/x/+" { capabilities = ["read"] })"}, "secret/x/y", kRead, nullptr, false, true},
    // --- Key 2: ending in '*' ranks lower.
    {"Rank2NonPrefixBeatsPrefixPlus", {R"(path "secret/+/bar" { capabilities = ["read"] }
                                          path "secret/+/ba*" { capabilities = ["deny"] })"}, "secret/x/bar", kRead, nullptr, false, true},
    {"Rank2PrefixPlusWhenOnlyMatch", {R"(path "secret/+/bar" { capabilities = ["read"] }
                                         path "secret/+/ba*" { capabilities = ["deny"] })"}, "secret/x/baz", kRead, nullptr, false, false},
    {"Rank2PlusBeatsSameIndexGlob", {R"(path "secret/*" { capabilities = ["deny"] }
                                        path "secret/+" { capabilities = ["read"] })"}, "secret/x", kRead, nullptr, false, true},
    // --- Key 3: more '+' segments rank lower.
    {"Rank3FewerPlusWins", {R"(path "secret/+/bar/baz" { capabilities = ["read"] }
                               path "secret/+/+/baz" { capabilities = ["deny"] })"}, "secret/a/bar/baz", kRead, nullptr, false, true},
    {"Rank3FewerPlusWinsDeny", {R"(path "secret/+/bar/baz" { capabilities = ["deny"] }
                                   path "secret/+/+/baz" { capabilities = ["read"] })"}, "secret/a/bar/baz", kRead, nullptr, false, false},
    {"Rank3PrefixGlobBeatsPlusStar", {R"(path "a/*" { capabilities = ["deny"] }
                                         path "a/+/*" { capabilities = ["read"] })"}, "a/x/y", kRead, nullptr, false, false},
    // --- Key 4: shorter ranks lower.
    {"Rank4LongerWins", {R"(path "secret/+/bar/ba*" { capabilities = ["read"] }
                            path "secret/+/bar/b*" { capabilities = ["deny"] })"}, "secret/x/bar/baz", kRead, nullptr, false, true},
    {"Rank4LongerWinsDeny", {R"(path "secret/+/bar/ba*" { capabilities = ["deny"] }
                                path "secret/+/bar/b*" { capabilities = ["read"] })"}, "secret/x/bar/baz", kRead, nullptr, false, false},
    // --- Key 5: lexically lower ranks lower ('x' > '+').
    {"Rank5LexicalHigherWins", {R"(path "secret/+/x/+" { capabilities = ["deny"] }
                                   path "secret/+/+/y" { capabilities = ["read"] })"}, "secret/a/x/y", kRead, nullptr, false, false},
    {"Rank5LexicalHigherWinsGrant", {R"(path "secret/+/x/+" { capabilities = ["read"] }
                                        path "secret/+/+/y" { capabilities = ["deny"] })"}, "secret/a/x/y", kRead, nullptr, false, true},

    // --- Merge across policies (§5.3 step 1).
    {"MergeOrAcrossPolicies", {R"(path "secret/foo" { capabilities = ["read"] })", R"(path "secret/foo" { capabilities = ["update"] })"}, "secret/foo", kUpdate, nullptr, false, true},
    {"MergeDenyWinsSamePattern", {R"(path "secret/foo" { capabilities = ["read"] })", R"(path "secret/foo" { capabilities = ["deny"] })"}, "secret/foo", kRead, nullptr, false, false},
    {"MergeDenyFirstStillWins", {R"(path "secret/*" { capabilities = ["deny"] })", R"(path "secret/*" { capabilities = ["read"] })"}, "secret/x", kRead, nullptr, false, false},
    {"MergeDifferentPatternsNotMerged", {R"(path "secret/*" { capabilities = ["deny"] })", R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo", kRead, nullptr, false, true},
    {"ExactAndPrefixSameStringSeparateExact", {R"(path "secret/foo*" { capabilities = ["deny"] })", R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo", kRead, nullptr, false, true},
    {"ExactAndPrefixSameStringSeparatePrefix", {R"(path "secret/foo*" { capabilities = ["deny"] })", R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foobar", kRead, nullptr, false, false},
    {"PlusWithAndWithoutStarSeparate", {R"(path "a/+/b" { capabilities = ["read"] })", R"(path "a/+/b*" { capabilities = ["deny"] })"}, "a/x/b", kRead, nullptr, false, true},
    {"PlusWithAndWithoutStarSeparateStar", {R"(path "a/+/b" { capabilities = ["read"] })", R"(path "a/+/b*" { capabilities = ["deny"] })"}, "a/x/bc", kRead, nullptr, false, false},
    {"MergeParamValuesUnioned", {R"(path "k" { capabilities = ["update"]
                                               allowed_parameters = { "a" = ["1"] } })",
                                 R"(path "k" { capabilities = ["update"]
                                               allowed_parameters = { "a" = ["2"] } })"}, "k", kUpdate, R"({"a":"2"})", false, true},
    {"MergeParamValuesUnionedStillLimited", {R"(path "k" { capabilities = ["update"]
                                                           allowed_parameters = { "a" = ["1"] } })",
                                             R"(path "k" { capabilities = ["update"]
                                                           allowed_parameters = { "a" = ["2"] } })"}, "k", kUpdate, R"({"a":"3"})", false, false},
    {"MergeEmptyListWins", {R"(path "k" { capabilities = ["update"]
                                          allowed_parameters = { "a" = ["1"] } })",
                            R"(path "k" { capabilities = ["update"]
                                          allowed_parameters = { "a" = [] } })"}, "k", kUpdate, R"({"a":"zzz"})", false, true},
    {"MergeDenyClearsParams", {R"(path "k" { capabilities = ["update"]
                                             allowed_parameters = { "*" = [] } })",
                               R"(path "k" { capabilities = ["deny"] })"}, "k", kUpdate, R"({"a":1})", false, false},

    // --- LIST and trailing slashes.
    {"ListExactTrailingSlashTrimmed", {R"(path "secret/foo" { capabilities = ["list"] })"}, "secret/foo/", kList, nullptr, false, true},
    {"ListExactWithSlash", {R"(path "secret/foo/" { capabilities = ["list"] })"}, "secret/foo/", kList, nullptr, false, true},
    {"ReadDoesNotTrimSlash", {R"(path "secret/foo" { capabilities = ["read"] })"}, "secret/foo/", kRead, nullptr, false, false},
    {"ListPrefixOnFolder", {R"(path "secret/*" { capabilities = ["list"] })"}, "secret/", kList, nullptr, false, true},
    {"ListPlusOnTrimmedFolder", {R"(path "secret/metadata/+" { capabilities = ["list"] })"}, "secret/metadata/app/", kList, nullptr, false, true},
    {"ListNotGrantedByRead", {R"(path "secret/*" { capabilities = ["read"] })"}, "secret/", kList, nullptr, false, false},
    {"GhsaDenyGlobPlusListGrantRoot", {R"(path "a/*" { capabilities = ["deny"] })", R"(path "a/+/b" { capabilities = ["list"] })"}, "a/", kList, nullptr, false, false},
    {"GhsaDenyGlobPlusListGrantSub", {R"(path "a/*" { capabilities = ["deny"] })", R"(path "a/+" { capabilities = ["list"] })"}, "a/x/", kList, nullptr, false, false},
    {"GhsaDenyGlobPlusStarListGrant", {R"(path "a/*" { capabilities = ["deny"] })", R"(path "a/+/*" { capabilities = ["list"] })"}, "a/x/", kList, nullptr, false, false},
    {"GhsaNarrowDenyBroadList", {R"(path "secrets/metadata/*" { capabilities = ["list"] })", R"(path "secrets/metadata/restricted/*" { capabilities = ["deny"] })"}, "secrets/metadata/restricted/", kList, nullptr, false, false},
    {"GhsaNarrowDenyBroadListDeeper", {R"(path "secrets/metadata/*" { capabilities = ["list"] })", R"(path "secrets/metadata/restricted/*" { capabilities = ["deny"] })"}, "secrets/metadata/restricted/x/", kList, nullptr, false, false},
    {"GhsaBroadListStillWorks", {R"(path "secrets/metadata/*" { capabilities = ["list"] })", R"(path "secrets/metadata/restricted/*" { capabilities = ["deny"] })"}, "secrets/metadata/", kList, nullptr, false, true},
    {"GhsaBroadListSibling", {R"(path "secrets/metadata/*" { capabilities = ["list"] })", R"(path "secrets/metadata/restricted/*" { capabilities = ["deny"] })"}, "secrets/metadata/other/", kList, nullptr, false, true},
    // `+` matches the empty last segment, and outranks a `*` at the same
    // position, as in Vault's matcher (issue 20: played against OpenBao).
    {"PlusEmptySegmentListsFolderOverGlobDeny", {R"(path "team/*" { capabilities = ["deny"] })", R"(path "team/+" { capabilities = ["list"] })"}, "team/", kList, nullptr, false, true},
    {"PlusEmptySegmentAlone", {R"(path "team/+" { capabilities = ["list"] })"}, "team/", kList, nullptr, false, true},
    {"PlusEmptySegmentRead", {R"(path "team/+" { capabilities = ["read"] })"}, "team/", kRead, nullptr, false, true},
    {"PlusEmptySegmentDeeperStillDenied", {R"(path "team/*" { capabilities = ["deny"] })", R"(path "team/+" { capabilities = ["list"] })"}, "team/beta/", kList, nullptr, false, false},
    {"PlusEmptySegmentHiddenByExactDeny", {R"(path "team/+" { capabilities = ["list"] })", R"(path "team/" { capabilities = ["deny"] })"}, "team/", kList, nullptr, false, false},
    {"PlusDenyHidesFolderUnderGlobGrant", {R"(path "team/*" { capabilities = ["list"] })", R"(path "team/+" { capabilities = ["deny"] })"}, "team/", kList, nullptr, false, false},
    {"ListMoreSpecificReadOnlyWins", {R"(path "a/*" { capabilities = ["list"] })", R"(path "a/restricted/*" { capabilities = ["read"] })"}, "a/restricted/", kList, nullptr, false, false},

    // --- Sudo (root-protected) paths.
    {"SudoPathWithoutSudo", {R"(path "sys/audit/*" { capabilities = ["read", "update"] })"}, "sys/audit/file", kUpdate, nullptr, true, false},
    {"SudoPathWithSudo", {R"(path "sys/audit/*" { capabilities = ["update", "sudo"] })"}, "sys/audit/file", kUpdate, nullptr, true, true},
    {"SudoAloneIsNotUpdate", {R"(path "sys/seal" { capabilities = ["sudo"] })"}, "sys/seal", kUpdate, nullptr, true, false},
    {"SudoNotNeededOffSudoPath", {R"(path "sys/mounts" { capabilities = ["read"] })"}, "sys/mounts", kRead, nullptr, false, true},

    // --- Parameter constraints (§5.4).
    {"RequiredPresent", {R"(path "k" { capabilities = ["update"]
                                       required_parameters = ["a"] })"}, "k", kUpdate, R"({"a":1})", false, true},
    {"RequiredMissing", {R"(path "k" { capabilities = ["update"]
                                       required_parameters = ["a"] })"}, "k", kUpdate, R"({"b":1})", false, false},
    {"RequiredMissingNoData", {R"(path "k" { capabilities = ["update"]
                                             required_parameters = ["a"] })"}, "k", kUpdate, nullptr, false, false},
    {"RequiredCaseInsensitive", {R"(path "k" { capabilities = ["update"]
                                               required_parameters = ["A"] })"}, "k", kUpdate, R"({"a":1})", false, true},
    {"NoDataAllowedDespiteAllowList", {R"(path "k" { capabilities = ["update"]
                                                     allowed_parameters = { "a" = ["x"] } })"}, "k", kUpdate, nullptr, false, true},
    {"EmptyObjectIsNoData", {R"(path "k" { capabilities = ["update"]
                                           denied_parameters = { "*" = [] } })"}, "k", kUpdate, "{}", false, true},
    {"AllowedKeyNotListed", {R"(path "k" { capabilities = ["update"]
                                           allowed_parameters = { "a" = [] } })"}, "k", kUpdate, R"({"b":"x"})", false, false},
    {"AllowedValueMismatch", {R"(path "k" { capabilities = ["update"]
                                            allowed_parameters = { "a" = ["x"] } })"}, "k", kUpdate, R"({"a":"y"})", false, false},
    {"AllowedValueMatch", {R"(path "k" { capabilities = ["update"]
                                         allowed_parameters = { "a" = ["x", "y"] } })"}, "k", kUpdate, R"({"a":"y"})", false, true},
    {"AllowedGlobSuffixStar", {R"(path "k" { capabilities = ["update"]
                                             allowed_parameters = { "a" = ["x*"] } })"}, "k", kUpdate, R"({"a":"xyz"})", false, true},
    {"AllowedGlobPrefixStar", {R"(path "k" { capabilities = ["update"]
                                             allowed_parameters = { "a" = ["*z"] } })"}, "k", kUpdate, R"({"a":"abz"})", false, true},
    {"AllowedGlobPrefixStarMismatch", {R"(path "k" { capabilities = ["update"]
                                                     allowed_parameters = { "a" = ["*z"] } })"}, "k", kUpdate, R"({"a":"abc"})", false, false},
    {"AllowedGlobBothEnds", {R"(path "k" { capabilities = ["update"]
                                           allowed_parameters = { "a" = ["*mid*"] } })"}, "k", kUpdate, R"({"a":"xmidy"})", false, true},
    {"AllowedStarKeyAllowsAny", {R"(path "k" { capabilities = ["update"]
                                               allowed_parameters = { "*" = [] } })"}, "k", kUpdate, R"({"anything":1,"else":2})", false, true},
    {"AllowedStarPlusListedKeyLimitsIt", {R"(path "k" { capabilities = ["update"]
                                                        allowed_parameters = { "*" = [], "a" = ["1"] } })"}, "k", kUpdate, R"({"a":"2"})", false, false},
    {"AllowedStarPlusListedKeyOthersFree", {R"(path "k" { capabilities = ["update"]
                                                          allowed_parameters = { "*" = [], "a" = ["1"] } })"}, "k", kUpdate, R"({"b":"2"})", false, true},
    {"AllowedNumberValue", {R"(path "k" { capabilities = ["update"]
                                          allowed_parameters = { "n" = [5] } })"}, "k", kUpdate, R"({"n":5})", false, true},
    {"AllowedPolicyKeyLowercased", {R"(path "k" { capabilities = ["update"]
                                                  allowed_parameters = { "Data" = [] } })"}, "k", kUpdate, R"({"DATA":1})", false, true},
    {"DeniedKey", {R"(path "k" { capabilities = ["update"]
                                 denied_parameters = { "a" = [] } })"}, "k", kUpdate, R"({"a":"x"})", false, false},
    {"DeniedKeyCaseInsensitive", {R"(path "k" { capabilities = ["update"]
                                                denied_parameters = { "a" = [] } })"}, "k", kUpdate, R"({"A":"x"})", false, false},
    {"DeniedValueOther", {R"(path "k" { capabilities = ["update"]
                                        denied_parameters = { "a" = ["bad"] } })"}, "k", kUpdate, R"({"a":"good"})", false, true},
    {"DeniedValueMatch", {R"(path "k" { capabilities = ["update"]
                                        denied_parameters = { "a" = ["bad"] } })"}, "k", kUpdate, R"({"a":"bad"})", false, false},
    {"DeniedStarDeniesAny", {R"(path "k" { capabilities = ["update"]
                                           denied_parameters = { "*" = [] } })"}, "k", kUpdate, R"({"x":1})", false, false},
    {"DeniedStarNoData", {R"(path "k" { capabilities = ["update"]
                                        denied_parameters = { "*" = [] } })"}, "k", kUpdate, nullptr, false, true},
    {"DeniedBeatsAllowed", {R"(path "k" { capabilities = ["update"]
                                          allowed_parameters = { "a" = [] }
                                          denied_parameters = { "a" = ["bad*"] } })"}, "k", kUpdate, R"({"a":"badly"})", false, false},
    {"ParamsSkippedForDelete", {R"(path "k" { capabilities = ["delete"]
                                              denied_parameters = { "*" = [] } })"}, "k", kDelete, R"({"x":1})", false, true},
    {"ParamsSkippedForList", {R"(path "k/" { capabilities = ["list"]
                                             required_parameters = ["a"] })"}, "k/", kList, nullptr, false, true},
    {"ParamsApplyToRead", {R"(path "k" { capabilities = ["read"]
                                         required_parameters = ["version"] })"}, "k", kRead, nullptr, false, false},
    {"ParamsApplyToPatch", {R"(path "k" { capabilities = ["patch"]
                                          denied_parameters = { "options" = [] } })"}, "k", kPatch, R"({"options":{}})", false, false},
    {"ParamsTopLevelOnlyAllowed", {R"(path "k" { capabilities = ["create"]
                                                 allowed_parameters = { "data" = [] } })"}, "k", kCreate, R"({"data":{"secret":"x"}})", false, true},
    {"ParamsTopLevelOnlyNested", {R"(path "k" { capabilities = ["create"]
                                                allowed_parameters = { "secret" = [] } })"}, "k", kCreate, R"({"data":{"secret":"x"}})", false, false},
    {"WrappingBoundDeniesUnwrapped", {R"(path "k" { capabilities = ["read"]
                                                    max_wrapping_ttl = "1h" })"}, "k", kRead, nullptr, false, false},

    // --- Legacy `policy = "..."`.
    {"LegacyWriteUpdate", {R"(path "k/*" { policy = "write" })"}, "k/x", kUpdate, nullptr, false, true},
    {"LegacyWriteDelete", {R"(path "k/*" { policy = "write" })"}, "k/x", kDelete, nullptr, false, true},
    {"LegacyWriteList", {R"(path "k/*" { policy = "write" })"}, "k/", kList, nullptr, false, true},
    {"LegacyWriteNoSudo", {R"(path "k/*" { policy = "write" })"}, "k/x", kUpdate, nullptr, true, false},
    {"LegacyReadIncludesList", {R"(path "k/*" { policy = "read" })"}, "k/", kList, nullptr, false, true},
    {"LegacyReadNoUpdate", {R"(path "k/*" { policy = "read" })"}, "k/x", kUpdate, nullptr, false, false},
    {"LegacySudo", {R"(path "k/*" { policy = "sudo" })"}, "k/x", kUpdate, nullptr, true, true},
    {"LegacyDeny", {R"(path "k/*" { policy = "deny" })", R"(path "k/*" { capabilities = ["read"] })"}, "k/x", kRead, nullptr, false, false},

    // --- Operation -> capability mapping.
    {"RenewNeedsUpdate", {R"(path "k" { capabilities = ["update"] })"}, "k", kRenew, nullptr, false, true},
    {"RevokeNeedsUpdate", {R"(path "k" { capabilities = ["read"] })"}, "k", kRevoke, nullptr, false, false},
    {"PatchNeedsPatch", {R"(path "k" { capabilities = ["update"] })"}, "k", kPatch, nullptr, false, false},
    {"PatchGranted", {R"(path "k" { capabilities = ["patch"] })"}, "k", kPatch, nullptr, false, true},
    {"CreateNeedsCreate", {R"(path "k" { capabilities = ["update"] })"}, "k", kCreate, nullptr, false, false},
    {"CreateGranted", {R"(path "k" { capabilities = ["create"] })"}, "k", kCreate, nullptr, false, true},
    {"HelpWithAnyCapability", {R"(path "k" { capabilities = ["list"] })"}, "k", kHelp, nullptr, true, true},
    // As Vault (played against OpenBao): help is always allowed.
    {"HelpWithoutMatch", {R"(path "k" { capabilities = ["list"] })"}, "other", kHelp, nullptr, false, true},
    {"HelpOnDeny", {R"(path "k" { capabilities = ["deny"] })"}, "k", kHelp, nullptr, false, true},

    // --- JSON policies behave like HCL.
    {"JsonPolicy", {R"({"path":{"secret/+/x":{"capabilities":["read"]}}})"}, "secret/a/x", kRead, nullptr, false, true},
};

INSTANTIATE_TEST_SUITE_P(Table, AclTableTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<AclCase>& info) { return std::string(info.param.name); });

TEST(AclTableSize, AtLeastSixtyCases) { EXPECT_GE(std::size(kCases), 60u); }

// ---------------------------------------------------------------------------
// Root handling.

TEST(AclRoot, RootAclAllowsEverything) {
  auto acl = Acl::Compile({}, /*is_root=*/true);
  AclResult r = acl->AllowOperation("sys/audit/x", kUpdate, Data(R"({"a":1})"), /*is_sudo_path=*/true);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.is_root);
  EXPECT_EQ(r.granting_policies, std::vector<std::string>{"root"});
  EXPECT_TRUE(acl->is_root());
  EXPECT_EQ(acl->Capabilities("anything"), std::vector<std::string>{"root"});
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("secret/"));
}

TEST(AclRoot, RootFlagIgnoresDenyPolicies) {
  auto acl = Acl::Compile({MustParse("p", R"(path "*" { capabilities = ["deny"] })")}, true);
  EXPECT_TRUE(acl->AllowOperation("secret/x", kRead, nullptr, false).allowed);
}

TEST(AclRoot, PolicyNamedRootGrantsNothingSpecial) {
  for (const char* name : {"root", "Root", " root", "ROOT"}) {
    auto p = MustParse(name, R"(path "other" { capabilities = ["read"] })");
    auto acl = Acl::Compile({p}, /*is_root=*/false);
    EXPECT_FALSE(acl->is_root()) << name;
    AclResult r = acl->AllowOperation("secret/x", kRead, nullptr, false);
    EXPECT_FALSE(r.allowed) << name;
    EXPECT_FALSE(r.is_root) << name;
    EXPECT_EQ(acl->Capabilities("secret/x"), std::vector<std::string>{"deny"}) << name;
  }
  // An empty policy named root (what PolicyStore::Get returns for "root").
  auto empty = std::make_shared<Policy>();
  empty->name = "root";
  auto acl = Acl::Compile({empty}, false);
  EXPECT_FALSE(acl->AllowOperation("secret/x", kRead, nullptr, false).allowed);
}

TEST(PolicyName, NormaliseCaseVariantsToRoot) {
  EXPECT_EQ(NormalizePolicyName("Root"), "root");
  EXPECT_EQ(NormalizePolicyName(" root"), "root");
  EXPECT_EQ(NormalizePolicyName("ROOT\t\n"), "root");
  EXPECT_EQ(NormalizePolicyName("  My-Policy "), "my-policy");
  EXPECT_EQ(NormalizePolicyName("default"), "default");
  EXPECT_EQ(NormalizePolicyName(""), "");
}

// ---------------------------------------------------------------------------
// Granting policies and result details.

TEST(AclResultTest, GrantingPoliciesAreThoseWithTheBit) {
  auto acl = CompileAll({R"(path "k" { capabilities = ["read"] })", R"(path "k" { capabilities = ["update"] })",
                         R"(path "k" { capabilities = ["read", "list"] })"});
  AclResult r = acl->AllowOperation("k", kRead, nullptr, false);
  ASSERT_TRUE(r.allowed);
  EXPECT_EQ(r.granting_policies, (std::vector<std::string>{"p0", "p2"}));
  EXPECT_EQ(r.capabilities, kCapRead | kCapUpdate | kCapList);
}

TEST(AclResultTest, DeniedCarriesSelectedBits) {
  auto acl = CompileAll({R"(path "k" { capabilities = ["deny"] })"});
  AclResult r = acl->AllowOperation("k", kRead, nullptr, false);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.capabilities, kCapDeny);
  EXPECT_EQ(acl->AllowOperation("none", kRead, nullptr, false).capabilities, 0u);
}

// ---------------------------------------------------------------------------
// Capabilities().

TEST(AclCapabilities, SortedNames) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["update", "read", "list", "create", "sudo", "patch", "delete"] })"});
  EXPECT_EQ(acl->Capabilities("secret/x"),
            (std::vector<std::string>{"create", "delete", "list", "patch", "read", "sudo", "update"}));
}

TEST(AclCapabilities, DenyWhenNothingMatchesOrDenyOrEmpty) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["deny"] }
                            path "empty" {}
                            path "events" { capabilities = ["subscribe"] })"});
  EXPECT_EQ(acl->Capabilities("secret/x"), std::vector<std::string>{"deny"});
  EXPECT_EQ(acl->Capabilities("nothing"), std::vector<std::string>{"deny"});
  EXPECT_EQ(acl->Capabilities("empty"), std::vector<std::string>{"deny"});
  EXPECT_EQ(acl->Capabilities("events"), std::vector<std::string>{"deny"});
}

TEST(AclCapabilities, SelectionMatchesAllowOperation) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["deny"] }
                            path "secret/foo" { capabilities = ["read", "list"] }
                            path "secret/+/db" { capabilities = ["update"] })"});
  EXPECT_EQ(acl->Capabilities("secret/foo"), (std::vector<std::string>{"list", "read"}));
  EXPECT_EQ(acl->Capabilities("secret/foo/"), (std::vector<std::string>{"list", "read"}));  // list-style trim
  EXPECT_EQ(acl->Capabilities("secret/a/db"), std::vector<std::string>{"update"});
  EXPECT_EQ(acl->Capabilities("/secret/a/db"), std::vector<std::string>{"update"});
  EXPECT_EQ(acl->Capabilities("secret/a/b/db"), std::vector<std::string>{"deny"});
}

// ---------------------------------------------------------------------------
// HasAnyNonDenyUnder().

TEST(AclPreflight, RulesUnderThePrefix) {
  auto acl = CompileAll({R"(path "secret/data/app/*" { capabilities = ["read"] })"});
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("secret/"));
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("secret"));  // '/' added
  EXPECT_FALSE(acl->HasAnyNonDenyUnder("other/"));
  EXPECT_FALSE(acl->HasAnyNonDenyUnder("secre/"));
}

TEST(AclPreflight, ExactRuleUnderPrefix) {
  auto acl = CompileAll({R"(path "kv/foo" { capabilities = ["read"] })"});
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("kv/"));
  EXPECT_FALSE(acl->HasAnyNonDenyUnder("kv2/"));
}

TEST(AclPreflight, GlobAbovePrefix) {
  EXPECT_TRUE(CompileAll({R"(path "*" { capabilities = ["read"] })"})->HasAnyNonDenyUnder("secret/"));
  EXPECT_TRUE(CompileAll({R"(path "sec*" { capabilities = ["list"] })"})->HasAnyNonDenyUnder("secret/"));
  // The longer deny glob governs everything under the prefix.
  EXPECT_FALSE(CompileAll({R"(path "se*" { capabilities = ["read"] }
                              path "sec*" { capabilities = ["deny"] })"})
                   ->HasAnyNonDenyUnder("secret/"));
}

TEST(AclPreflight, DenyOnlyIsNotAccess) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["deny"] }
                            path "secret/foo" { capabilities = ["deny"] }
                            path "secret/empty" {})"});
  EXPECT_FALSE(acl->HasAnyNonDenyUnder("secret/"));
}

TEST(AclPreflight, PlusPatterns) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["deny"] }
                            path "secret/+/x" { capabilities = ["read"] })"});
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("secret/"));

  auto leading = CompileAll({R"(path "+/data/*" { capabilities = ["read"] })"});
  EXPECT_TRUE(leading->HasAnyNonDenyUnder("secret/"));
  EXPECT_TRUE(leading->HasAnyNonDenyUnder("kv/"));

  // `+` alone matches only one-segment paths: "secret" itself (which LIST
  // "secret/" is checked against, list-style) but nothing under "secret/a/".
  auto single = CompileAll({R"(path "+" { capabilities = ["read"] })"});
  EXPECT_TRUE(single->HasAnyNonDenyUnder("secret/"));
  EXPECT_FALSE(single->HasAnyNonDenyUnder("secret/a/"));
  EXPECT_TRUE(CompileAll({R"(path "+/+" { capabilities = ["read"] })"})->HasAnyNonDenyUnder("secret/"));

  auto deep = CompileAll({R"(path "secret/a/+/b" { capabilities = ["read"] })"});
  EXPECT_TRUE(deep->HasAnyNonDenyUnder("secret/a/"));
  EXPECT_TRUE(deep->HasAnyNonDenyUnder("secret/a/z/"));
  EXPECT_FALSE(deep->HasAnyNonDenyUnder("secret/b/"));

  auto star = CompileAll({R"(path "se+/+/b*" { capabilities = ["read"] }
                             path "+/x/lo*" { capabilities = ["read"] })"});
  EXPECT_TRUE(star->HasAnyNonDenyUnder("kv/x/long/"));
  EXPECT_FALSE(star->HasAnyNonDenyUnder("kv/x/short/"));
  EXPECT_FALSE(star->HasAnyNonDenyUnder("kv/y/"));
}

TEST(AclPreflight, DefaultPolicy) {
  auto acl = Acl::Compile({MustParse("default", kDefaultPolicyText)}, false);
  EXPECT_TRUE(acl->HasAnyNonDenyUnder("cubbyhole/"));
  EXPECT_FALSE(acl->HasAnyNonDenyUnder("secret/"));
}

// ---------------------------------------------------------------------------
// The built-in default policy.

TEST(DefaultPolicy, GrantsSelfServicePaths) {
  auto acl = Acl::Compile({MustParse("default", kDefaultPolicyText)}, false);
  EXPECT_TRUE(acl->AllowOperation("auth/token/lookup-self", kRead, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("auth/token/lookup-self", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("auth/token/renew-self", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("auth/token/revoke-self", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("sys/capabilities-self", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("sys/leases/renew", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("sys/renew", kUpdate, nullptr, false).allowed);  // Vault keeps it; OpenBao dropped it
  EXPECT_TRUE(acl->AllowOperation("sys/tools/hash/sha2-256", kUpdate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("cubbyhole/x", kCreate, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("cubbyhole/", kList, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("identity/oidc/provider/p/authorize", kRead, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("secret/data/x", kRead, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("sys/mounts", kRead, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("sys/control-group/request", kUpdate, nullptr, false).allowed);
}

// ---------------------------------------------------------------------------
// Parsing.

std::string ParseError(const std::string& text) {
  auto p = ParsePolicy("t", text);
  EXPECT_FALSE(p.ok()) << text;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return p.status().message();
}

TEST(PolicyParse, HclBasics) {
  auto p = ParsePolicy("Name", R"(
    # comment
    path "/secret/data/app/*" { capabilities = ["read", "list"] }
    path "secret/data/app/+/config" {
      capabilities        = ["create", "update"]
      allowed_parameters  = { "Data" = [] }
      denied_parameters   = { "options" = ["x", 1] }
      required_parameters = ["Data"]
      min_wrapping_ttl    = "1m"
      max_wrapping_ttl    = 3600
      mfa_methods         = ["m"]
      comment             = "hi"
      subscribe_event_types = ["kv*"]
    }
    path "sys/mounts/*" { capabilities = ["deny"] }
  )");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "Name");
  ASSERT_EQ(p->paths.size(), 3u);
  const PathRules* app = nullptr;
  const PathRules* cfg = nullptr;
  const PathRules* mounts = nullptr;
  for (const auto& r : p->paths) {
    if (r.path == "secret/data/app/*") app = &r;
    if (r.path == "secret/data/app/+/config") cfg = &r;
    if (r.path == "sys/mounts/*") mounts = &r;
  }
  ASSERT_TRUE(app && cfg && mounts);
  EXPECT_EQ(app->caps, kCapRead | kCapList);
  EXPECT_EQ(cfg->caps, kCapCreate | kCapUpdate);
  ASSERT_EQ(cfg->allowed_parameters.count("data"), 1u);
  EXPECT_TRUE(cfg->allowed_parameters.at("data").empty());
  ASSERT_EQ(cfg->denied_parameters.count("options"), 1u);
  EXPECT_EQ(cfg->denied_parameters.at("options").size(), 2u);
  EXPECT_EQ(cfg->required_parameters, std::vector<std::string>{"data"});
  EXPECT_EQ(cfg->min_wrapping_ttl, 60);
  EXPECT_EQ(cfg->max_wrapping_ttl, 3600);
  EXPECT_EQ(mounts->caps, kCapDeny);
}

TEST(PolicyParse, DenyClearsEverythingElse) {
  auto p = ParsePolicy("t", R"(path "x" {
    capabilities = ["read", "deny"]
    allowed_parameters = { "a" = [] }
    required_parameters = ["a"]
  })");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->paths.size(), 1u);
  EXPECT_EQ(p->paths[0].caps, kCapDeny);
  EXPECT_TRUE(p->paths[0].allowed_parameters.empty());
  EXPECT_TRUE(p->paths[0].required_parameters.empty());
}

TEST(PolicyParse, LegacyPolicyMapping) {
  auto p = ParsePolicy("t", R"(path "r" { policy = "read" }
                              path "w" { policy = "write" }
                              path "s" { policy = "sudo" }
                              path "d" { policy = "deny" }
                              path "m" { policy = "read"
                                         capabilities = ["update"] })");
  ASSERT_TRUE(p.ok()) << p.status().message();
  std::map<std::string, uint32_t> caps;
  for (const auto& r : p->paths) caps[r.path] = r.caps;
  constexpr uint32_t kWrite = kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList;
  EXPECT_EQ(caps["r"], kCapRead | kCapList);
  EXPECT_EQ(caps["w"], kWrite);
  EXPECT_EQ(caps["s"], kWrite | kCapSudo);
  EXPECT_EQ(caps["d"], kCapDeny);
  EXPECT_EQ(caps["m"], kCapRead | kCapList | kCapUpdate);
  EXPECT_NE(ParseError(R"(path "x" { policy = "admin" })").find(R"(path "x": invalid policy "admin")"),
            std::string::npos);
}

TEST(PolicyParse, JsonForm) {
  auto p = ParsePolicy("t", R"(  {"path":{"secret/data/app/*":{"capabilities":["read","list"]},
                                  "k":{"capabilities":["update"],"allowed_parameters":{"A":["x"]}}},
                                  "name":"ignored"})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->paths.size(), 2u);
  auto acl = Acl::Compile({std::make_shared<const Policy>(*p)}, false);
  EXPECT_TRUE(acl->AllowOperation("secret/data/app/x", kRead, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("k", kUpdate, Data(R"({"a":"x"})"), false).allowed);
  EXPECT_FALSE(acl->AllowOperation("k", kUpdate, Data(R"({"a":"y"})"), false).allowed);
}

TEST(PolicyParse, JsonListForm) {
  auto p = ParsePolicy("t", R"({"path":[{"a":{"capabilities":["read"]}},{"b":{"capabilities":["list"]}}]})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->paths.size(), 2u);
}

TEST(PolicyParse, JsonErrors) {
  EXPECT_EQ(ParseError(R"({"path":{"x":{"capabilities":["reed"]}}})"), R"(path "x": invalid capability "reed")");
  EXPECT_EQ(ParseError(R"({"paths":{}})"), R"(invalid key "paths")");
  EXPECT_FALSE(ParsePolicy("t", R"(["path"])").ok());
  EXPECT_FALSE(ParsePolicy("t", R"({"path": 5})").ok());
  EXPECT_FALSE(ParsePolicy("t", R"({"path": {"x": 5}})").ok());
}

TEST(PolicyParse, EmptyAndCommentOnly) {
  auto p = ParsePolicy("t", "");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->paths.empty());
  auto c = ParsePolicy("t", "# nothing here\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->paths.empty());
  EXPECT_EQ(c->raw, "# nothing here\n");
}

TEST(PolicyParse, InvalidCapability) {
  EXPECT_EQ(ParseError(R"(path "secret/x" { capabilities = ["read", "reed"] })"),
            R"(path "secret/x": invalid capability "reed")");
}

TEST(PolicyParse, UnknownKeys) {
  EXPECT_EQ(ParseError(R"(foo = "bar")"), R"(invalid key "foo")");
  EXPECT_EQ(ParseError(R"(path "x" { capabilitiez = ["read"] })"), R"(path "x": invalid key "capabilitiez")");
  // A second label on a path block becomes an unknown nested key.
  EXPECT_NE(ParseError(R"(path "x" "y" { capabilities = ["read"] })").find("invalid key"), std::string::npos);
}

TEST(PolicyParse, PlusStarRejected) {
  EXPECT_NE(ParseError(R"(path "secret/+*" { capabilities = ["read"] })").find(R"(path "secret/+*")"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"path":{"a/+*/b":{"capabilities":["read"]}}})").find("'+*' is forbidden"),
            std::string::npos);
}

TEST(PolicyParse, HclSyntaxErrorCarriesLine) {
  std::string msg = ParseError("path \"a\" {\n  capabilities = [\"read\"]\n}\npath \"b\" {\n  capabilities = [\"read\"\n}\n");
  EXPECT_EQ(msg.rfind("line ", 0), 0u) << msg;
  EXPECT_NE(msg.find("line 6"), std::string::npos) << msg;
}

TEST(PolicyParse, BadShapes) {
  EXPECT_FALSE(ParsePolicy("t", R"(path "x" { capabilities = [1] })").ok());
  EXPECT_FALSE(ParsePolicy("t", R"(path "x" { required_parameters = {} })").ok());
  EXPECT_FALSE(ParsePolicy("t", R"(path "x" { allowed_parameters = ["a"] })").ok());
  EXPECT_FALSE(ParsePolicy("t", R"(path "x" { max_wrapping_ttl = "soon" })").ok());
  EXPECT_NE(ParseError(R"(path "x" { min_wrapping_ttl = "2h"
                                     max_wrapping_ttl = "1h" })")
                .find("max_wrapping_ttl cannot be less than min_wrapping_ttl"),
            std::string::npos);
}

TEST(PolicyParse, AllowedParametersBlockSyntax) {
  auto p = ParsePolicy("t", R"(path "x" {
    capabilities = ["update"]
    allowed_parameters {
      "a" = []
      "b" = ["1", "2"]
    }
  })");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->paths.size(), 1u);
  EXPECT_EQ(p->paths[0].allowed_parameters.size(), 2u);
  EXPECT_EQ(p->paths[0].allowed_parameters.at("b").size(), 2u);
}

TEST(PolicyParse, DefaultPolicyParses) {
  auto p = ParsePolicy("default", kDefaultPolicyText);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->paths.size(), 15u);
  // Vault's text as Vault stores it, leading newline included.
  EXPECT_EQ(std::string_view(kDefaultPolicyText).substr(0, 30), "\n# Allow tokens to look up the");
}

TEST(CapabilityNamesTest, Names) {
  EXPECT_EQ(CapabilityNames(0), std::vector<std::string>{"deny"});
  EXPECT_EQ(CapabilityNames(kCapDeny | kCapRead), std::vector<std::string>{"deny"});
  EXPECT_EQ(CapabilityNames(kCapUpdate | kCapCreate), (std::vector<std::string>{"create", "update"}));
}

// ---------------------------------------------------------------------------
// Scale and concurrency.

TEST(AclScale, ManyRulesSelectCorrectly) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    std::string n = std::to_string(i);
    text += "path \"kv/exact" + n + "\" { capabilities = [\"read\"] }\n";
    text += "path \"kv/pre" + n + "/*\" { capabilities = [\"list\"] }\n";
    text += "path \"kv/+/seg" + n + "\" { capabilities = [\"update\"] }\n";
  }
  auto acl = CompileAll({text});
  EXPECT_TRUE(acl->AllowOperation("kv/exact1999", kRead, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("kv/exact2000", kRead, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("kv/pre42/", kList, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("kv/pre42/a/b", kList, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("kv/pre42", kList, nullptr, false).allowed);
  EXPECT_TRUE(acl->AllowOperation("kv/zz/seg7", kUpdate, nullptr, false).allowed);
  EXPECT_FALSE(acl->AllowOperation("kv/zz/seg7/x", kUpdate, nullptr, false).allowed);
}

TEST(AclConcurrency, SharedAcrossThreads) {
  auto acl = CompileAll({R"(path "secret/*" { capabilities = ["read"] }
                            path "secret/+/x" { capabilities = ["deny"] })"});
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (!acl->AllowOperation("secret/a/b", kRead, nullptr, false).allowed) ++wrong;
        if (acl->AllowOperation("secret/a/x", kRead, nullptr, false).allowed) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace sealbox::auth
