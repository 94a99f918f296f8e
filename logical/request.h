// The backend SDK's request and response model (Vault's sdk/logical).
//
// A Request is built by api/ from an HTTP request, resolved by core/ (token,
// mount) and handed to a Backend with its path made mount-relative and its
// storage set to the mount's own view. A Response is what the backend returns;
// api/ renders it as Vault's envelope. Plain values; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_source.h"
#include "base/json_util.h"

namespace sealbox {
class Storage;
}

namespace sealbox::logical {

enum class Operation { kRead, kList, kCreate, kUpdate, kPatch, kDelete, kRenew, kRevoke, kHelp };
inline constexpr size_t kOperationCount = 9;

// "read", "list", "create", ... as Vault names them in audit entries.
std::string_view OperationName(Operation op);

// The resolved calling token, filled in by core/ before routing.
struct TokenInfo {
  std::string accessor;
  std::vector<std::string> policies;
  std::string display_name;
  Json metadata = nullptr;  // object or null
  std::string entity_id;
  std::string token_type = "service";
  int64_t ttl = 0;                 // remaining seconds, 0 = never expires
  int64_t issue_time_nanos = 0;
  std::string storage_id;          // salted hash of the token: a stable private key prefix
  bool is_root = false;
  bool orphan = false;
};

struct Request {
  std::string id;  // request UUID, echoed as request_id
  Operation op = Operation::kRead;
  // Before routing: the full API path without "/v1/". After: mount-relative.
  std::string path;
  std::string original_path;       // full path, for audit and errors
  std::string mount_point;         // "secret/" (set by the router)
  std::string mount_type;
  std::string mount_accessor;
  std::string mount_class;         // "secret" or "auth"
  Json data = Json::object();      // body or query parameters
  std::string client_token;        // raw token: never logged, never stored
  std::optional<TokenInfo> token;  // set when the token resolved
  std::string remote_addr;
  int remote_port = 0;
  std::string request_uri;
  std::string content_type;
  Storage* storage = nullptr;      // the mount's view, set by the router
  bool unauthenticated = false;    // login path: no token required
  // The HTTP body as received (it outlives the request: api/ holds it). A
  // request refused before authentication is audited with this body's size
  // and HMAC in place of its data (data_elided), so an anonymous caller
  // cannot make the audit log grow by more than a line per request.
  std::string_view raw_body;
  bool data_elided = false;
  // X-Vault-Wrap-TTL in seconds: wrap the response in a single-use token
  // living that long. 0: no wrapping.
  int64_t wrap_ttl = 0;
};

struct Secret {
  std::string lease_id;
  int64_t ttl = 0;
  int64_t max_ttl = 0;
  bool renewable = false;
  Json internal_data = nullptr;  // kept by the lease manager, never returned
};

struct Auth {
  std::string client_token;
  std::string accessor;
  std::vector<std::string> policies;        // sorted, includes "default" unless omitted
  std::vector<std::string> token_policies;  // omitempty in the envelope
  std::vector<std::string> identity_policies;
  Json metadata = nullptr;                  // string map or null
  int64_t ttl = 0;                          // lease_duration
  int64_t max_ttl = 0;
  int64_t explicit_max_ttl = 0;
  int64_t period = 0;
  bool renewable = true;
  std::string display_name;
  int num_uses = 0;
  std::string entity_id;
  std::string token_type = "service";
  bool orphan = false;
  bool no_default_policy = false;
  std::string alias_name;                   // auth methods: stable identity (e.g. SA uid)
  Json alias_metadata = nullptr;            // string map or null: the alias's metadata (never returned)
  std::vector<std::string> bound_cidrs;
  Json internal_data = nullptr;             // for renew re-checks; never returned
};

// A wrapped response's only content: where its payload waits.
struct WrapInfo {
  std::string token;             // the single-use wrapping token (never logged in clear)
  std::string accessor;
  int64_t ttl = 0;
  std::string creation_time;     // RFC 3339, nanoseconds
  std::string creation_path;
  std::string wrapped_accessor;  // the accessor of a wrapped token, if one was wrapped
};

struct Response {
  std::optional<Json> data;  // nullopt renders as "data": null
  std::optional<Secret> secret;
  std::optional<Auth> auth;
  std::vector<std::string> warnings;
  // 0: 200 when anything is set, else 204 (404 for reads and lists). Non-zero
  // forces the status (KV v2's 404 with metadata, 202 for async revoke).
  int http_status = 0;
  // Copy every key of data to the top level (old sys/ endpoints, contract §3).
  bool inject_top_level = false;
  // Errors returned alongside data (KV v2 deleted versions); rendered into "errors".
  std::vector<std::string> errors;
  std::optional<WrapInfo> wrap_info;
  // A response stored earlier and handed back as it was (an unwrap): its
  // token was issued and its lease registered when it was first made.
  bool replayed = false;
  // A body sent as it is rather than in an envelope (Vault's raw HTTP
  // responses, such as sys/metrics): its status, content type and bytes,
  // or the source it is sent from as it is made (a snapshot).
  struct RawBody {
    int status = 200;
    std::string content_type;
    std::string body;
    std::shared_ptr<ByteSource> stream;
  };
  std::optional<RawBody> raw;

  bool IsEmpty() const {
    return !data && !secret && !auth && warnings.empty() && http_status == 0 && errors.empty() && !wrap_info &&
           !raw;
  }
  static Response Empty() { return Response{}; }
  static Response WithData(Json d) {
    Response r;
    r.data = std::move(d);
    return r;
  }
};

}  // namespace sealbox::logical
