#include "base/producer_source.h"

#include <algorithm>
#include <cstring>

namespace sealbox {

ProducerSource::ProducerSource(std::function<Status(const Sink&)> produce, size_t max_queued)
    : max_queued_(max_queued) {
  thread_ = std::thread([this, produce = std::move(produce)] {
    Status s = produce([this](std::string_view piece) { return Push(piece); });
    std::lock_guard l(mu_);
    done_ = true;
    error_ = s;
    cv_.notify_all();
  });
}

ProducerSource::~ProducerSource() {
  {
    std::lock_guard l(mu_);
    abandoned_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

Status ProducerSource::Push(std::string_view piece) {
  if (piece.empty()) return Status::Ok();
  std::unique_lock l(mu_);
  // One piece always fits in an empty queue, however large.
  cv_.wait(l, [&] { return abandoned_ || queued_ == 0 || queued_ + piece.size() <= max_queued_; });
  if (abandoned_) return Unavailable("the reader went away");
  queue_.emplace_back(piece);
  queued_ += piece.size();
  cv_.notify_all();
  return Status::Ok();
}

Result<size_t> ProducerSource::Read(char* buf, size_t cap) {
  std::unique_lock l(mu_);
  cv_.wait(l, [&] { return queued_ > 0 || done_; });
  if (queued_ == 0) {
    if (!error_.ok()) return error_;
    return size_t{0};
  }
  size_t n = 0;
  while (n < cap && !queue_.empty()) {
    const std::string& front = queue_.front();
    const size_t take = std::min(cap - n, front.size() - front_read_);
    std::memcpy(buf + n, front.data() + front_read_, take);
    n += take;
    front_read_ += take;
    if (front_read_ == front.size()) {
      queue_.pop_front();
      front_read_ = 0;
    }
  }
  queued_ -= n;
  cv_.notify_all();
  return n;
}

}  // namespace sealbox
