// Database secrets engine (type "database") with the PostgreSQL plugin:
// connection configs, dynamic roles, and credentials that exist only for
// their lease (contract: kv-database-leases-kubernetes.md §3). Revocation and
// renewal arrive as kRevoke / kRenew requests routed by the expiration manager,
// carrying the lease's internal data.
// Thread-safety: handlers run concurrently; each config has a small
// connection pool guarded by its own mutex.
#pragma once

#include "core/logical/backend.h"
#include "engines/database/connection.h"

namespace sealbox::engines::database {

logical::BackendFactory Factory(ConnectFn connect = PostgresConnector());

// Splits creation statements on ';', keeping `DO $$ ... $$` bodies whole.
std::vector<std::string> SplitStatements(const std::string& text);
// Default username: v-<display8>-<role8>-<random20>-<unix>, cut to 63 bytes;
// only [A-Za-z0-9_-] survive from the display and role names, so a name can
// never smuggle SQL into a statement.
std::string MakeUsername(const std::string& display_name, const std::string& role, int64_t unix_now);

}  // namespace sealbox::engines::database
