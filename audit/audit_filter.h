// AuditFilter: the `filter` option of an audit device (Vault Enterprise's
// syntax, go-bexpr style), deciding which entries the device records:
//
//   operation != "read" or path != "auth/token/lookup-self"
//   mount_type == "kv" and not (path matches "^secret/data/scratch/")
//
// Fields: operation, path, mount_point, mount_type, mount_class, namespace
// (always "root"). Operators: == and != (exact), matches and "not matches"
// (ECMAScript regular expression, searched anywhere in the value), and, or,
// not, parentheses. An entry is recorded when the expression is true. The
// broker never applies a filter to a failed request: errors are always
// recorded.
//
// Thread-safety: immutable after Parse; Matches may run concurrently.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sealbox::audit {

struct FilterFields {
  std::string_view operation, path, mount_point, mount_type, mount_class;
};

class AuditFilter {
 public:
  // Errors: InvalidArgument naming the position and what was expected.
  static Result<std::shared_ptr<const AuditFilter>> Parse(std::string_view expression);
  bool Matches(const FilterFields& fields) const;

  struct Node;  // the parsed expression (defined in the .cc)
  ~AuditFilter();

 private:
  AuditFilter() = default;
  std::unique_ptr<Node> root_;
};

}  // namespace sealbox::audit
