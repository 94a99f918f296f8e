// PostgreSQL statements: splitting a role's statement text, filling in its
// placeholders ({{name}}, {{username}}, {{password}}, {{expiration}}) with
// each value escaped for where it lands, quoting, and the checks a user name
// must pass. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox::engines::database::postgres {

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

// Splits each item into statements and expands each (InvalidArgument as
// ExpandStatement).
Result<std::vector<std::string>> ExpandAll(const std::vector<std::string>& items, const StatementValues& values);

// PostgreSQL string literal: '...' with ' doubled, or E'...' when the value
// holds a backslash (as PostgreSQL's quote_literal).
std::string QuoteLiteral(const std::string& s);

// Quotes an identifier for PostgreSQL ("a""b").
std::string QuoteIdent(const std::string& s);

// A timestamp literal's text for VALID UNTIL ("2024-05-01 10:00:00+0000").
std::string PgTime(int64_t unix_seconds);

// Checks a username is usable as a PostgreSQL role name: 1..63 bytes (longer
// names would be silently truncated by the server), valid UTF-8, no control
// characters. The message never contains the name.
Status CheckRoleName(const std::string& name);

}  // namespace sealbox::engines::database::postgres
