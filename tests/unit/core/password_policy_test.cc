// Unit tests of password policies: parsing and validation (HCL and JSON),
// generation guarantees and uniformity, and the store.
#include "core/password_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/hcl.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

constexpr const char* kPolicy = R"(
length = 20
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
rule "charset" {
  charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 1
}
rule "charset" {
  charset = "0123456789"
  min-chars = 2
}
rule "charset" {
  charset = "!@#$%^&*"
  min-chars = 1
}
)";

std::string Err(const std::string& text) {
  auto p = ParsePasswordPolicy(text);
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : p.status().message();
}

size_t Count(const std::string& s, const std::string& set) {
  size_t n = 0;
  for (char c : s) n += set.find(c) != std::string::npos;
  return n;
}

TEST(PasswordPolicyTest, HclRepeatedBlocksAsList) {
  auto j = hcl::Parse("length = 5\nrule \"charset\" { charset = \"ab\" }\nrule \"charset\" { charset = \"cd\" }", {},
                      hcl::Blocks::kList);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(*j, nlohmann::json::parse(
                    R"({"length":5,"rule":[{"charset":{"charset":"ab"}},{"charset":{"charset":"cd"}}]})"));
  // The default (merge) mode still reports the repetition as a duplicate.
  EXPECT_FALSE(hcl::Parse("rule \"charset\" { charset = \"ab\" }\nrule \"charset\" { charset = \"cd\" }").ok());
  // A scalar and a block under one key is a duplicate in list mode too.
  EXPECT_FALSE(hcl::Parse("rule = 1\nrule \"charset\" {}", {}, hcl::Blocks::kList).ok());
}

TEST(PasswordPolicyTest, ParsesHclAndJson) {
  auto p = ParsePasswordPolicy(kPolicy);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->length, 20);
  ASSERT_EQ(p->rules.size(), 4u);
  EXPECT_EQ(p->rules[2].min_chars, 2);
  EXPECT_EQ(p->charset.size(), 26u + 26 + 10 + 8);

  auto j = ParsePasswordPolicy(
      R"({"length": 8, "rule": [{"charset": {"charset": "ab", "min-chars": 1}}, {"charset": {"charset": "cd"}}]})");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->rules.size(), 2u);
  auto j2 = ParsePasswordPolicy(R"({"length": 8, "rule": {"charset": [{"charset": "ab"}, {"charset": "bc"}]}})");
  ASSERT_TRUE(j2.ok()) << j2.status().message();
  EXPECT_EQ(j2->charset.size(), 3u);  // distinct characters of the union
  // A top-level charset, as Vault allows.
  auto t = ParsePasswordPolicy("length = 6\ncharset = \"xyz\"");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->charset.size(), 3u);
}

TEST(PasswordPolicyTest, ValidationMessages) {
  EXPECT_EQ(Err("length = 3\nrule \"charset\" { charset = \"ab\" }"), "passwords must be between 4 and 100 characters");
  EXPECT_EQ(Err("length = 101\nrule \"charset\" { charset = \"ab\" }"),
            "passwords must be between 4 and 100 characters");
  EXPECT_EQ(Err("rule \"charset\" { charset = \"ab\" }"), "passwords must be between 4 and 100 characters");
  EXPECT_EQ(Err("length = 10"), "no charset specified: add at least one rule \"charset\" block");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" { charset = \"\" }"), "rule \"charset\" #1: charset must not be empty");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" { min-chars = 1 }"), "rule \"charset\" #1: charset must not be empty");
  EXPECT_EQ(Err("length = 4\nrule \"charset\" { charset = \"ab\" min-chars = 3 }\n"
                "rule \"charset\" { charset = \"cd\" min-chars = 2 }"),
            "specified rules require at least 5 characters but 4 is specified");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" { charset = \"a\\tb\" }"),
            "rule \"charset\" #1: non-printable character in charset");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" { charset = \"ab\" min_chars = 1 }"),
            "rule \"charset\" #1: unknown key \"min_chars\" (expected charset, min-chars)");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" { charset = \"ab\" min-chars = -1 }"),
            "rule \"charset\" #1: min-chars must be a non-negative integer");
  EXPECT_EQ(Err("length = 10\nrule \"regex\" { pattern = \"x\" }"), "unrecognized rule type \"regex\"");
  EXPECT_EQ(Err("length = 10\nlenght = 3"), "unknown key \"lenght\" (expected length, rule, charset)");
  EXPECT_EQ(Err("length = \"ten\"\nrule \"charset\" { charset = \"ab\" }"), "length must be an integer");
  EXPECT_EQ(Err("length = 10\nrule \"charset\" {").rfind("unable to parse policy: line 2", 0), 0u);
  // Charsets are never echoed in errors.
  EXPECT_EQ(Err("length = 4\nrule \"charset\" { charset = \"s3cretChars\" min-chars = 9 }").find("s3cret"),
            std::string::npos);
}

TEST(PasswordPolicyTest, GeneratedPasswordsFollowTheRules) {
  auto p = ParsePasswordPolicy(kPolicy);
  ASSERT_TRUE(p.ok());
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string pw = GeneratePassword(*p);
    ASSERT_EQ(pw.size(), 20u);
    EXPECT_GE(Count(pw, "abcdefghijklmnopqrstuvwxyz"), 1u) << pw;
    EXPECT_GE(Count(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 1u) << pw;
    EXPECT_GE(Count(pw, "0123456789"), 2u) << pw;
    EXPECT_GE(Count(pw, "!@#$%^&*"), 1u) << pw;
    seen.insert(pw);
  }
  EXPECT_EQ(seen.size(), 2000u);
  // min-chars filling the whole length.
  auto full = ParsePasswordPolicy("length = 4\nrule \"charset\" { charset = \"a\" min-chars = 2 }\n"
                                  "rule \"charset\" { charset = \"b\" min-chars = 2 }");
  ASSERT_TRUE(full.ok());
  for (int i = 0; i < 50; ++i) {
    std::string pw = GeneratePassword(*full);
    EXPECT_EQ(Count(pw, "a"), 2u);
    EXPECT_EQ(Count(pw, "b"), 2u);
  }
}

TEST(PasswordPolicyTest, Utf8CharactersCountAsOne) {
  auto p = ParsePasswordPolicy("length = 10\nrule \"charset\" { charset = \"\xC3\xA9\xE2\x82\xAC\" min-chars = 10 }");
  ASSERT_TRUE(p.ok()) << p.status().message();
  std::string pw = GeneratePassword(*p);
  size_t chars = 0;
  for (unsigned char c : pw) chars += (c & 0xC0) != 0x80;
  EXPECT_EQ(chars, 10u);
}

TEST(PasswordPolicyTest, SelectionIsUnbiasedAndShuffled) {
  // 3 characters (2^32 is not a multiple of 3: modulo would be biased by a
  // hair; rejection sampling is exact). Each should land near 1/3.
  std::map<uint64_t, int> counts;
  const int n = 30000;
  for (int i = 0; i < n; ++i) ++counts[UniformRandom(3)];
  for (uint64_t k = 0; k < 3; ++k) EXPECT_NEAR(counts[k], n / 3, n / 3 * 0.06) << k;
  // The min-chars character does not sit at a fixed position.
  auto p = ParsePasswordPolicy("length = 8\nrule \"charset\" { charset = \"X\" min-chars = 1 }\n"
                               "rule \"charset\" { charset = \"abcdefgh\" }");
  ASSERT_TRUE(p.ok());
  std::set<size_t> positions;
  for (int i = 0; i < 400; ++i) positions.insert(GeneratePassword(*p).find('X'));
  EXPECT_EQ(positions.size(), 8u);
}

TEST(PasswordPolicyTest, Store) {
  auto physical = NewInMemStorage();
  PasswordPolicyStore store(physical.get());
  EXPECT_FALSE(store.Put("bad", "length = 2").ok());
  ASSERT_TRUE(store.Put("strict", kPolicy).ok());
  auto text = store.Get("strict");
  ASSERT_TRUE(text.ok() && text->has_value());
  EXPECT_EQ(**text, kPolicy);
  auto names = store.List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"strict"});
  auto pw = store.Generate("strict");
  ASSERT_TRUE(pw.ok());
  EXPECT_EQ(pw->size(), 20u);
  auto missing = store.Generate("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "password policy \"nope\" does not exist");
  ASSERT_TRUE(store.Delete("strict").ok());
  EXPECT_FALSE(store.Get("strict")->has_value());
}

}  // namespace
}  // namespace sealbox::core
