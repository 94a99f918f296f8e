#include "base/go_string.h"

#include <gtest/gtest.h>

#include <string>

namespace sealbox {
namespace {

// The decoded bytes of `escape` (the text after a backslash), or the error
// message; also checks how much of the text the escape took.
std::string Decode(std::string_view escape, size_t want_taken, ByteEscapes bytes = ByteEscapes::kAllowed) {
  std::string out = "<";
  auto taken = AppendGoEscape(escape, out, bytes);
  if (!taken.ok()) {
    EXPECT_EQ(out, "<") << "an error must leave the output as it was";
    return "error: " + taken.status().message();
  }
  EXPECT_EQ(*taken, want_taken) << escape;
  return out.substr(1);
}

TEST(GoStringTest, SimpleEscapes) {
  EXPECT_EQ(Decode("a", 1), "\a");
  EXPECT_EQ(Decode("b", 1), "\b");
  EXPECT_EQ(Decode("f", 1), "\f");
  EXPECT_EQ(Decode("n", 1), "\n");
  EXPECT_EQ(Decode("rest", 1), "\r");  // only the escape is taken
  EXPECT_EQ(Decode("t", 1), "\t");
  EXPECT_EQ(Decode("v", 1), "\v");
  EXPECT_EQ(Decode("\\", 1), "\\");
  EXPECT_EQ(Decode("\"", 1), "\"");
}

TEST(GoStringTest, UnicodeEscapesAreUtf8) {
  EXPECT_EQ(Decode("u0041", 5), "A");
  EXPECT_EQ(Decode("u00e9x", 5), "\xc3\xa9");
  EXPECT_EQ(Decode("u20AC", 5), "\xe2\x82\xac");
  EXPECT_EQ(Decode("U0001F600", 9), "\xf0\x9f\x98\x80");
  EXPECT_EQ(Decode("U0010FFFF", 9), "\xf4\x8f\xbf\xbf");
  EXPECT_EQ(Decode("u12", 0), "error: invalid unicode escape");        // too few digits
  EXPECT_EQ(Decode("u12g4", 0), "error: invalid unicode escape");      // not hex
  EXPECT_EQ(Decode("u+041", 0), "error: invalid unicode escape");      // no sign
  EXPECT_EQ(Decode("ud800", 0), "error: invalid unicode escape");      // surrogate
  EXPECT_EQ(Decode("uDFFF", 0), "error: invalid unicode escape");      // surrogate
  EXPECT_EQ(Decode("U00110000", 0), "error: invalid unicode escape");  // past U+10FFFF
}

// \x and octal give one byte as is (Go's rules), unless the reader refuses them.
TEST(GoStringTest, ByteEscapes) {
  EXPECT_EQ(Decode("x41", 3), "A");
  EXPECT_EQ(Decode("xfF9", 3), "\xff");
  EXPECT_EQ(Decode("101", 3), "A");
  EXPECT_EQ(Decode("0000", 3), std::string(1, '\0'));
  EXPECT_EQ(Decode("377", 3), "\xff");
  EXPECT_EQ(Decode("400", 0), "error: invalid escape sequence");  // past \377
  EXPECT_EQ(Decode("18", 0), "error: invalid escape sequence");   // not octal
  EXPECT_EQ(Decode("12", 0), "error: invalid escape sequence");   // too few digits
  EXPECT_EQ(Decode("x4", 0), "error: invalid escape sequence");
  EXPECT_EQ(Decode("x-1", 0), "error: invalid escape sequence");
  EXPECT_EQ(Decode("x41", 0, ByteEscapes::kRefused), "error: invalid escape sequence");
  EXPECT_EQ(Decode("101", 0, ByteEscapes::kRefused), "error: invalid escape sequence");
  EXPECT_EQ(Decode("u0041", 5, ByteEscapes::kRefused), "A");
}

TEST(GoStringTest, AnythingElseIsRefused) {
  for (std::string_view e : {"", "q", "'", "\n", "8", "e", "/"})
    EXPECT_EQ(Decode(e, 0), "error: invalid escape sequence") << e;
}

}  // namespace
}  // namespace sealbox
