// Request framing checks that Beast leaves to its user (RFC 9112): a request
// whose body length two parties could read differently is answered with an
// error and the connection closed, before any of its body is read.
//
//   Transfer-Encoding (all of its fields, as one list of codings):
//     - "chunked" missing, not last, or twice       → 400 (§6.3: the length
//       cannot be determined; "chunked, identity" once made the server read
//       the body as a second request on the connection);
//     - any coding besides a final "chunked"        → 501 (§6.1: not understood);
//     - in an HTTP/1.0 request                      → 400 (§6.1: faulty framing);
//     - beside a Content-Length                     → 400 (§6.3 allows it;
//       the classic request smuggling).
//   Host (§3.2): HTTP/1.1 without one, or any request with two → 400.
//
// Pure function of the request line's version and the header fields; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sealbox::server {

struct FramingError {
  int status;           // 400 or 501
  std::string message;  // for the {"errors":[...]} body
};

// `version` is 10 or 11; header names are lowercased, values as sent.
std::optional<FramingError> CheckFraming(unsigned version,
                                         const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace sealbox::server
