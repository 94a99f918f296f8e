// ProducerSource: a ByteSource fed by a pushing producer on its own thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/byte_source.h"

namespace sealbox {

// A source written by a function on its own thread, for producers that push
// (a storage scan calls its visitor): `produce` writes through the sink it
// is given, which blocks while `max_queued` bytes wait to be read
// (backpressure), so the source never holds more than that plus one piece.
// The body ends when `produce` returns OK; its error breaks the body.
// Destruction abandons the body: the sink returns an error, which `produce`
// must pass on, and the destructor waits for the thread.
class ProducerSource final : public ByteSource {
 public:
  using Sink = std::function<Status(std::string_view)>;
  ProducerSource(std::function<Status(const Sink&)> produce, size_t max_queued);
  ~ProducerSource() override;
  ProducerSource(const ProducerSource&) = delete;
  ProducerSource& operator=(const ProducerSource&) = delete;
  Result<size_t> Read(char* buf, size_t cap) override;

 private:
  Status Push(std::string_view piece);

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  size_t queued_ = 0;              // bytes in queue_, less front_read_; guarded by mu_
  size_t front_read_ = 0;          // bytes of queue_.front() already read; guarded by mu_
  bool done_ = false;              // guarded by mu_
  bool abandoned_ = false;         // guarded by mu_
  Status error_;                   // guarded by mu_
  std::thread thread_;             // last: started once the rest is ready
};

}  // namespace sealbox
