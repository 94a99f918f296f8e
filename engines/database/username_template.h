// Username templates: the subset of Go's text/template that Vault's database
// plugins use for `username_template` (Vault's sdk/helper/template).
//
//   {{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}
//
// Supported: literal text; actions `{{ ... }}` with `{{-` / `-}}` trimming
// and `{{/* comments */}}`; pipelines `a | f x | g` (the piped value is the
// last argument); parentheses; the fields `.DisplayName` and `.RoleName`;
// string literals ("..." with Go escapes, `raw`) and integer literals; the
// functions
//   printf FORMAT ARGS...   %s %v %d %% (Go's %!d(string=x) forms on mismatch)
//   truncate N S            first N bytes (never splitting a UTF-8 character)
//   truncate_sha256 N S     S if it fits, else its first N-8 bytes followed by
//                           8 hex digits of SHA-256 of the rest (N > 8)
//   uppercase S, lowercase S (ASCII), replace OLD NEW S, sha256 S (hex),
//   base64 S, random N (N base62 characters, 1..1024), unix_time,
//   unix_time_millis, timestamp LAYOUT (Go layout, UTC), uuid.
// Everything else (if/range/with, variables, other functions, unknown
// fields) is refused when the template is parsed, with a message naming the
// problem; argument counts and types are checked then too, so rendering can
// only fail on a bad runtime value (truncate 0, random 0).
//
// Thread-safety: a parsed template is immutable; Render may be called
// concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engines/database/go_time_layout.h"

namespace sealbox::engines::database {

inline constexpr const char* kDefaultUsernameTemplate =
    R"({{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }})";

struct UsernameMetadata {
  std::string display_name;  // .DisplayName
  std::string role_name;     // .RoleName
};

// What the time and randomness functions read; defaults are the real clock,
// RAND_bytes base62 and random UUIDs. Tests replace them.
struct TemplateEnv {
  int64_t unix_nanos = -1;  // < 0: now
  std::function<std::string(size_t)> random;  // empty: crypto::RandomBase62
  std::function<std::string()> uuid;          // empty: crypto::Uuid
};

class UsernameTemplate {
 public:
  // Parses `text`; InvalidArgument("template: <where>: <what>") if it is not
  // in the supported subset.
  static Result<UsernameTemplate> Parse(std::string_view text);

  // Renders for one credential. Errors are InvalidArgument and never contain
  // rendered values.
  Result<std::string> Render(const UsernameMetadata& md, const TemplateEnv& env = {}) const;

  struct Node;  // parsed form, in the .cc

 private:
  std::shared_ptr<const Node> root_;
};

}  // namespace sealbox::engines::database
