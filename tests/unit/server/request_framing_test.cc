#include "server/request_framing.h"

#include <gtest/gtest.h>

namespace sealbox::server {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

int StatusOf(unsigned version, const Headers& h) {
  auto e = CheckFraming(version, h);
  return e ? e->status : 0;
}

TEST(RequestFramingTest, ChunkedMustBeTheOnlyAndFinalCoding) {
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", "chunked"}}), 0);
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", " Chunked "}}), 0);
  // Not final, or missing: the body length is unknown (RFC 9112 §6.3).
  for (std::string te : {"chunked, identity", "identity", "gzip", "chunked,chunked", "", " , ", "chunked;x=1, br"})
    EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", te}}), 400) << te;
  // Split over two fields: one list.
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", "chunked"}, {"transfer-encoding", "identity"}}), 400);
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}}), 400);
  // Final chunked over a coding we do not decode: not implemented.
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", "gzip, chunked"}}), 501);
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"transfer-encoding", "identity"}, {"transfer-encoding", "chunked"}}), 501);
  // Two lengths that may disagree.
  EXPECT_EQ(StatusOf(11, {{"host", "x"}, {"content-length", "4"}, {"transfer-encoding", "chunked"}}), 400);
  // HTTP/1.0 has no transfer codings: faulty framing.
  EXPECT_EQ(StatusOf(10, {{"transfer-encoding", "chunked"}}), 400);
}

TEST(RequestFramingTest, ExactlyOneHostInHttp11) {
  EXPECT_EQ(StatusOf(11, {{"host", "x"}}), 0);
  EXPECT_EQ(StatusOf(11, {{"host", ""}}), 0);  // empty is allowed (RFC 9112 §3.2)
  EXPECT_EQ(StatusOf(11, {}), 400);
  EXPECT_EQ(StatusOf(11, {{"host", "a"}, {"host", "b"}}), 400);
  EXPECT_EQ(StatusOf(11, {{"host", "a"}, {"host", "a"}}), 400);
  EXPECT_EQ(StatusOf(10, {}), 0);
  EXPECT_EQ(StatusOf(10, {{"host", "a"}, {"host", "b"}}), 400);
  EXPECT_EQ(CheckFraming(11, {})->message, "missing required Host header");
}

}  // namespace
}  // namespace sealbox::server
