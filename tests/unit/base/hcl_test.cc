#include "base/hcl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace sealbox::hcl {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Json MustParse(std::string_view text) {
  auto r = Parse(text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Json();
}

// The error message of a parse that must fail.
std::string ParseError(std::string_view text, const Limits& limits = {}) {
  auto r = Parse(text, limits);
  EXPECT_FALSE(r.ok()) << "unexpectedly parsed: " << (r.ok() ? r->dump() : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(HclTest, EmptyAndCommentOnlyInputsAreEmptyObjects) {
  EXPECT_EQ(MustParse(""), Json::object());
  EXPECT_EQ(MustParse("  \n\t\r\n"), Json::object());
  EXPECT_EQ(MustParse("# a\n// b\n/* c\n d */"), Json::object());
}

TEST(HclTest, FullServerConfig) {
  const Json j = MustParse(R"hcl(
# Sealbox server configuration
storage "rocksdb" {
  path = "/var/lib/sealbox/data"
}

listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/sealbox/tls/cert.pem"
  tls_key_file  = "/etc/sealbox/tls/key.pem"
  tls_disable   = false
}

seal "static" {
  current_key_id = "20240101-1"
  current_key    = "file:///etc/sealbox/unseal.key"
}

api_addr      = "https://sealbox.example.com:8200"
log_level     = "info"
disable_mlock = true
max_lease_ttl = 768
)hcl");
  const Json want = {
      {"storage", {{"rocksdb", {{"path", "/var/lib/sealbox/data"}}}}},
      {"listener",
       {{"tcp",
         {{"address", "127.0.0.1:8200"},
          {"tls_cert_file", "/etc/sealbox/tls/cert.pem"},
          {"tls_key_file", "/etc/sealbox/tls/key.pem"},
          {"tls_disable", false}}}}},
      {"seal",
       {{"static",
         {{"current_key_id", "20240101-1"}, {"current_key", "file:///etc/sealbox/unseal.key"}}}}},
      {"api_addr", "https://sealbox.example.com:8200"},
      {"log_level", "info"},
      {"disable_mlock", true},
      {"max_lease_ttl", 768},
  };
  EXPECT_EQ(j, want);
}

TEST(HclTest, PolicyWithSeveralPathsAndParameters) {
  const Json j = MustParse(R"hcl(
# Read-only access to app secrets.
path "secret/data/app/*" {
  capabilities = ["read", "list",]   // trailing comma
}

/* Writers may only set these fields. */
path "secret/data/app/config" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "data" = []
    "options" = ["cas"]
  }
  denied_parameters = {
    "ttl" = []
  }
  required_parameters = ["data"]
}

path "sys/mounts/+/tune" {
  capabilities = [
    "read",
    "update",
  ]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "90m"
}

path "auth/token/lookup-self" { capabilities = ["read"] }
)hcl");
  const Json want = {
      {"path",
       {{"secret/data/app/*", {{"capabilities", {"read", "list"}}}},
        {"secret/data/app/config",
         {{"capabilities", {"create", "update"}},
          {"allowed_parameters", {{"data", Json::array()}, {"options", {"cas"}}}},
          {"denied_parameters", {{"ttl", Json::array()}}},
          {"required_parameters", {"data"}}}},
        {"sys/mounts/+/tune",
         {{"capabilities", {"read", "update"}},
          {"min_wrapping_ttl", "1m"},
          {"max_wrapping_ttl", "90m"}}},
        {"auth/token/lookup-self", {{"capabilities", {"read"}}}}}},
  };
  EXPECT_EQ(j, want);
}

TEST(HclTest, RepeatedBlocksMergeDeeply) {
  const Json j = MustParse(R"hcl(
path "a" {}
path "b" { capabilities = ["read"] }
listener "tcp" { address = "x" }
listener "tcp" { tls_disable = true }
listener "unix" { address = "/run/s.sock" }
)hcl");
  EXPECT_EQ(j["path"], (Json{{"a", Json::object()}, {"b", {{"capabilities", {"read"}}}}}));
  EXPECT_EQ(j["listener"]["tcp"], (Json{{"address", "x"}, {"tls_disable", true}}));
  EXPECT_EQ(j["listener"]["unix"]["address"], "/run/s.sock");
}

TEST(HclTest, BlockAndAssignedObjectAreEquivalentAndMerge) {
  EXPECT_EQ(MustParse("telemetry { a = 1 }"), MustParse("telemetry = { a = 1 }"));
  EXPECT_EQ(MustParse("t { a = 1 }\nt = { b = 2 }"), (Json{{"t", {{"a", 1}, {"b", 2}}}}));
  EXPECT_EQ(MustParse("a b c d {}"), (Json{{"a", {{"b", {{"c", {{"d", Json::object()}}}}}}}}));
}

TEST(HclTest, QuotedKeysAndUnquotedLabels) {
  const Json j = MustParse(R"hcl(
"quoted key" = 1
path "secret/+/data/*" { "x-y.z" = "ok" }
storage rocksdb { path = "/p" }
)hcl");
  EXPECT_EQ(j["quoted key"], 1);
  EXPECT_EQ(j["path"]["secret/+/data/*"]["x-y.z"], "ok");
  EXPECT_EQ(j["storage"]["rocksdb"]["path"], "/p");
}

TEST(HclTest, ColonAssignmentAndCommaSeparatedObjects) {
  const Json j = MustParse(R"(a: "x", b = { c: 1, d = 2, }, e = 3 f = 4)");
  EXPECT_EQ(j, (Json{{"a", "x"}, {"b", {{"c", 1}, {"d", 2}}}, {"e", 3}, {"f", 4}}));
}

TEST(HclTest, StringEscapes) {
  const Json j = MustParse(R"(s = "q\" b\\ n\n t\t r\r u\u00e9 U\U0001F600 a\a b\b f\f v\v")");
  EXPECT_EQ(j["s"], "q\" b\\ n\n t\t r\r u\xC3\xA9 U\xF0\x9F\x98\x80 a\a b\b f\f v\v");
  // Raw UTF-8 passes through.
  EXPECT_EQ(MustParse("s = \"caf\xC3\xA9\"")["s"], "caf\xC3\xA9");
}

TEST(HclTest, InterpolationIsKeptLiterally) {
  const Json j = MustParse(R"(a = "${var.x}/b"
b = "${foo("a", "\n", {x})} tail"
c = "{{identity.entity.id}}/*")");
  EXPECT_EQ(j["a"], "${var.x}/b");
  // Quotes, escapes and nested braces inside ${} are copied verbatim.
  EXPECT_EQ(j["b"], R"(${foo("a", "\n", {x})} tail)");
  EXPECT_EQ(j["c"], "{{identity.entity.id}}/*");
}

TEST(HclTest, Heredoc) {
  const Json j = MustParse("a = <<EOF\nline 1\n  line 2\nEOF\nb = 1\n");
  EXPECT_EQ(j["a"], "line 1\n  line 2\n");
  EXPECT_EQ(j["b"], 1);
  EXPECT_EQ(MustParse("a = <<EOT\nEOT\n")["a"], "");
  // The terminator may be indented and may end the file without a newline.
  EXPECT_EQ(MustParse("a = <<EOF\nx\n   EOF")["a"], "x\n");
  // A line that merely contains the anchor does not end the heredoc.
  EXPECT_EQ(MustParse("a = <<EOF\nEOF not yet\nEOFX\nEOF\n")["a"], "EOF not yet\nEOFX\n");
  // CRLF line endings around the anchor.
  EXPECT_EQ(MustParse("a = <<EOF\r\nx\r\nEOF\r\n")["a"], "x\r\n");
}

TEST(HclTest, IndentedHeredocStripsTerminatorIndentation) {
  const Json j = MustParse(
      "policy {\n"
      "  rules = <<-EOT\n"
      "    path \"a\" {\n"
      "      capabilities = [\"read\"]\n"
      "    }\n"
      "    EOT\n"
      "}\n");
  EXPECT_EQ(j["policy"]["rules"], "path \"a\" {\n  capabilities = [\"read\"]\n}\n");
  // Like hcl v1: a line less indented than the terminator disables stripping.
  EXPECT_EQ(MustParse("a = <<-EOT\n    x\n  y\n    EOT\n")["a"], "    x\n  y\n");
}

TEST(HclTest, Numbers) {
  const Json j = MustParse(R"(
int = 42
neg = -17
zero = 0
hex = 0x1F
neghex = -0x10
octal = 0600
float = 3.25
negfloat = -0.5
exp = 1e3
expfrac = 2.5E-2
zerofloat = 0159.5
max = 9223372036854775807
min = -9223372036854775808
)");
  EXPECT_EQ(j["int"], 42);
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["neg"], -17);
  EXPECT_EQ(j["zero"], 0);
  EXPECT_EQ(j["hex"], 31);
  EXPECT_EQ(j["neghex"], -16);
  EXPECT_EQ(j["octal"], 384);
  EXPECT_TRUE(j["float"].is_number_float());
  EXPECT_DOUBLE_EQ(j["float"].get<double>(), 3.25);
  EXPECT_DOUBLE_EQ(j["negfloat"].get<double>(), -0.5);
  EXPECT_TRUE(j["exp"].is_number_float());
  EXPECT_DOUBLE_EQ(j["exp"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(j["expfrac"].get<double>(), 0.025);
  EXPECT_DOUBLE_EQ(j["zerofloat"].get<double>(), 159.5);
  EXPECT_EQ(j["max"].get<int64_t>(), INT64_MAX);
  EXPECT_EQ(j["min"].get<int64_t>(), INT64_MIN);
}

TEST(HclTest, BadNumbers) {
  EXPECT_THAT(ParseError("a = 0800"), HasSubstr("invalid octal number"));
  EXPECT_THAT(ParseError("a = 9223372036854775808"), HasSubstr("number out of range"));
  EXPECT_THAT(ParseError("a = 0x"), HasSubstr("invalid hexadecimal number"));
  EXPECT_THAT(ParseError("a = 10s"), StartsWith("line 1, column 5: invalid number"));
  EXPECT_THAT(ParseError("a = 1."), HasSubstr("invalid number"));
  EXPECT_THAT(ParseError("a = 1e"), HasSubstr("invalid number"));
  EXPECT_THAT(ParseError("a = 1e999"), HasSubstr("number out of range"));
}

TEST(HclTest, Bools) {
  const Json j = MustParse("t = true\nf = false\nl = [true, false]");
  EXPECT_EQ(j, (Json{{"t", true}, {"f", false}, {"l", {true, false}}}));
}

TEST(HclTest, NestedListsAndObjectsInLists) {
  const Json j = MustParse(R"(
l = [
  [1, 2,],
  [],
  { a = "x", b = [3] },
  # comment inside a list
  "s",
]
)");
  EXPECT_EQ(j["l"], Json::parse(R"([[1,2],[],{"a":"x","b":[3]},"s"])"));
}

TEST(HclTest, CommentsEverywhere) {
  const Json j = MustParse(R"(
a /* inline */ = /* here too */ 1 # trailing
// full line
b = [ /* in list */ 2, // after element
  3 # hash after element
]
/* multi
   line
   path "x" {} */
)");
  EXPECT_EQ(j, (Json{{"a", 1}, {"b", {2, 3}}}));
}

TEST(HclTest, ByteOrderMarkIsIgnored) {
  EXPECT_EQ(MustParse("\xEF\xBB\xBF"
                      "a = 1"),
            (Json{{"a", 1}}));
}

TEST(HclTest, UnterminatedString) {
  EXPECT_EQ(ParseError("a = 1\nb = \"abc\nc = 2\n"), "line 2, column 5: unterminated string");
  EXPECT_THAT(ParseError("a = \"abc"), StartsWith("line 1, column 5: unterminated string"));
  EXPECT_THAT(ParseError("a = \"abc\\"), StartsWith("line 1, column 5: unterminated string"));
  EXPECT_THAT(ParseError("a = \"${abc\"\n"), StartsWith("line 1, column 5: unterminated string"));
}

TEST(HclTest, BadEscapes) {
  EXPECT_THAT(ParseError(R"(a = "x\q")"), StartsWith("line 1, column 7: invalid escape sequence"));
  EXPECT_THAT(ParseError(R"(a = "\u12")"), HasSubstr("invalid unicode escape"));
  EXPECT_THAT(ParseError(R"(a = "\ud800")"), HasSubstr("invalid unicode escape"));
  EXPECT_THAT(ParseError(R"(a = "\U00110000")"), HasSubstr("invalid unicode escape"));
}

TEST(HclTest, MissingAssignment) {
  // The '=' is missing on line 2; the error points at the end of that line.
  EXPECT_EQ(ParseError("api_addr = \"x\"\nlog_level \"info\"\ndisable_mlock = true\n"),
            "line 2, column 17: expected '{' after block labels, got identifier "
            "\"disable_mlock\"");
  EXPECT_EQ(ParseError("a = 1\nb 2\n"),
            "line 2, column 3: expected '=' or '{' after key \"b\", got number");
  EXPECT_EQ(ParseError("a = 1\nb\n"),
            "line 2, column 2: expected '=' or '{' after key \"b\", got end of input");
  EXPECT_THAT(ParseError("path \"a\" = 1"),
              StartsWith("line 1, column 10: expected '{' after block labels, got '='"));
}

TEST(HclTest, MissingClosingBrace) {
  EXPECT_EQ(ParseError("storage \"rocksdb\" {\n  path = \"/p\"\n\n"),
            "line 4, column 1: expected '}' to close the block opened at line 1, got end of "
            "input");
  EXPECT_THAT(ParseError("a = [1, 2\n"),
              StartsWith("line 2, column 1: expected ']' to close the list opened at line 1"));
  EXPECT_THAT(ParseError("a = [1 2]"),
              StartsWith("line 1, column 8: expected ',' or ']' in list, got number"));
}

TEST(HclTest, UnexpectedTokens) {
  EXPECT_EQ(ParseError("a = 1\n}\n"), "line 2, column 1: unexpected '}'");
  EXPECT_EQ(ParseError("a = info\n"),
            "line 1, column 5: expected a value, got identifier \"info\" (strings must be "
            "quoted)");
  EXPECT_EQ(ParseError("a = ]"), "line 1, column 5: expected a value, got ']'");
  EXPECT_EQ(ParseError("x {\n  = 1\n}"), "line 2, column 3: expected a key, got '='");
  EXPECT_EQ(ParseError("a = 1,,"), "line 1, column 7: expected a key, got ','");
  EXPECT_EQ(ParseError("[1]"), "line 1, column 1: expected a key, got '['");
  EXPECT_EQ(ParseError("a = [,]"), "line 1, column 6: expected a value, got ','");
  EXPECT_EQ(ParseError("a = <<EOF\nx = 1\n"), "line 1, column 5: unterminated heredoc");
  EXPECT_THAT(ParseError("a = <<EOF x\nEOF\n"), HasSubstr("invalid characters after heredoc"));
  EXPECT_THAT(ParseError("a = <<\nEOF\n"), HasSubstr("missing heredoc anchor"));
}

TEST(HclTest, DuplicateKeys) {
  EXPECT_EQ(ParseError("a = 1\na = 2\n"), "line 2, column 1: duplicate key \"a\"");
  // Same label path twice: bodies merge, so the collision is on the inner key.
  EXPECT_EQ(ParseError("path \"a\" {\n  capabilities = [\"read\"]\n}\n"
                       "path \"a\" {\n  capabilities = [\"list\"]\n}\n"),
            "line 5, column 3: duplicate key \"capabilities\"");
  // An object may not replace a scalar or the reverse.
  EXPECT_EQ(ParseError("path = \"x\"\npath \"a\" {}\n"),
            "line 2, column 1: duplicate key \"path\"");
  EXPECT_EQ(ParseError("path \"a\" {}\npath = 1\n"), "line 2, column 1: duplicate key \"path\"");
  EXPECT_EQ(ParseError("l = [{a = 1, a = 2}]"), "line 1, column 14: duplicate key \"a\"");
}

TEST(HclTest, StrayCharacters) {
  EXPECT_EQ(ParseError("a = 1\nb = 2;\n"), "line 2, column 6: unexpected character ';'");
  EXPECT_EQ(ParseError("@"), "line 1, column 1: unexpected character '@'");
  EXPECT_EQ(ParseError("a = / 2"), "line 1, column 5: unexpected character '/'");
  EXPECT_EQ(ParseError("a = - 2"), "line 1, column 5: unexpected character '-'");
  EXPECT_EQ(ParseError("a = < 2"), "line 1, column 5: unexpected character '<'");
  // Columns count characters, not bytes.
  EXPECT_EQ(ParseError("\"\xC3\xA9\" = \xC3\xA9"),
            "line 1, column 7: unexpected character byte 0xC3");
  EXPECT_EQ(ParseError("a = \"\xFF\""), "line 1, column 6: invalid UTF-8");
  EXPECT_EQ(ParseError(std::string_view("a = \"x\0\"", 8)),
            "line 1, column 7: unexpected NUL character");
  EXPECT_EQ(ParseError("a = 1 /* never closed\n"), "line 1, column 7: unterminated comment");
}

TEST(HclTest, TooDeep) {
  std::string blocks;
  for (int i = 0; i < 64; ++i) blocks += "a {";
  blocks += std::string(64, '}');
  EXPECT_TRUE(Parse(blocks).ok());
  EXPECT_EQ(ParseError("a {" + blocks + "}"), "line 1, column 195: nesting too deep (limit 64)");

  EXPECT_TRUE(Parse("a = " + std::string(64, '[') + std::string(64, ']')).ok());
  EXPECT_THAT(ParseError("a = " + std::string(65, '[') + std::string(65, ']')),
              HasSubstr("nesting too deep"));
  // Labels count as levels, and a huge chain fails early.
  std::string labels = "a";
  for (int i = 0; i < 10000; ++i) labels += " b";
  EXPECT_THAT(ParseError(labels + " {}"), HasSubstr("nesting too deep"));
  // A custom limit.
  EXPECT_THAT(ParseError("a { b { c = [1] } }", Limits{.max_depth = 2}),
              StartsWith("line 1, column 13: nesting too deep (limit 2)"));
  EXPECT_TRUE(Parse("a { b { c = 1 } }", Limits{.max_depth = 2}).ok());
  // Very deep input is rejected quickly even with an absurd limit.
  EXPECT_THAT(ParseError(std::string(500000, '['), Limits{.max_depth = SIZE_MAX}),
              HasSubstr("expected a key"));
  EXPECT_THAT(ParseError("a = " + std::string(500000, '['), Limits{.max_depth = SIZE_MAX}),
              HasSubstr("nesting too deep (limit 256)"));
}

TEST(HclTest, TooLarge) {
  const std::string big = "a = \"" + std::string(100, 'x') + "\"";
  EXPECT_THAT(ParseError(big, Limits{.max_size = 50}),
              StartsWith("line 1, column 1: input too large"));
  EXPECT_TRUE(Parse(big, Limits{.max_size = big.size()}).ok());
  EXPECT_THAT(ParseError(std::string((1 << 20) + 1, ' ')), HasSubstr("input too large"));
}

TEST(HclTest, ErrorsDoNotEchoLongInputOrValues) {
  const std::string long_key(1000, 'k');
  const std::string msg = ParseError(long_key + " = 1\n" + long_key + " = 2\n");
  EXPECT_THAT(msg,
              StartsWith("line 2, column 1: duplicate key \"" + std::string(32, 'k') + "...\""));
  EXPECT_LT(msg.size(), 100u);
  // String values (which may be secrets) are described, not quoted.
  const std::string msg2 = ParseError("a = [\"s3cr3t\" \"hunter2\"]");
  EXPECT_THAT(msg2, HasSubstr("got string"));
  EXPECT_THAT(msg2, ::testing::Not(HasSubstr("hunter2")));
}

TEST(HclTest, LabelsMustShareTheKeyLine) {
  // A newline ends the label list, so `b` starts a new item.
  EXPECT_THAT(ParseError("a \"x\"\nb = 1"), StartsWith("line 1, column 6: expected '{'"));
  // The opening brace itself may sit on the next line.
  EXPECT_EQ(MustParse("path \"a\"\n{\n}\n"), (Json{{"path", {{"a", Json::object()}}}}));
}

TEST(HclTest, NeverCrashesOnTruncatedInputs) {
  // Every prefix of a valid document either parses or fails cleanly.
  const std::string doc = R"hcl(
path "secret/*" { capabilities = ["read", "list"] /* c */ }
x = { y = [1, 2.5, -0x10, 0600, true, "a\u00e9\"${b}"] }
h = <<-EOT
  text
  EOT
)hcl";
  ASSERT_TRUE(Parse(doc).ok());
  for (size_t n = 0; n < doc.size(); ++n) {
    auto r = Parse(std::string_view(doc).substr(0, n));
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), StartsWith("line "));
    }
  }
}

}  // namespace
}  // namespace sealbox::hcl
