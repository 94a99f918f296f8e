#include "base/producer_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace sealbox {
namespace {

std::string ReadAll(ByteSource& src, Status* end) {
  std::string out;
  char buf[700];
  for (;;) {
    auto n = src.Read(buf, sizeof buf);
    if (!n.ok()) {
      *end = n.status();
      return out;
    }
    if (*n == 0) {
      *end = Status::Ok();
      return out;
    }
    out.append(buf, *n);
  }
}

TEST(ProducerSource, DeliversEverythingInOrderThenEnds) {
  std::string expected;
  for (int i = 0; i < 200; ++i) expected += "piece-" + std::to_string(i) + ";";
  ProducerSource src(
      [](const ProducerSource::Sink& sink) {
        for (int i = 0; i < 200; ++i) SB_RETURN_IF_ERROR(sink("piece-" + std::to_string(i) + ";"));
        return Status::Ok();
      },
      64);
  Status end;
  EXPECT_EQ(ReadAll(src, &end), expected);
  EXPECT_TRUE(end.ok());
  char b[4];
  EXPECT_EQ(*src.Read(b, sizeof b), 0u);
}

TEST(ProducerSource, AProducerErrorBreaksTheBody) {
  ProducerSource src(
      [](const ProducerSource::Sink& sink) {
        SB_RETURN_IF_ERROR(sink("some bytes"));
        return Internal("the store failed");
      },
      1024);
  Status end;
  EXPECT_EQ(ReadAll(src, &end), "some bytes");
  EXPECT_EQ(end.code(), StatusCode::kInternal);
}

TEST(ProducerSource, BackpressureBoundsWhatWaitsToBeRead) {
  constexpr size_t kMax = 4096, kPiece = 1000, kReadCap = 700;
  std::atomic<size_t> consumed{0};
  size_t worst = 0;
  ProducerSource src(
      [&](const ProducerSource::Sink& sink) {
        size_t pushed = 0;
        for (int i = 0; i < 500; ++i) {
          SB_RETURN_IF_ERROR(sink(std::string(kPiece, 'p')));
          pushed += kPiece;
          worst = std::max(worst, pushed - consumed.load());
        }
        return Status::Ok();
      },
      kMax);
  char buf[kReadCap];
  for (;;) {
    auto n = src.Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    consumed += *n;
  }
  EXPECT_EQ(consumed.load(), 500 * kPiece);
  // Queued plus one read the consumer has taken but not counted yet.
  EXPECT_LE(worst, kMax + kReadCap);
}

TEST(ProducerSource, DestroyingItStopsAProducerWaitingOnAFullQueue) {
  std::promise<Status> seen;
  {
    ProducerSource src(
        [&](const ProducerSource::Sink& sink) {
          Status s = Status::Ok();
          while (s.ok()) s = sink(std::string(100, 'x'));  // fills the queue, then waits
          seen.set_value(s);
          return s;
        },
        1000);
    char b[10];
    ASSERT_TRUE(src.Read(b, sizeof b).ok());
  }  // the reader goes away mid-body
  EXPECT_EQ(seen.get_future().get().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sealbox
