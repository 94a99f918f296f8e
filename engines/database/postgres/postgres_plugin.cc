#include "engines/database/postgres/postgres_plugin.h"

#include <cctype>
#include <chrono>
#include <optional>
#include <thread>

#include "base/crypto.h"
#include "base/log.h"
#include "engines/database/connection_config.h"
#include "engines/database/postgres/pool.h"
#include "engines/database/postgres/scram.h"
#include "engines/database/postgres/statements.h"
#include "engines/database/wipe.h"

namespace sealbox::engines::database::postgres {
namespace {

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string UrlEscape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The connection string: the URL with the root credentials filled in
// (URL-escaped in a URL unless disable_escaping).
std::string Dsn(const ConnectionConfig& cfg) {
  const bool is_url = cfg.connection_url.find("://") != std::string::npos && !cfg.disable_escaping;
  const std::string user = is_url ? UrlEscape(cfg.username) : cfg.username;
  std::string url = Replace(cfg.connection_url, "{{username}}", user);
  url = Replace(url, "{{name}}", user);
  return Replace(url, "{{password}}", is_url ? UrlEscape(cfg.password) : cfg.password);
}

// A database error message with every form a secret may take in SQL
// (as given, quote-doubled, backslash-doubled) replaced.
Status Redacted(Status s, std::initializer_list<const std::string*> secrets) {
  if (s.ok()) return s;
  std::string msg = s.message();
  for (const std::string* v : secrets) {
    if (v->empty()) continue;
    std::string q, qb;
    for (char c : *v) {
      if (c == '\'') q += c;
      q += c;
      if (c == '\'' || c == '\\') qb += c;
      qb += c;
    }
    for (const std::string& form : {qb, q, *v}) msg = Replace(msg, form, "<redacted>");
  }
  return Status(s.code(), msg);
}

void WipeAll(std::vector<std::string>& statements) {
  for (auto& st : statements) Wipe(st);
}

// The login role that keeps a static account's previous password valid
// during rotation_overlap, and the comment that marks it as ours.
std::string TwinName(const std::string& user) { return user + "_prev"; }
std::string TwinMarker(const std::string& user) { return "sealbox rotation_overlap twin of " + user; }

std::string AlterPassword(const std::string& user, const std::string& secret) {
  return "ALTER ROLE " + QuoteIdent(user) + " WITH PASSWORD " + QuoteLiteral(secret);
}

// A revoked credential must not keep using an open session (vault#699).
void TerminateSessions(Connection& conn, const std::string& user) {
  auto term = conn.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", {user});
  if (!term.ok()) log::Warn("database: cannot terminate sessions: " + term.status().message());
}

// The comment on role `name`, or nullopt if there is no such role.
Result<std::optional<std::string>> RoleComment(Connection& conn, const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM "
                                            "pg_roles WHERE rolname = $1",
                                            {name}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0][0]);
}

// The plugin's default revocation (contract §3.5), every statement tried.
Status RevokeByDefault(Connection& conn, const std::string& user) {
  SB_ASSIGN_OR_RETURN(auto exists, conn.Query("SELECT exists (SELECT rolname FROM pg_roles WHERE rolname=$1)", {user}));
  if (!exists.empty() && exists[0][0] == "f") return Status::Ok();
  const std::string q = QuoteIdent(user);
  std::vector<std::string> stmts;
  auto schemas =
      conn.Query("SELECT DISTINCT table_schema FROM information_schema.role_column_grants WHERE grantee=$1", {user});
  if (schemas.ok())
    for (const auto& row : *schemas) {
      stmts.push_back("REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA " + QuoteIdent(row[0]) + " FROM " + q);
      stmts.push_back("REVOKE USAGE ON SCHEMA " + QuoteIdent(row[0]) + " FROM " + q);
    }
  stmts.push_back("REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM " + q);
  stmts.push_back("REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM " + q);
  stmts.push_back("REVOKE USAGE ON SCHEMA public FROM " + q);
  auto dbname = conn.Query("SELECT current_database()", {});
  if (dbname.ok() && !dbname->empty())
    stmts.push_back("REVOKE CONNECT ON DATABASE " + QuoteIdent((*dbname)[0][0]) + " FROM " + q);
  Status last = Status::Ok();
  for (const auto& st : stmts) {
    Status e = conn.Exec(st);
    if (!e.ok()) last = e;
  }
  if (!last.ok()) return Unavailable("could not perform all revocation statements: " + last.message());
  return conn.Exec("DROP ROLE IF EXISTS " + q);
}

class PostgresPlugin final : public DatabasePlugin {
 public:
  PostgresPlugin(const ConnectionConfig& cfg, ConnectFn connect, const Clock* clock)
      : connect_(connect),
        dsn_(Dsn(cfg)),
        root_user_(cfg.username),
        root_statements_(cfg.root_rotation_statements),
        scram_(cfg.UsesScram()),
        pool_(std::make_shared<Pool>(std::move(connect), dsn_,
                                     PoolLimits{cfg.MaxOpen(), cfg.MaxIdle(), cfg.MaxLifetime()}, clock)) {}

  Status Verify() override { return connect_(dsn_).status(); }

  Status CreateUser(const NewUser& u) override {
    std::string secret = ForStatements(u.password);
    WipeOnExit wipe{&secret};
    SB_ASSIGN_OR_RETURN(auto statements, ExpandAll(u.statements, {u.username, secret, PgTime(u.expiration_unix)}));
    // Concurrent GRANTs on one object collide in PostgreSQL ("tuple
    // concurrently updated"); the whole transaction rolled back, so retry it.
    Status s = RunTx(statements);
    for (int attempt = 1; attempt < 5 && !s.ok() && s.message().find("concurrently") != std::string::npos;
         ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 5));
      s = RunTx(statements);
    }
    WipeAll(statements);
    // The database may quote the statement back: never let the password out.
    return Redacted(s, {&u.password, &secret});
  }

  Status RenewUser(const std::string& user, const std::vector<std::string>& renew, int64_t expiration_unix) override {
    const std::string expiration = PgTime(expiration_unix);
    std::vector<std::string> statements;
    if (renew.empty()) {
      statements = {"ALTER ROLE " + QuoteIdent(user) + " VALID UNTIL " + QuoteLiteral(expiration)};
    } else {
      SB_ASSIGN_OR_RETURN(statements, ExpandAll(renew, {user, "", expiration}));
    }
    return RunTx(statements);
  }

  Status RevokeUser(const std::string& user, const std::vector<std::string>& revocation) override {
    SB_ASSIGN_OR_RETURN(auto conn, pool_->Get());
    TerminateSessions(*conn, user);
    if (!revocation.empty()) {
      pool_->Put(std::move(conn));
      SB_ASSIGN_OR_RETURN(auto statements, ExpandAll(revocation, {user, "", ""}));
      return RunTx(statements);
    }
    Status s = RevokeByDefault(*conn, user);
    pool_->Put(std::move(conn));
    return s;
  }

  Status RotateRoot(const std::string& password) override {
    std::string secret = ForStatements(password);
    WipeOnExit wipe{&secret};
    std::vector<std::string> statements;
    if (!root_statements_.empty()) {
      SB_ASSIGN_OR_RETURN(statements, ExpandAll(root_statements_, {root_user_, secret, ""}));
    } else {
      statements = {AlterPassword(root_user_, secret)};
    }
    Status s = RunTx(statements);
    WipeAll(statements);
    return Redacted(s, {&password, &secret});
  }

  PasswordChangeResult SetPassword(const PasswordChange& change) override;

  std::string PreviousLogin(const std::string& user) const override { return TwinName(user); }
  Status CheckPreviousLoginFree(const std::string& user) override;
  Status DropPreviousLogin(const std::string& user) override;

 private:
  // {{password}} in statements: the SCRAM verifier when the connection is
  // configured for it, so PostgreSQL never sees the plaintext.
  std::string ForStatements(const std::string& password) const {
    if (!scram_) return password;
    return ScramSha256Verifier(password, crypto::RandomBytes(16).view());
  }

  // Runs statements in one transaction on a pooled connection, sent as one
  // simple-query message: one round trip instead of one per statement.
  Status RunTx(const std::vector<std::string>& statements) {
    SB_ASSIGN_OR_RETURN(auto conn, pool_->Get());
    std::string sql = "BEGIN;\n";
    for (const auto& st : statements) sql += st + ";\n";
    sql += "COMMIT;";
    Status e = conn->Exec(sql);
    Wipe(sql);  // it may hold a password
    if (!e.ok()) conn->Exec("ROLLBACK").IgnoreError();  // the failed transaction is still open
    pool_->Put(std::move(conn));
    return e;
  }

  ConnectFn connect_;
  const std::string dsn_;
  const std::string root_user_;
  const std::vector<std::string> root_statements_;
  const bool scram_;
  std::shared_ptr<Pool> pool_;
};

PasswordChangeResult PostgresPlugin::SetPassword(const PasswordChange& change) {
  PasswordChangeResult r;
  std::string secret = ForStatements(change.password), old_secret;
  WipeOnExit wipe{&secret, &old_secret};
  std::vector<std::string> statements;
  if (!change.statements.empty()) {
    auto expanded = ExpandAll(change.statements, {change.username, secret, ""});
    if (!expanded.ok()) return {expanded.status()};
    statements = std::move(*expanded);
  } else {
    statements = {AlterPassword(change.username, secret)};
  }
  if (change.replace_previous_login) {
    r.status = DropPreviousLogin(change.username);
    if (!r.status.ok()) {
      WipeAll(statements);
      return r;
    }
    r.previous_login_dropped = true;
  }
  // rotation_overlap: the previous password moves to the twin login role, in
  // the same transaction as the change.
  if (!change.previous_password.empty()) {
    const std::string twin = QuoteIdent(TwinName(change.username));
    old_secret = ForStatements(change.previous_password);
    statements.push_back("CREATE ROLE " + twin + " WITH LOGIN PASSWORD " + QuoteLiteral(old_secret) +
                         " VALID UNTIL " + QuoteLiteral(PgTime(change.previous_valid_until_unix)) + " IN ROLE " +
                         QuoteIdent(change.username));
    statements.push_back("COMMENT ON ROLE " + twin + " IS " + QuoteLiteral(TwinMarker(change.username)));
  }
  r.change_attempted = true;
  r.status = RunTx(statements);
  WipeAll(statements);
  r.status = Redacted(r.status, {&change.password, &secret, &change.previous_password, &old_secret});
  return r;
}

// Refuses a twin name too long or held by a role Sealbox did not create.
Status PostgresPlugin::CheckPreviousLoginFree(const std::string& user) {
  if (TwinName(user).size() > 63)
    return InvalidArgument("rotation_overlap needs a login role named after the username plus \"_prev\", which "
                           "would be longer than PostgreSQL's 63-byte limit");
  SB_ASSIGN_OR_RETURN(auto conn, pool_->Get());
  auto comment = RoleComment(*conn, TwinName(user));
  pool_->Put(std::move(conn));
  if (!comment.ok()) return Unavailable("cannot check for an existing role: " + comment.status().message());
  if (comment->has_value() && **comment != TwinMarker(user))
    return InvalidArgument("a role named \"" + TwinName(user) +
                           "\" already exists and was not created by Sealbox: rotation_overlap needs that name");
  return Status::Ok();
}

// Drops the twin of `user` if it exists and carries Sealbox's marker: its
// sessions are terminated and anything it created is handed to `user`.
Status PostgresPlugin::DropPreviousLogin(const std::string& user) {
  const std::string twin = TwinName(user);
  SB_ASSIGN_OR_RETURN(auto conn, pool_->Get());
  auto comment = RoleComment(*conn, twin);
  Status s = Status::Ok();
  if (!comment.ok()) {
    s = Unavailable("cannot look up the previous-password role: " + comment.status().message());
  } else if (comment->has_value() && **comment != TwinMarker(user)) {
    s = InvalidArgument("a role named \"" + twin + "\" exists and was not created by Sealbox; not dropping it");
  } else if (comment->has_value()) {
    TerminateSessions(*conn, twin);
    Status reassign = conn->Exec("REASSIGN OWNED BY " + QuoteIdent(twin) + " TO " + QuoteIdent(user));
    if (!reassign.ok())
      log::Warn("database: REASSIGN OWNED BY " + QuoteIdent(twin) + " failed: " + reassign.message());
    s = conn->Exec("DROP ROLE IF EXISTS " + QuoteIdent(twin));
  }
  pool_->Put(std::move(conn));
  return s;
}

}  // namespace

PluginType Plugin(ConnectFn connect) {
  PluginType t;
  t.name = kPluginName;
  t.check_username = CheckRoleName;
  t.open = [connect](const ConnectionConfig& cfg, const Clock* clock) -> std::unique_ptr<DatabasePlugin> {
    return std::make_unique<PostgresPlugin>(cfg, connect, clock);
  };
  return t;
}

}  // namespace sealbox::engines::database::postgres
