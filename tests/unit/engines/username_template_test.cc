// Unit tests of the username template engine (Vault's Go-template subset).
#include "engines/database/username_template.h"

#include <gtest/gtest.h>

#include <regex>

namespace sealbox::engines::database {
namespace {

constexpr int64_t kNanos = 1'714'557'600'123'456'789;  // 2024-05-01T10:00:00.123456789Z

TemplateEnv FixedEnv() {
  TemplateEnv env;
  env.unix_nanos = kNanos;
  env.random = [](size_t n) { return std::string(n, 'R'); };
  env.uuid = [] { return std::string("00000000-1111-4222-8333-444444444444"); };
  return env;
}

std::string Render(const std::string& text, const UsernameMetadata& md = {"token", "myrolename"}) {
  auto t = UsernameTemplate::Parse(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().message();
  if (!t.ok()) return "<parse error>";
  auto r = t->Render(md, FixedEnv());
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : "<render error>";
}

std::string ParseError(const std::string& text) {
  auto t = UsernameTemplate::Parse(text);
  EXPECT_FALSE(t.ok()) << text;
  return t.ok() ? "" : t.status().message();
}

TEST(UsernameTemplateTest, DefaultTemplateAsVault) {
  EXPECT_EQ(Render(kDefaultUsernameTemplate), "v-token-myrolena-RRRRRRRRRRRRRRRRRRRR-1714557600");
  EXPECT_EQ(Render(kDefaultUsernameTemplate, {"kubernetes-default-app", "ro"}),
            "v-kubernet-ro-RRRRRRRRRRRRRRRRRRRR-1714557600");
  // Real randomness: base62, and the whole name fits PostgreSQL's 63 bytes.
  auto t = UsernameTemplate::Parse(kDefaultUsernameTemplate);
  ASSERT_TRUE(t.ok());
  auto r = t->Render({"a-very-long-display-name", "a-very-long-role-name"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::regex_match(*r, std::regex("v-a-very-l-a-very-l-[0-9A-Za-z]{20}-[0-9]{10}"))) << *r;
  // Empty metadata (the config-time trial) renders too.
  EXPECT_EQ(Render(kDefaultUsernameTemplate, {}), "v---RRRRRRRRRRRRRRRRRRRR-1714557600");
}

TEST(UsernameTemplateTest, LiteralsFieldsAndPipelines) {
  EXPECT_EQ(Render("plain"), "plain");
  EXPECT_EQ(Render(""), "");
  EXPECT_EQ(Render("app-{{.RoleName}}-{{ .DisplayName }}"), "app-myrolename-token");
  EXPECT_EQ(Render("{{ .RoleName | truncate 4 | uppercase }}"), "MYRO");
  EXPECT_EQ(Render("{{ \"x\\ty\" }}|{{ `raw\\n` }}"), "x\ty|raw\\n");
  EXPECT_EQ(Render("{{ (.RoleName) }}"), "myrolename");
  EXPECT_EQ(Render("a {{- \" b \" -}} c"), "a b c");
  EXPECT_EQ(Render("a {{/* a comment */}}b"), "a b");
  EXPECT_EQ(Render("a  {{- /* trimmed */ -}}  b"), "ab");
  EXPECT_EQ(Render("{{ printf \"%s_%s\" (.RoleName | truncate 2) (\"\\u00e9\" | uppercase) }}"), "my_\xC3\xA9");
}

TEST(UsernameTemplateTest, Functions) {
  EXPECT_EQ(Render("{{ truncate 3 \"abcdef\" }}"), "abc");
  EXPECT_EQ(Render("{{ truncate 10 \"abc\" }}"), "abc");
  // Never splits a UTF-8 character.
  EXPECT_EQ(Render("{{ truncate 2 \"a\\u00e9\" }}"), "a");
  // truncate_sha256: first N-8 bytes + 8 hex digits of SHA-256 of the rest (computed with Python hashlib).
  EXPECT_EQ(Render("{{ truncate_sha256 20 \"abcdefghijklmnopqrstuvwxyz\" }}"), "abcdefghijkl" "872808ff");
  EXPECT_EQ(Render("{{ truncate_sha256 30 \"short\" }}"), "short");
  EXPECT_EQ(Render("{{ .DisplayName | uppercase }}{{ \"ABC\" | lowercase }}"), "TOKENabc");
  EXPECT_EQ(Render("{{ .RoleName | replace \"role\" \"_\" }}"), "my_name");
  EXPECT_EQ(Render("{{ replace \"-\" \"_\" \"a-b-c\" }}"), "a_b_c");
  EXPECT_EQ(Render("{{ sha256 \"abc\" }}"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Render("{{ base64 \"hello\" }}"), "aGVsbG8=");
  EXPECT_EQ(Render("{{ random 5 }}"), "RRRRR");
  EXPECT_EQ(Render("{{ unix_time }}"), "1714557600");
  EXPECT_EQ(Render("{{ unix_time_millis }}"), "1714557600123");
  EXPECT_EQ(Render("{{ uuid }}"), "00000000-1111-4222-8333-444444444444");
  EXPECT_EQ(Render("{{ timestamp \"2006-01-02T15:04:05Z07:00\" }}"), "2024-05-01T10:00:00Z");
  EXPECT_EQ(Render("{{ timestamp \"20060102150405\" }}"), "20240501100000");
  EXPECT_EQ(Render("{{ printf \"%s-%d-%v-%%\" \"a\" 42 7 }}"), "a-42-7-%");
}

TEST(UsernameTemplateTest, GoLayouts) {
  EXPECT_EQ(FormatGoLayout(kNanos, "2006-01-02 15:04:05.000 MST"), "2024-05-01 10:00:00.123 UTC");
  EXPECT_EQ(FormatGoLayout(kNanos, "Mon Jan _2 3:04PM 06"), "Wed May  1 10:00AM 24");
  EXPECT_EQ(FormatGoLayout(kNanos, "Monday January 2 -07:00 -0700 .999999999"),
            "Wednesday May 1 +00:00 +0000 .123456789");
  EXPECT_EQ(FormatGoLayout(kNanos, "002 pm"), "122 am");
}

TEST(UsernameTemplateTest, PrintfMismatchesAsGo) {
  EXPECT_EQ(Render("{{ printf \"%d\" \"x\" }}"), "%!d(string=x)");
  EXPECT_EQ(Render("{{ printf \"%s\" 5 }}"), "%!s(int=5)");
  EXPECT_EQ(Render("{{ printf \"%s %s\" \"a\" }}"), "a %!s(MISSING)");
  EXPECT_EQ(Render("{{ printf \"%s\" \"a\" \"b\" }}"), "a%!(EXTRA string=b)");
}

TEST(UsernameTemplateTest, QuotesAndSemicolonsAreJustCharacters) {
  // The engine renders whatever the template says; the database engine
  // quotes the result as an identifier (see database_test.cc).
  EXPECT_EQ(Render("{{ printf \"x\\\"; DROP TABLE t; --%s\" .RoleName }}"), "x\"; DROP TABLE t; --myrolename");
}

TEST(UsernameTemplateTest, ParseErrorsAreClear) {
  EXPECT_NE(ParseError("{{ nope 3 }}").find("function \"nope\" not defined"), std::string::npos);
  EXPECT_NE(ParseError("{{ .Foo }}").find("can't evaluate field Foo"), std::string::npos);
  EXPECT_NE(ParseError("{{ .DisplayName.X }}").find("field chains"), std::string::npos);
  EXPECT_NE(ParseError("{{ if .RoleName }}x{{ end }}").find("\"if\" is not supported"), std::string::npos);
  EXPECT_NE(ParseError("{{ $x := 1 }}").find("variables"), std::string::npos);
  EXPECT_NE(ParseError("{{ .RoleName").find("unclosed action"), std::string::npos);
  EXPECT_NE(ParseError("{{ truncate \"8\" .RoleName }}").find("expected int; got string"), std::string::npos);
  EXPECT_NE(ParseError("{{ truncate 8 }}").find("wrong number of args for truncate: want 2 got 1"),
            std::string::npos);
  EXPECT_NE(ParseError("{{ uuid 3 }}").find("wrong number of args for uuid"), std::string::npos);
  EXPECT_NE(ParseError("{{ .RoleName 3 }}").find("can't give argument to non-function"), std::string::npos);
  EXPECT_NE(ParseError("{{ printf \"%x\" .RoleName }}").find("unsupported verb"), std::string::npos);
  EXPECT_NE(ParseError("{{ printf \"%s\" truncate }}").find("needs arguments"), std::string::npos);
  EXPECT_NE(ParseError("{{ (.RoleName }}").find("unclosed left paren"), std::string::npos);
  EXPECT_NE(ParseError("{{ \"abc }}").find("unterminated quoted string"), std::string::npos);
  EXPECT_NE(ParseError("{{ }}").find("missing value"), std::string::npos);
  EXPECT_NE(ParseError("{{ .RoleName | }}").find("missing command after '|'"), std::string::npos);
  EXPECT_NE(ParseError("{{/* never closed }}").find("unclosed comment"), std::string::npos);
  EXPECT_NE(ParseError(std::string(5000, 'a')).find("too long"), std::string::npos);
  // Positions: line and column.
  EXPECT_EQ(ParseError("ab\n{{ nope }}").rfind("template:2:", 0), 0u);
}

TEST(UsernameTemplateTest, RuntimeErrors) {
  for (const char* text : {"{{ truncate 0 .RoleName }}", "{{ truncate_sha256 8 .RoleName }}", "{{ random 0 }}",
                           "{{ random 5000 }}"}) {
    auto t = UsernameTemplate::Parse(text);
    ASSERT_TRUE(t.ok()) << text;
    EXPECT_FALSE(t->Render({"a", "b"}).ok()) << text;
  }
  // Deep nesting is bounded.
  std::string deep = "{{ " + std::string(40, '(') + ".RoleName" + std::string(40, ')') + " }}";
  EXPECT_NE(ParseError(deep).find("nesting too deep"), std::string::npos);
}

}  // namespace
}  // namespace sealbox::engines::database
