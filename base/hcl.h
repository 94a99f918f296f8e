// HCL (HashiCorp Configuration Language, v1 syntax) to JSON.
//
// Sealbox reads HCL in two places: the server config file (`storage`,
// `listener`, `seal` blocks and top-level settings) and Vault ACL policies
// (`path "secret/*" { capabilities = [...] }`). Both are turned into plain JSON
// here, following HCL's JSON equivalence, so callers decode and validate JSON
// and never see HCL syntax:
//
//   key = value              -> {"key": value}
//   block "l1" "l2" { ... }  -> {"block": {"l1": {"l2": {...}}}}
//   block { ... }            -> {"block": {...}}   (same as `block = { ... }`)
//
// A repeated key whose old and new values are both objects is merged, so
// `path "a" {}` and `path "b" {}` give {"path": {"a": {}, "b": {}}}; any other
// repetition is an error ("duplicate key").
//
// Accepted syntax is the subset of HashiCorp's hcl v1 that Vault configs and
// policies use: `#`, `//` and `/* */` comments; identifiers ([A-Za-z_]
// followed by letters, digits, `_`, `-`, `.`); quoted strings with \" \\ \n \t
// \r \a \b \f \v \uXXXX \UXXXXXXXX escapes (`${...}` is kept literally);
// heredocs (`<<EOF` and the indented form `<<-EOF`); integers (decimal, 0x hex,
// leading-zero octal as in hcl v1), floats, `true`/`false`; lists with
// optional trailing comma; objects with `=` or `:` and optional commas.
// Block labels must be on the same line as the block's key (as in HCL 2), which
// turns a forgotten `=` into an error on the right line instead of a silently
// nested block.
//
// Errors are InvalidArgument("line N, column M: ..."); columns count UTF-8
// characters. Messages echo at most one key or identifier, truncated to 32
// characters; string values are never echoed.
//
// Thread-safety: Parse is a pure function; safe to call from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sealbox::hcl {

struct Limits {
  // Nesting of objects, lists and block labels (each label is one level).
  // Recursion depth is proportional to this; values above 256 are clamped.
  size_t max_depth = 64;
  // Input size in bytes.
  size_t max_size = 1 << 20;
};

// How repeated blocks combine. kMerge (the default, for configs and ACL
// policies) merges them as described above. kList appends each
// `key [labels...] { body }` block to a list under `key`, as hcl v1 decodes
// repeated blocks into a map: two `rule "charset" { ... }` blocks give
// {"rule": [{"charset": {...}}, {"charset": {...}}]} (password policies).
enum class Blocks { kMerge, kList };

// Where each key of the document was written, in document order, so a caller
// that rejects a key after parsing (the server config) can name its line.
struct KeyLine {
  std::string key;
  size_t line = 0;
};

// Parses a whole HCL document into a JSON object. Never crashes or hangs on
// malformed input; work is linear in the input size. With `key_lines`, every
// key (block keys and `key = value` alike) is appended there with its line.
Result<nlohmann::json> Parse(std::string_view text, const Limits& limits = {}, Blocks blocks = Blocks::kMerge,
                             std::vector<KeyLine>* key_lines = nullptr);

}  // namespace sealbox::hcl
