// The text of one audit entry (contract §6.1), written straight from the
// request and response: no JSON tree is built, copied, hashed in place or
// pruned. Building, hashing and serialising a tree per entry per device was
// most of the cost of an audited read (docs/performance.md).
//
// The text is what Vault writes: keys in sorted order, empty strings, maps and
// lists and nulls left out (Go's omitempty, applied through nested maps but
// not inside lists), secrets as "hmac-sha256:<hex>" under the device's salt.
// Thread-safe: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "logical/request.h"

namespace sealbox::crypto {
class HmacSha256Key;
}

namespace sealbox::audit {

// What the core knows about the mount a request went to, for the entry.
struct MountInfo {
  std::vector<std::string> non_hmac_request_keys;
  std::vector<std::string> non_hmac_response_keys;
};

// A device's formatting options.
struct EntryOptions {
  bool log_raw = false;        // nothing hashed
  bool hmac_accessor = true;   // accessors hashed
  bool elide_lists = false;    // list responses: keys/key_info replaced by their counts
};

// Appends the entry object ("{...}", no newline) to `out`. `type` is
// "request" or "response"; `resp` is null for request entries; `error` is
// empty on success.
void AppendEntry(std::string& out, std::string_view type, std::string_view time, const logical::Request& req,
                 const MountInfo& mount, const logical::Response* resp, std::string_view error,
                 const EntryOptions& opt, const crypto::HmacSha256Key& salt);

// "hmac-sha256:<hex>" of `v`: what sys/audit-hash answers and entries hold.
std::string HashValue(const crypto::HmacSha256Key& salt, std::string_view v);

}  // namespace sealbox::audit
