// How the CLI prints answers, as the vault CLI does: `-format=table|json|yaml`,
// `-field=NAME`, Key/Value tables (empty cells "n/a", Go's %v for values,
// TTL-like fields as durations such as "768h"), and the server's warnings
// on stderr before a table.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/json_util.h"

namespace sealbox::cli {

struct OutputOptions {
  std::string format = "table";  // table | json | yaml
  std::string field;             // -field: print only this value
};

// Go's time.Duration text without the trailing zero units: 768h, 1h30m, 45s, 0s.
std::string HumanDuration(int64_t seconds);
// A JSON value as Go's %v prints the decoded value: [a b], map[k:v], <nil>.
std::string GoValue(const Json& v);
// A string list as Go's %q prints it: ["a" "b"]; null is [].
std::string GoQuoted(const Json& list);

// Columns separated by four spaces, a dashed line under the header (none for
// an empty header), "n/a" for an empty cell (vault's columnize settings).
void PrintColumns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& rows);

void PrintJson(const Json& v);
void PrintYaml(const Json& v);
// The server's warnings, on stderr, as vault prints them before a table.
void PrintWarnings(const Json& envelope);

// The envelope as vault's api.Secret serialises it (its fields, in its shape).
Json SecretJson(const Json& envelope);

// A response envelope: -field, json, yaml or vault's secret table (lease,
// auth and data rows). Returns the exit code.
int PrintSecret(const OutputOptions& out, const Json& envelope);
// A plain map (a list of mounts, a status): -field, json, yaml or Key/Value.
int PrintMap(const OutputOptions& out, const Json& data);
// One value of the envelope or of its data, as vault's -field finds it.
// Exit 1 when absent.
int PrintField(const OutputOptions& out, const Json& envelope, const std::string& field);
// The Key/Value table of a map, keys sorted, TTL-like values as durations.
void PrintDataTable(const Json& data);

// "== Header ==" padded with '=' to `width` as vault's kv commands print it.
std::string PadEqualSigns(const std::string& header, size_t width);

}  // namespace sealbox::cli
