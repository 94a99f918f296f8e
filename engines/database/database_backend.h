// The database engine with its PostgreSQL plugin over a session factory (a
// fake connection in tests/unit/engines/database_test.cc, libpq by default),
// as server/main.cc composes it from database_engine.h and
// postgres/postgres_plugin.h. The engine itself knows only plugin.h.
// Header-only: whoever includes it links sb_engines_db_postgres.
#pragma once

#include "engines/database/database_engine.h"
#include "engines/database/postgres/postgres_plugin.h"
#include "engines/database/postgres/statements.h"

namespace sealbox::engines::database {

// PostgreSQL's names, as the engine's callers use them.
using postgres::CheckRoleName;
using postgres::ConnectFn;
using postgres::Connection;
using postgres::ExpandStatement;
using postgres::QuoteLiteral;
using postgres::Row;
using postgres::SplitStatements;
using postgres::StatementValues;

inline logical::BackendFactory Factory(ConnectFn connect = postgres::LibpqConnector()) {
  return Factory(std::vector<PluginType>{postgres::Plugin(std::move(connect))});
}

}  // namespace sealbox::engines::database
