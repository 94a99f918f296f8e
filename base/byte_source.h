// A body made while it is sent (a streamed snapshot): the seam between a
// producer above the server (core/) and the server that writes it out.
#pragma once

#include <cstddef>

#include "base/status.h"

namespace sealbox {

// Pulled by one consumer at a time, from any thread; Read may block (it
// reads the store). Destroying the source abandons it (the producer stops).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `cap` next bytes into `buf`; 0 at the end. An error means the
  // body is broken: what was read must not be presented as whole.
  virtual Result<size_t> Read(char* buf, size_t cap) = 0;
};

}  // namespace sealbox
