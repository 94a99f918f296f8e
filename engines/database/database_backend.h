// Database secrets engine (type "database") with the PostgreSQL plugin:
// connection configs, dynamic roles, and credentials that exist only for
// their lease (contract: kv-database-leases-kubernetes.md §3). Revocation and
// renewal arrive as kRevoke / kRenew requests routed by the expiration manager,
// carrying the lease's internal data.
// Thread-safety: handlers run concurrently; each config has a small
// connection pool guarded by its own mutex.
#pragma once

#include "logical/backend.h"
#include "engines/database/connection.h"

namespace sealbox::engines::database {

logical::BackendFactory Factory(ConnectFn connect = PostgresConnector());

// Splits creation statements on ';', keeping `DO $$ ... $$` bodies whole.
std::vector<std::string> SplitStatements(const std::string& text);

// The values a statement's placeholders stand for.
struct StatementValues {
  std::string name;        // {{name}} and {{username}}
  std::string password;    // {{password}} (or the SCRAM verifier)
  std::string expiration;  // {{expiration}}
};

// Replaces the placeholders of one statement in a single pass, each value
// escaped for where it lands, so no value can end the token it sits in:
//   "{{name}}"        " doubled              (quoted identifier)
//   '{{password}}'    ' doubled; E'..' also doubles backslashes
//   bare {{name}}     a quoted identifier    (bare {{password}}: a literal)
//   in comments       refused if it could end the comment
//   in $tag$ bodies   lexed again inside; refused if it holds an open tag
// A NUL byte is always refused. Errors name the placeholder, never the value.
// ASSUMES standard_conforming_strings = on (the connection sets it).
Result<std::string> ExpandStatement(const std::string& statement, const StatementValues& values);

// PostgreSQL string literal: '...' with ' doubled, or E'...' when the value
// holds a backslash (as PostgreSQL's quote_literal).
std::string QuoteLiteral(const std::string& s);

// Checks a username is usable as a PostgreSQL role name: 1..63 bytes (longer
// names would be silently truncated by the server), valid UTF-8, no control
// characters. The message never contains the name.
Status CheckRoleName(const std::string& name);

}  // namespace sealbox::engines::database
