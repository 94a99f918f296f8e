// Connection: one session with a PostgreSQL server, behind an interface so the
// plugin is tested with a fake and libpq stays in one file
// (libpq_connection.cc). Not thread-safe: the plugin pools connections and
// uses each from one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox::engines::database::postgres {

using Row = std::vector<std::string>;

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one or more statements with no parameters.
  virtual Status Exec(const std::string& sql) = 0;
  // Runs one statement with text parameters ($1, $2, ...).
  virtual Result<std::vector<Row>> Query(const std::string& sql, const std::vector<std::string>& params) = 0;
  virtual bool Healthy() = 0;
};

// Opens a connection from a libpq connection string or URL. Errors never
// contain the connection string (it holds the password).
using ConnectFn = std::function<Result<std::unique_ptr<Connection>>(const std::string& dsn)>;

// Connections through libpq, with a bounded connect and
// standard_conforming_strings on.
ConnectFn LibpqConnector();

}  // namespace sealbox::engines::database::postgres
