// RoutedBackend: a Backend declared as a table of routes (Vault's
// sdk/framework). Each PathSpec names a pattern, the fields it accepts and one
// handler per operation; the first pattern that matches in declared order
// wins.
//
// Pattern syntax: literal text, `{name}` for one non-empty segment (no '/'),
// `{name:*}` for the rest of the path (possibly empty) and `{name:+}` for the
// non-empty rest; the rest captures must come last.
//
// Thread-safety: the table is immutable after construction; handlers must be
// thread-safe themselves.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "logical/backend.h"

namespace sealbox::logical {

enum class FieldType { kString, kInt, kBool, kDuration, kMap, kStringList, kAny };

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  Json default_value = nullptr;
};

// Request fields: path captures first, then body/query data, then defaults.
class FieldData {
 public:
  FieldData(Json raw, const std::vector<FieldSpec>* specs) : raw_(std::move(raw)), specs_(specs) {}
  // True if the request (or a capture) supplied the field.
  bool Has(const std::string& name) const { return raw_.contains(name); }
  // The supplied value, else the field's default, else null.
  const Json& Get(const std::string& name) const;
  Result<std::string> GetString(const std::string& name) const;
  Result<int64_t> GetInt(const std::string& name) const;
  Result<bool> GetBool(const std::string& name) const;
  Result<int64_t> GetDuration(const std::string& name) const;
  Result<std::vector<std::string>> GetStringList(const std::string& name) const;
  // Object or null (an absent field); a non-object value is an error.
  Result<Json> GetMap(const std::string& name) const;
  const Json& raw() const { return raw_; }

 private:
  Json raw_;
  const std::vector<FieldSpec>* specs_;
};

using Handler = std::function<Result<Response>(Request&, FieldData&)>;
using ExistenceFn = std::function<Result<bool>(Request&, FieldData&)>;

struct PathSpec {
  std::string pattern;
  std::vector<FieldSpec> fields;
  std::map<Operation, Handler> ops;
  ExistenceFn exists;  // optional: tells create from update
  // Fields not declared are reported as warnings unless this is set
  // (KV v1 writes take arbitrary keys).
  bool any_fields = false;
  // How every operation on this route runs, when it differs from the
  // backend's defaults (SetRunModes): database credentials wait on the
  // database even to read.
  std::optional<RunMode> run_mode;
  // HA: the operations on this route a standby serves itself (they only
  // read the store). Empty: the backend's default (SetStandbyReads).
  std::vector<Operation> standby_ops;
};

class RoutedBackend : public Backend {
 public:
  Result<Response> HandleRequest(Request& req) override;
  Result<std::optional<bool>> ExistenceCheck(Request& req) override;
  const SpecialPaths& special_paths() const override { return special_; }
  // The first route that declares a run_mode and matches; else the defaults.
  RunMode RunModeFor(std::string_view path, Operation op) const override;
  // The matching route's standby_ops; else reads and lists when
  // SetStandbyReads(true).
  bool ServesOnStandby(std::string_view path, Operation op) const override;

 protected:
  // Subclasses call these from their constructor.
  void SetRoutes(std::vector<PathSpec> routes) { routes_ = std::move(routes); }
  void SetSpecialPaths(SpecialPaths sp) { special_ = std::move(sp); }
  // Reads and lists on every route that does not say otherwise only read
  // the store (KV): a standby may serve them.
  void SetStandbyReads(bool serves) { standby_reads_ = serves; }
  // How reads (read, list) and other operations run on routes that do not
  // say (defaults: reads compute, writes wait).
  void SetRunModes(RunMode reads, RunMode writes) {
    reads_ = reads;
    writes_ = writes;
  }

 private:
  const PathSpec* Match(const std::string& path, Json* captures) const;
  std::vector<PathSpec> routes_;
  SpecialPaths special_;
  RunMode reads_ = RunMode::kComputes, writes_ = RunMode::kWaits;
  bool standby_reads_ = false;
};

// Vault's path help for `path` (relative to the mount) and the route it
// matched (null: none): {"help": text, "openapi": {...}, "see_also": null}.
Response HelpResponse(std::string_view path, const PathSpec* spec);
// A route pattern as the regular expression Vault's help shows
// ("data/{path:*}" -> "^data/(?P<path>.*)$").
std::string PatternRegex(std::string_view pattern);

// Matches `path` against a pattern; fills captures on success. Exposed for tests.
bool MatchPattern(std::string_view pattern, std::string_view path, Json* captures);

}  // namespace sealbox::logical
