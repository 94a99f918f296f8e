// The only file that includes libpq.
#include <libpq-fe.h>

#include "engines/database/postgres/connection.h"

namespace sealbox::engines::database::postgres {
namespace {

std::string FirstLine(const char* msg) {
  std::string s = msg ? msg : "";
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* c) : c_(c) {}
  ~PgConnection() override { PQfinish(c_); }

  Status Exec(const std::string& sql) override {
    PGresult* r = PQexec(c_, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    Status out = Status::Ok();
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
      out = Unavailable(FirstLine(PQresultErrorMessage(r)));
    PQclear(r);
    return out;
  }

  Result<std::vector<Row>> Query(const std::string& sql, const std::vector<std::string>& params) override {
    std::vector<const char*> vals;
    for (const auto& p : params) vals.push_back(p.c_str());
    PGresult* r = PQexecParams(c_, sql.c_str(), static_cast<int>(vals.size()), nullptr, vals.data(), nullptr,
                               nullptr, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      Status s = Unavailable(FirstLine(PQresultErrorMessage(r)));
      PQclear(r);
      return s;
    }
    std::vector<Row> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      Row row;
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }

  bool Healthy() override { return PQstatus(c_) == CONNECTION_OK; }

 private:
  PGconn* c_;
};

}  // namespace

ConnectFn LibpqConnector() {
  return [](const std::string& dsn) -> Result<std::unique_ptr<Connection>> {
    // Bounded connect so a dead database cannot hang a request forever.
    std::string full = dsn;
    if (full.find("connect_timeout") == std::string::npos)
      full += (full.find("://") != std::string::npos ? (full.find('?') == std::string::npos ? "?" : "&")
                                                      : std::string(" ")) +
              std::string("connect_timeout=5");
    PGconn* c = PQconnectdb(full.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string err = FirstLine(PQerrorMessage(c));
      PQfinish(c);
      return Unavailable("cannot connect to the database: " + err);
    }
    // Statements are built assuming backslashes in '...' are plain
    // characters (ExpandStatement, QuoteLiteral): make sure they are.
    PGresult* r = PQexec(c, "SET standard_conforming_strings = on");
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      std::string err = FirstLine(PQerrorMessage(c));
      PQfinish(c);
      return Unavailable("cannot set standard_conforming_strings: " + err);
    }
    return std::unique_ptr<Connection>(new PgConnection(c));
  };
}

}  // namespace sealbox::engines::database::postgres
