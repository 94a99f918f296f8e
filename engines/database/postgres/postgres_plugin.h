// The PostgreSQL plugin ("postgresql-database-plugin"): the engine's
// DatabasePlugin over pooled sessions, with the statements Vault's plugin
// runs by default, statement expansion (statements.h) and SCRAM verifiers
// (scram.h) so the plaintext password never reaches the server when
// password_authentication = "scram-sha-256".
#pragma once

#include "engines/database/plugin.h"
#include "engines/database/postgres/connection.h"

namespace sealbox::engines::database::postgres {

inline constexpr const char* kPluginName = "postgresql-database-plugin";

// The plugin type the composition root registers; `connect` opens sessions
// (libpq; a fake in tests).
PluginType Plugin(ConnectFn connect = LibpqConnector());

}  // namespace sealbox::engines::database::postgres
