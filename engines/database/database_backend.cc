#include "engines/database/database_backend.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include <openssl/crypto.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "logical/routed_backend.h"
#include "engines/database/scram.h"
#include "engines/database/username_template.h"
#include "storage/storage.h"

namespace sealbox::engines::database {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;
using logical::RunMode;

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

std::string DefaultPassword() {
  // 20 characters with at least one upper, one lower, one digit and a '-'.
  std::string p = crypto::RandomBase62(16);
  return "A1a-" + p;
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// A database error message with every form a secret may take in SQL
// (as given, quote-doubled, backslash-doubled) replaced.
std::string Redact(std::string msg, std::initializer_list<const std::string*> secrets) {
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
  return msg;
}

// Wipes the listed strings when the scope ends (passwords, verifiers).
class WipeOnExit {
 public:
  explicit WipeOnExit(std::initializer_list<std::string*> secrets) : secrets_(secrets) {}
  ~WipeOnExit() {
    for (auto* s : secrets_) Wipe(*s);
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::vector<std::string*> secrets_;
};

// The login role that keeps a static account's previous password valid
// during rotation_overlap, and the comment that marks it as ours.
std::string TwinName(const std::string& user) { return user + "_prev"; }
std::string TwinMarker(const std::string& user) { return "sealbox rotation_overlap twin of " + user; }

std::string PgTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+0000", &tm);
  return buf;
}

bool RoleAllowed(const std::vector<std::string>& allowed, const std::string& role) {
  for (const auto& a : allowed) {
    if (a == "*" || a == role) return true;
    if (!a.empty() && a.back() == '*' && role.rfind(a.substr(0, a.size() - 1), 0) == 0) return true;
  }
  return false;
}

// The config's pool settings, as Vault's database plugins read them.
struct PoolLimits {
  int64_t max_open = 4;      // sessions open at once (idle + in use); <= 0: no limit
  int64_t max_idle = 0;      // idle sessions kept; 0: max_open (Vault's rule)
  int64_t max_lifetime = 0;  // seconds a session is reused; 0: forever

  static PoolLimits FromConfig(const Json& cfg) {
    PoolLimits l;
    l.max_open = cfg.value("max_open_connections", int64_t{4});
    l.max_idle = cfg.value("max_idle_connections", int64_t{0});
    l.max_lifetime = cfg.value("max_connection_lifetime", int64_t{0});
    return l;
  }
  size_t IdleCap() const {
    int64_t cap = max_idle > 0 ? max_idle : max_open;
    if (max_open > 0) cap = std::min(cap, max_open);
    return cap > 0 ? static_cast<size_t>(cap) : 32;
  }
};

// Sessions to one database, bounded by max_open_connections: a request that
// finds every session busy waits (bounded) for one instead of opening more
// than the database allows. Sessions come out as Handles; one dropped
// without Put (an early error return) is closed and its slot freed.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  struct Release {
    std::weak_ptr<Pool> pool;
    void operator()(Connection* c) const {
      if (auto p = pool.lock()) p->Forget(c);
      delete c;
    }
  };
  using Handle = std::unique_ptr<Connection, Release>;

  Pool(ConnectFn connect, std::string dsn, PoolLimits limits, const Clock* clock)
      : connect_(std::move(connect)), dsn_(std::move(dsn)), limits_(limits), clock_(clock) {}

  Result<Handle> Get(std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::unique_lock l(mu_);
    while (true) {
      while (!idle_.empty()) {
        Idle i = std::move(idle_.back());
        idle_.pop_back();
        if (Expired(i.born) || !i.conn->Healthy()) {
          --open_;
          continue;  // closed as i goes
        }
        born_[i.conn.get()] = i.born;
        return Handle(i.conn.release(), Release{weak_from_this()});
      }
      if (limits_.max_open <= 0 || open_ < limits_.max_open) break;
      if (cv_.wait_until(l, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= limits_.max_open)
        return Unavailable("timed out waiting for a free database connection (max_open_connections is " +
                           std::to_string(limits_.max_open) + ")");
    }
    ++open_;
    l.unlock();
    auto c = connect_(dsn_);
    l.lock();
    if (!c.ok()) {
      --open_;
      cv_.notify_one();
      return c.status();
    }
    born_[c->get()] = clock_->NowSeconds();
    return Handle(c->release(), Release{weak_from_this()});
  }

  void Put(Handle h) {
    std::unique_ptr<Connection> c(h.release());
    std::unique_lock l(mu_);
    auto it = born_.find(c.get());
    const int64_t born = it == born_.end() ? 0 : it->second;
    if (it != born_.end()) born_.erase(it);
    if (c->Healthy() && !Expired(born) && idle_.size() < limits_.IdleCap()) {
      idle_.push_back({std::move(c), born});
    } else {
      --open_;
    }
    cv_.notify_one();
    l.unlock();  // c, if still held, closes outside the lock
  }

  int64_t open() {
    std::lock_guard l(mu_);
    return open_;
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    int64_t born;
  };

  bool Expired(int64_t born) const {
    return limits_.max_lifetime > 0 && clock_->NowSeconds() - born >= limits_.max_lifetime;
  }

  void Forget(Connection* c) {
    std::lock_guard l(mu_);
    if (born_.erase(c)) --open_;
    cv_.notify_one();
  }

  ConnectFn connect_;
  std::string dsn_;
  PoolLimits limits_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Idle> idle_;                       // guarded by mu_
  std::map<const Connection*, int64_t> born_;    // sessions in use and when opened; guarded by mu_
  int64_t open_ = 0;                             // idle + in use; guarded by mu_
};

class DatabaseBackend final : public logical::RoutedBackend {
 public:
  DatabaseBackend(const logical::BackendConfig& cfg, ConnectFn connect)
      : connect_(std::move(connect)),
        clock_(cfg.clock ? cfg.clock : SystemClock::Default()),
        mount_(cfg.mount),
        generate_password_(cfg.generate_password) {
    SetRoutes({
        {.pattern = "config/",
         .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "config/"); }}}},
        {.pattern = "config/{name}",
         .fields = {{"name"}, {"plugin_name"}, {"connection_url"}, {"username"}, {"password"},
                    {"verify_connection", FieldType::kBool, true}, {"allowed_roles", FieldType::kStringList},
                    {"username_template"}, {"password_policy"}, {"password_authentication"},
                    {"root_rotation_statements", FieldType::kStringList}, {"plugin_version"},
                    {"max_open_connections", FieldType::kInt}, {"max_idle_connections", FieldType::kInt},
                    {"max_connection_lifetime"}, {"disable_escaping", FieldType::kBool}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteConfig(r, f); }},
                 {Operation::kRead, [this](Request& r, FieldData& f) { return ReadConfig(r, f); }},
                 {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteEntry(r, f, "config/"); }}}},
        {.pattern = "reset/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) -> Result<Response> {
           const std::string name = f.Get("name").get<std::string>();
           SB_ASSIGN_OR_RETURN(Json cfg, Load(r.storage, "config/" + name));
           if (cfg.is_null())  // Vault: 500; a missing connection never succeeds on retry
             return InvalidArgument("failed to find entry for connection with name: \"" + name + "\"");
           std::lock_guard l(mu_);
           pools_.erase(name);
           return Response::Empty();
         }}}},
        {.pattern = "rotate-root/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return RotateRoot(r, f); }}}},
        {.pattern = "static-roles/",
         .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "static-roles/"); }}}},
        {.pattern = "static-roles/{name}",
         .fields = {{"name"}, {"db_name"}, {"username"}, {"rotation_period", FieldType::kDuration},
                    {"rotation_overlap", FieldType::kDuration}, {"rotation_statements", FieldType::kStringList},
                    {"credential_type"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteStaticRole(r, f); }},
                 {Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, false); }},
                 {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteStaticRole(r, f); }}}},
        {.pattern = "static-creds/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, true); }}},
         .run_mode = RunMode::kWaits},
        {.pattern = "rotate-role/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) -> Result<Response> {
           SB_RETURN_IF_ERROR(RotateStatic(r.storage, f.Get("name").get<std::string>()));
           return Response::Empty();
         }}}},
        {.pattern = "roles/",
         .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "roles/"); }}}},
        {.pattern = "roles/{name}",
         .fields = {{"name"}, {"db_name"}, {"creation_statements", FieldType::kStringList},
                    {"revocation_statements", FieldType::kStringList}, {"renew_statements", FieldType::kStringList},
                    {"rollback_statements", FieldType::kStringList}, {"default_ttl", FieldType::kDuration},
                    {"max_ttl", FieldType::kDuration}, {"credential_type"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteRole(r, f); }},
                 {Operation::kRead, [this](Request& r, FieldData& f) { return ReadRole(r, f); }},
                 {Operation::kDelete, [this](Request& r, FieldData& f) { return DeleteEntry(r, f, "roles/"); }}}},
        {.pattern = "creds/{role}",
         .fields = {{"role"}},
         .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return Creds(r, f); }},
                 {Operation::kRevoke, [this](Request& r, FieldData&) { return Revoke(r); }},
                 {Operation::kRenew, [this](Request& r, FieldData&) { return Renew(r); }}},
         .any_fields = true,
         .run_mode = RunMode::kWaits},  // a read that creates a database user
    });
    if (cfg.storage) {
      storage_ = cfg.storage;
      rotator_ = std::thread([this] { RotationLoop(); });
    }
  }

  ~DatabaseBackend() override { StopRotation(); }
  void Cleanup() override { StopRotation(); }

 private:
  void StopRotation() {
    {
      std::lock_guard l(rot_mu_);
      stopping_ = true;
    }
    rot_cv_.notify_all();
    if (rotator_.joinable()) rotator_.join();
  }

  // Static roles whose rotation_period has passed are rotated in the
  // background, checked every second (a rotation is due within ~1 s).
  void RotationLoop() {
    std::unique_lock l(rot_mu_);
    while (!stopping_) {
      rot_cv_.wait_for(l, std::chrono::seconds(1), [this] { return stopping_; });
      if (stopping_) break;
      l.unlock();
      auto names = storage_->List("static-roles/");
      if (names.ok()) {
        const int64_t now = clock_->NowSeconds();
        for (const auto& name : *names) {
          auto role = Load(storage_, "static-roles/" + name);
          if (!role.ok() || role->is_null()) continue;
          int64_t period = role->value("rotation_period", int64_t{0});
          int64_t last = role->value("last_vault_rotation_unix", int64_t{0});
          if (period > 0 && now >= last + period) {
            Status s = RotateStatic(storage_, name);
            if (!s.ok()) log::Warn("database: rotating static role " + name + " failed: " + s.message());
          }
          // The previous password's overlap has ended: drop its login role.
          if (role->contains("twin_username") && now >= role->value("previous_valid_until_unix", int64_t{0})) {
            Status s = ExpireTwin(storage_, name);
            if (!s.ok()) log::Warn("database: dropping the previous-password role of " + name + " failed: " + s.message());
          }
        }
      }
      l.lock();
    }
  }

  // {{password}} in statements: the SCRAM verifier when the connection is
  // configured for it, so PostgreSQL never sees the plaintext.
  static std::string PasswordForStatements(const Json& cfg, const std::string& pass) {
    if (cfg.value("password_authentication", "password") != "scram-sha-256") return pass;
    return ScramSha256Verifier(pass, crypto::RandomBytes(16).view());
  }

  Result<Response> RotateRoot(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    std::lock_guard rl(rotate_mu_);
    SB_ASSIGN_OR_RETURN(Json cfg, Load(req.storage, "config/" + name));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    std::string user = cfg.value("username", "");
    if (user.empty()) return InvalidArgument("unable to rotate root credentials: no username in configuration");
    std::string pass, secret;
    WipeOnExit wipe{&pass, &secret};
    SB_ASSIGN_OR_RETURN(pass, NewPassword(cfg));
    secret = PasswordForStatements(cfg, pass);
    std::vector<std::string> statements;
    Json custom = cfg.value("root_rotation_statements", Json::array());
    if (!custom.empty()) {
      SB_ASSIGN_OR_RETURN(statements, Expand(custom, {user, secret, ""}));
    } else {
      statements = {"ALTER ROLE " + QuoteIdent(user) + " WITH PASSWORD " + QuoteLiteral(secret)};
    }
    Status s = RunTx(req.storage, name, statements);
    for (auto& st : statements) Wipe(st);
    if (!s.ok()) {
      log::Error("database: rotate-root of " + name + " failed: " + Redact(s.message(), {&pass, &secret}));
      return Internal("failed to rotate root credentials");
    }
    cfg["password"] = pass;
    Status put = req.storage->Put("config/" + name, cfg.dump());
    {
      std::lock_guard l(mu_);
      pools_.erase(name);  // the pooled sessions used the old password
    }
    if (!put.ok()) {
      log::Error("database: rotate-root of " + name + " changed the password but could not store it");
      return put;
    }
    return Response::Empty();
  }

  Result<Response> WriteStaticRole(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    SB_ASSIGN_OR_RETURN(Json old, Load(req.storage, "static-roles/" + name));
    SB_ASSIGN_OR_RETURN(std::string db, f.GetString("db_name"));
    SB_ASSIGN_OR_RETURN(std::string user, f.GetString("username"));
    if (db.empty() && !old.is_null()) db = old.value("db_name", "");
    if (user.empty() && !old.is_null()) user = old.value("username", "");
    if (db.empty()) return InvalidArgument("empty database name attribute");
    if (user.empty()) return InvalidArgument("username is a required field to create a static role");
    if (!old.is_null() && old.value("username", "") != user)
      return InvalidArgument("cannot update static account username");
    SB_ASSIGN_OR_RETURN(Json cfg, Load(req.storage, "config/" + db));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    if (!RoleAllowed(cfg.value("allowed_roles", std::vector<std::string>{}), name))
      return InvalidArgument("\"" + name + "\" is not an allowed role");
    SB_ASSIGN_OR_RETURN(int64_t period, f.GetDuration("rotation_period"));
    if (period == 0 && !old.is_null()) period = old.value("rotation_period", int64_t{0});
    if (period < 5) return InvalidArgument("rotation_period must be 5 seconds or more");
    SB_ASSIGN_OR_RETURN(int64_t overlap, f.GetDuration("rotation_overlap"));
    if (!f.Has("rotation_overlap") && !old.is_null()) overlap = old.value("rotation_overlap", int64_t{0});
    if (overlap < 0) return InvalidArgument("rotation_overlap must not be negative");
    if (overlap > 0) {
      if (overlap >= period) return InvalidArgument("rotation_overlap must be shorter than rotation_period");
      if (TwinName(user).size() > 63)
        return InvalidArgument("rotation_overlap needs a login role named after the username plus \"_prev\", which "
                               "would be longer than PostgreSQL's 63-byte limit");
      // A role of that name that Sealbox did not create is never replaced.
      SB_RETURN_IF_ERROR(CheckTwinFree(req.storage, db, user));
    }
    SB_ASSIGN_OR_RETURN(auto stmts, f.GetStringList("rotation_statements"));
    Json role = old.is_null() ? Json::object() : old;
    role["db_name"] = db;
    role["username"] = user;
    role["rotation_period"] = period;
    role["rotation_overlap"] = overlap;
    if (f.Has("rotation_statements") || old.is_null()) role["rotation_statements"] = stmts;
    SB_RETURN_IF_ERROR(req.storage->Put("static-roles/" + name, role.dump()));
    // A new static role takes over the account at once, as in Vault.
    if (old.is_null()) {
      Status s = RotateStatic(req.storage, name);
      if (!s.ok()) {
        req.storage->Delete("static-roles/" + name).IgnoreError();
        return s;
      }
    }
    return Response::Empty();
  }

  Result<Response> ReadStaticRole(Request& req, FieldData& f, bool creds) {
    SB_ASSIGN_OR_RETURN(Json role, Load(req.storage, "static-roles/" + f.Get("name").get<std::string>()));
    if (role.is_null()) return creds ? Result<Response>(InvalidArgument("unknown role")) : Response::Empty();
    const int64_t now = clock_->NowSeconds();
    int64_t period = role.value("rotation_period", int64_t{0});
    int64_t last = role.value("last_vault_rotation_unix", int64_t{0});
    Json d = {{"db_name", role["db_name"]},
              {"username", role["username"]},
              {"rotation_period", period},
              {"last_vault_rotation", FormatRfc3339(last)},
              {"ttl", std::max<int64_t>(0, last + period - now)},
              {"credential_type", "password"}};
    if (creds) {
      d.erase("db_name");
      d["password"] = role.value("password", "");
      // During an overlap: who still logs in with the previous password, and
      // until when. The previous password itself is not returned.
      int64_t until = role.value("previous_valid_until_unix", int64_t{0});
      if (role.contains("twin_username") && now < until) {
        d["previous_username"] = role["twin_username"];
        d["previous_password_valid_until"] = FormatRfc3339(until);
      }
    } else {
      d["rotation_statements"] = role.value("rotation_statements", Json::array());
      d["rotation_overlap"] = role.value("rotation_overlap", int64_t{0});
    }
    return Response::WithData(d);
  }

  Status RotateStatic(Storage* storage, const std::string& name) {
    std::lock_guard rl(rotate_mu_);
    SB_ASSIGN_OR_RETURN(Json role, Load(storage, "static-roles/" + name));
    if (role.is_null()) return InvalidArgument("unknown role");
    std::string db = role.value("db_name", ""), user = role.value("username", "");
    SB_ASSIGN_OR_RETURN(Json cfg, Load(storage, "config/" + db));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    std::string pass, secret, old_pass = role.value("password", ""), old_secret;
    WipeOnExit wipe{&pass, &secret, &old_pass, &old_secret};
    SB_ASSIGN_OR_RETURN(pass, NewPassword(cfg));
    secret = PasswordForStatements(cfg, pass);
    Json custom = role.value("rotation_statements", Json::array());
    std::vector<std::string> statements;
    if (!custom.empty()) {
      SB_ASSIGN_OR_RETURN(statements, Expand(custom, {user, secret, ""}));
    } else {
      statements = {"ALTER ROLE " + QuoteIdent(user) + " WITH PASSWORD " + QuoteLiteral(secret)};
    }
    // rotation_overlap: the previous password moves to the twin login role,
    // in the same transaction as the change, valid until now + overlap. The
    // first rotation has no previous password Sealbox knows.
    const int64_t now = clock_->NowSeconds();
    const int64_t overlap = role.value("rotation_overlap", int64_t{0});
    const bool make_twin = overlap > 0 && !old_pass.empty();
    const std::string twin = TwinName(user);
    if (make_twin || role.contains("twin_username")) {
      SB_RETURN_IF_ERROR(DropTwin(storage, db, user));
      role.erase("twin_username");
      role.erase("previous_valid_until_unix");
    }
    if (make_twin) {
      old_secret = PasswordForStatements(cfg, old_pass);
      statements.push_back("CREATE ROLE " + QuoteIdent(twin) + " WITH LOGIN PASSWORD " + QuoteLiteral(old_secret) +
                           " VALID UNTIL " + QuoteLiteral(PgTime(now + overlap)) + " IN ROLE " + QuoteIdent(user));
      statements.push_back("COMMENT ON ROLE " + QuoteIdent(twin) + " IS " + QuoteLiteral(TwinMarker(user)));
    }
    Status s = RunTx(storage, db, statements);
    for (auto& st : statements) Wipe(st);
    if (!s.ok()) {
      log::Error("database: rotating static role " + name +
                 " failed: " + Redact(s.message(), {&pass, &secret, &old_pass, &old_secret}));
      // The dropped twin is gone either way: record that.
      storage->Put("static-roles/" + name, role.dump()).IgnoreError();
      return Internal("failed to rotate the static role's password");
    }
    role["password"] = pass;
    role["last_vault_rotation_unix"] = now;
    if (make_twin) {
      role["twin_username"] = twin;
      role["previous_valid_until_unix"] = now + overlap;
    }
    return storage->Put("static-roles/" + name, role.dump());
  }

  // Refuses a twin name held by a role Sealbox did not create.
  Status CheckTwinFree(Storage* storage, const std::string& db, const std::string& user) {
    SB_ASSIGN_OR_RETURN(auto pool, PoolFor(storage, db));
    SB_ASSIGN_OR_RETURN(auto conn, pool->Get());
    auto rows = conn->Query("SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = $1",
                            {TwinName(user)});
    pool->Put(std::move(conn));
    if (!rows.ok()) return Unavailable("cannot check for an existing role: " + rows.status().message());
    if (!rows->empty() && (*rows)[0][0] != TwinMarker(user))
      return InvalidArgument("a role named \"" + TwinName(user) +
                             "\" already exists and was not created by Sealbox: rotation_overlap needs that name");
    return Status::Ok();
  }

  // Drops the twin of `user` if it exists and carries Sealbox's marker: its
  // sessions are terminated and anything it created is handed to `user`.
  Status DropTwin(Storage* storage, const std::string& db, const std::string& user) {
    const std::string twin = TwinName(user);
    SB_ASSIGN_OR_RETURN(auto pool, PoolFor(storage, db));
    SB_ASSIGN_OR_RETURN(auto conn, pool->Get());
    auto rows = conn->Query("SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = $1",
                            {twin});
    if (!rows.ok()) {
      pool->Put(std::move(conn));
      return Unavailable("cannot look up the previous-password role: " + rows.status().message());
    }
    if (rows->empty()) {
      pool->Put(std::move(conn));
      return Status::Ok();
    }
    if ((*rows)[0][0] != TwinMarker(user)) {
      pool->Put(std::move(conn));
      return InvalidArgument("a role named \"" + twin + "\" exists and was not created by Sealbox; not dropping it");
    }
    auto term = conn->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", {twin});
    if (!term.ok()) log::Warn("database: cannot terminate sessions: " + term.status().message());
    Status reassign = conn->Exec("REASSIGN OWNED BY " + QuoteIdent(twin) + " TO " + QuoteIdent(user));
    if (!reassign.ok()) log::Warn("database: REASSIGN OWNED BY " + QuoteIdent(twin) + " failed: " + reassign.message());
    Status d = conn->Exec("DROP ROLE IF EXISTS " + QuoteIdent(twin));
    pool->Put(std::move(conn));
    return d;
  }

  // The overlap of a static role ended: drop the twin, forget it.
  Status ExpireTwin(Storage* storage, const std::string& name) {
    std::lock_guard rl(rotate_mu_);
    SB_ASSIGN_OR_RETURN(Json role, Load(storage, "static-roles/" + name));
    if (role.is_null() || !role.contains("twin_username")) return Status::Ok();
    if (clock_->NowSeconds() < role.value("previous_valid_until_unix", int64_t{0})) return Status::Ok();
    SB_RETURN_IF_ERROR(DropTwin(storage, role.value("db_name", ""), role.value("username", "")));
    role.erase("twin_username");
    role.erase("previous_valid_until_unix");
    return storage->Put("static-roles/" + name, role.dump());
  }

  // Deleting a static role leaves the account alone but drops its twin (the
  // twin cannot log in after its VALID UNTIL anyway, so a database that
  // cannot be reached only earns a warning).
  Result<Response> DeleteStaticRole(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    std::lock_guard rl(rotate_mu_);
    SB_ASSIGN_OR_RETURN(Json role, Load(req.storage, "static-roles/" + name));
    Response resp;
    if (!role.is_null() && role.contains("twin_username")) {
      Status s = DropTwin(req.storage, role.value("db_name", ""), role.value("username", ""));
      if (!s.ok()) {
        log::Warn("database: dropping the previous-password role of " + name + " failed: " + s.message());
        resp.warnings.push_back("could not drop the previous-password role " + role.value("twin_username", "") +
                                "; its password expires at its VALID UNTIL");
      }
    }
    SB_RETURN_IF_ERROR(req.storage->Delete("static-roles/" + name));
    return resp;
  }

  Result<Response> List(Request& req, const std::string& prefix) {
    SB_ASSIGN_OR_RETURN(auto keys, req.storage->List(prefix));
    return Response::WithData(Json{{"keys", keys}});
  }

  Result<Response> DeleteEntry(Request& req, FieldData& f, const std::string& prefix) {
    std::string name = f.Get("name").get<std::string>();
    SB_RETURN_IF_ERROR(req.storage->Delete(prefix + name));
    if (prefix == "config/") {
      std::lock_guard l(mu_);
      pools_.erase(name);
    }
    return Response::Empty();
  }

  static std::string Dsn(const Json& cfg) {
    std::string url = cfg.value("connection_url", "");
    bool is_url = url.find("://") != std::string::npos && !cfg.value("disable_escaping", false);
    std::string user = cfg.value("username", ""), pass = cfg.value("password", "");
    url = Replace(url, "{{username}}", is_url ? UrlEscape(user) : user);
    url = Replace(url, "{{name}}", is_url ? UrlEscape(user) : user);
    return Replace(url, "{{password}}", is_url ? UrlEscape(pass) : pass);
  }

  Result<Response> WriteConfig(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    SB_ASSIGN_OR_RETURN(std::string plugin, f.GetString("plugin_name"));
    if (plugin.empty()) return InvalidArgument("empty plugin name");
    if (plugin != "postgresql-database-plugin") return InvalidArgument("unsupported plugin");
    SB_ASSIGN_OR_RETURN(std::string url, f.GetString("connection_url"));
    if (url.empty()) return InvalidArgument("error creating database object: connection_url cannot be empty");
    Json cfg = {{"plugin_name", plugin}, {"connection_url", url}};
    SB_ASSIGN_OR_RETURN(std::string user, f.GetString("username"));
    SB_ASSIGN_OR_RETURN(std::string pass, f.GetString("password"));
    SB_ASSIGN_OR_RETURN(auto allowed, f.GetStringList("allowed_roles"));
    SB_ASSIGN_OR_RETURN(bool verify, f.GetBool("verify_connection"));
    SB_ASSIGN_OR_RETURN(auto rotation, f.GetStringList("root_rotation_statements"));
    SB_ASSIGN_OR_RETURN(bool no_escape, f.GetBool("disable_escaping"));
    cfg["username"] = user;
    cfg["password"] = pass;
    cfg["allowed_roles"] = allowed;
    cfg["verify_connection"] = verify;
    cfg["root_rotation_statements"] = rotation;
    cfg["disable_escaping"] = no_escape;
    // Settings with defaults are stored only when written: a read shows the
    // connection details as written, as Vault's does.
    SB_ASSIGN_OR_RETURN(std::string auth_mode, f.GetString("password_authentication"));
    if (!auth_mode.empty() && auth_mode != "password" && auth_mode != "scram-sha-256")
      return InvalidArgument("password_authentication must be password or scram-sha-256");
    if (!auth_mode.empty()) cfg["password_authentication"] = auth_mode;
    // The username template is parsed and tried once now, as Vault does, so a
    // bad one is a 400 here rather than a failure at every creds request.
    SB_ASSIGN_OR_RETURN(std::string tmpl, f.GetString("username_template"));
    if (!tmpl.empty()) {
      auto parsed = UsernameTemplate::Parse(tmpl);
      if (!parsed.ok())
        return InvalidArgument("error creating database object: unable to initialize username template: " +
                               parsed.status().message());
      auto trial = parsed->Render(UsernameMetadata{});
      if (!trial.ok())
        return InvalidArgument("error creating database object: invalid username template: " +
                               trial.status().message());
      Status name_ok = CheckRoleName(*trial);
      if (!name_ok.ok() && !trial->empty())  // empty metadata may legitimately render ""
        return InvalidArgument("error creating database object: invalid username template: " + name_ok.message());
    }
    cfg["username_template"] = tmpl;
    SB_ASSIGN_OR_RETURN(std::string policy, f.GetString("password_policy"));
    cfg["password_policy"] = policy;
    // Pool settings; Vault's defaults (4 open, idle = open, no lifetime).
    SB_ASSIGN_OR_RETURN(int64_t max_open, f.GetInt("max_open_connections"));
    SB_ASSIGN_OR_RETURN(int64_t max_idle, f.GetInt("max_idle_connections"));
    SB_ASSIGN_OR_RETURN(int64_t lifetime, f.GetDuration("max_connection_lifetime"));
    if (max_idle < 0 || lifetime < 0) return InvalidArgument("max_idle_connections and max_connection_lifetime must not be negative");
    if (f.Has("max_open_connections")) cfg["max_open_connections"] = max_open;
    if (f.Has("max_idle_connections")) cfg["max_idle_connections"] = max_idle;
    if (f.Has("max_connection_lifetime")) cfg["max_connection_lifetime"] = lifetime;
    if (verify) {
      auto c = connect_(Dsn(cfg));
      if (!c.ok()) return InvalidArgument("error creating database object: " + c.status().message());
    }
    SB_RETURN_IF_ERROR(req.storage->Put("config/" + name, cfg.dump()));
    std::lock_guard l(mu_);
    pools_.erase(name);
    return Response::Empty();
  }

  Result<Json> Load(Storage* s, const std::string& key) {
    SB_ASSIGN_OR_RETURN(auto raw, s->Get(key));
    if (!raw) return Json(nullptr);
    Json j = Json::parse(*raw, nullptr, false);
    if (!j.is_object()) return Corruption("database entry malformed");
    return j;
  }

  Result<Response> ReadConfig(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(Json cfg, Load(req.storage, "config/" + f.Get("name").get<std::string>()));
    if (cfg.is_null()) return Response::Empty();
    // The root password is never returned.
    Json details = {{"connection_url", cfg["connection_url"]}, {"username", cfg["username"]}};
    for (const char* k : {"max_open_connections", "max_idle_connections", "password_authentication"})
      if (cfg.contains(k)) details[k] = cfg[k];
    if (cfg.contains("max_connection_lifetime"))
      details["max_connection_lifetime"] = GoDurationString(cfg["max_connection_lifetime"].get<int64_t>());
    if (!cfg.value("username_template", "").empty()) details["username_template"] = cfg["username_template"];
    return Response::WithData(Json{{"plugin_name", cfg["plugin_name"]},
                                   {"plugin_version", ""},
                                   {"connection_details", details},
                                   {"allowed_roles", cfg["allowed_roles"]},
                                   {"root_credentials_rotate_statements", cfg["root_rotation_statements"]},
                                   {"password_policy", cfg.value("password_policy", "")}});
  }

  Result<Response> WriteRole(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    SB_ASSIGN_OR_RETURN(std::string db, f.GetString("db_name"));
    if (db.empty()) return InvalidArgument("database name is required");
    SB_ASSIGN_OR_RETURN(auto creation, f.GetStringList("creation_statements"));
    SB_ASSIGN_OR_RETURN(auto revocation, f.GetStringList("revocation_statements"));
    SB_ASSIGN_OR_RETURN(auto renew, f.GetStringList("renew_statements"));
    SB_ASSIGN_OR_RETURN(int64_t ttl, f.GetDuration("default_ttl"));
    SB_ASSIGN_OR_RETURN(int64_t max_ttl, f.GetDuration("max_ttl"));
    if (max_ttl > 0 && ttl > max_ttl) return InvalidArgument("ttl cannot be greater than max_ttl");
    // A comma-separated string list would split statements on commas: keep
    // the original strings when they came as one string.
    auto raw_list = [&](const char* k, std::vector<std::string> parsed) {
      const Json& v = f.Get(k);
      if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
      return parsed;
    };
    Json role = {{"db_name", db},
                 {"creation_statements", raw_list("creation_statements", creation)},
                 {"revocation_statements", raw_list("revocation_statements", revocation)},
                 {"renew_statements", raw_list("renew_statements", renew)},
                 {"rollback_statements", Json::array()},
                 {"default_ttl", ttl},
                 {"max_ttl", max_ttl}};
    SB_RETURN_IF_ERROR(req.storage->Put("roles/" + name, role.dump()));
    return Response::Empty();
  }

  Result<Response> ReadRole(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(Json role, Load(req.storage, "roles/" + f.Get("name").get<std::string>()));
    if (role.is_null()) return Response::Empty();
    if (!role.contains("credential_type")) role["credential_type"] = "password";  // Vault's default
    return Response::WithData(role);
  }

  Result<std::shared_ptr<Pool>> PoolFor(Storage* s, const std::string& db) {
    {
      std::lock_guard l(mu_);
      auto it = pools_.find(db);
      if (it != pools_.end()) return it->second;
    }
    SB_ASSIGN_OR_RETURN(Json cfg, Load(s, "config/" + db));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    auto pool = std::make_shared<Pool>(connect_, Dsn(cfg), PoolLimits::FromConfig(cfg), clock_);
    std::lock_guard l(mu_);
    // Concurrent first requests each built one: keep the first, or the
    // sessions would be bounded per pool rather than per database.
    return pools_.emplace(db, std::move(pool)).first->second;
  }

  // Runs statements in one transaction on a pooled connection, sent as one
  // simple-query message: one round trip instead of one per statement.
  Status RunTx(Storage* s, const std::string& db, const std::vector<std::string>& statements) {
    SB_ASSIGN_OR_RETURN(auto pool, PoolFor(s, db));
    SB_ASSIGN_OR_RETURN(auto conn, pool->Get());
    std::string sql = "BEGIN;\n";
    for (const auto& st : statements) sql += st + ";\n";
    sql += "COMMIT;";
    Status e = conn->Exec(sql);
    Wipe(sql);  // it may hold a password
    if (!e.ok()) conn->Exec("ROLLBACK").IgnoreError();  // the failed transaction is still open
    pool->Put(std::move(conn));
    return e;
  }

  // Splits each item into statements and fills in the placeholders.
  static Result<std::vector<std::string>> Expand(const Json& items, const StatementValues& values) {
    std::vector<std::string> out;
    for (const auto& it : items) {
      if (!it.is_string()) continue;
      for (const auto& st : SplitStatements(it.get<std::string>())) {
        SB_ASSIGN_OR_RETURN(std::string expanded, ExpandStatement(st, values));
        out.push_back(std::move(expanded));
      }
    }
    return out;
  }

  // A new password: from the config's password policy when it names one,
  // else the built-in generator.
  Result<std::string> NewPassword(const Json& cfg) {
    std::string policy = cfg.value("password_policy", "");
    if (policy.empty()) return DefaultPassword();
    if (!generate_password_) return Internal("unable to generate password: password policies are not available");
    auto p = generate_password_(policy);
    if (!p.ok()) {
      if (p.status().code() == StatusCode::kNotFound)
        return InvalidArgument("unable to generate password: password policy \"" + policy + "\" does not exist");
      return p.status();
    }
    return p;
  }

  Result<Response> Creds(Request& req, FieldData& f) {
    std::string role_name = f.Get("role").get<std::string>();
    SB_ASSIGN_OR_RETURN(Json role, Load(req.storage, "roles/" + role_name));
    if (role.is_null()) return InvalidArgument("unknown role: " + role_name);
    std::string db = role["db_name"];
    SB_ASSIGN_OR_RETURN(Json cfg, Load(req.storage, "config/" + db));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    if (!RoleAllowed(cfg.value("allowed_roles", std::vector<std::string>{}), role_name))
      return InvalidArgument("\"" + role_name + "\" is not an allowed role");  // Vault: 500; it never succeeds on retry
    if (role["creation_statements"].empty()) return InvalidArgument("empty creation statements");
    int64_t max_ttl = role.value("max_ttl", int64_t{0});
    if (max_ttl <= 0 || (mount_ && max_ttl > mount_->MaxLeaseTtl())) max_ttl = mount_ ? mount_->MaxLeaseTtl() : 768 * 3600;
    int64_t ttl = role.value("default_ttl", int64_t{0});
    if (ttl <= 0) ttl = mount_ ? mount_->DefaultLeaseTtl() : 768 * 3600;
    ttl = std::min(ttl, max_ttl);
    const int64_t now_nanos = clock_->NowNanos();
    const int64_t now = now_nanos / 1'000'000'000;
    std::string display = req.token ? req.token->display_name : "token";
    SB_ASSIGN_OR_RETURN(std::string user, MakeUsername(cfg, UsernameMetadata{display, role_name}, now_nanos));
    std::string pass, secret;
    WipeOnExit wipe{&pass, &secret};
    SB_ASSIGN_OR_RETURN(pass, NewPassword(cfg));
    secret = PasswordForStatements(cfg, pass);
    auto expanded = Expand(role["creation_statements"], {user, secret, PgTime(now + ttl + 5)});
    if (!expanded.ok()) return InvalidArgument("cannot build the creation statements: " + expanded.status().message());
    std::vector<std::string> statements = std::move(*expanded);
    // Concurrent GRANTs on one object collide in PostgreSQL ("tuple
    // concurrently updated"); the whole transaction rolled back, so retry it.
    Status s = RunTx(req.storage, db, statements);
    for (int attempt = 1; attempt < 5 && !s.ok() && s.message().find("concurrently") != std::string::npos; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 5));
      s = RunTx(req.storage, db, statements);
    }
    for (auto& st : statements) Wipe(st);
    if (!s.ok()) {
      // The database may quote the statement back: never let the password out.
      log::Error("database: creating credentials for role " + role_name + " failed: " +
                 Redact(s.message(), {&pass, &secret}));
      return Internal("failed to create credentials");
    }
    Response resp = Response::WithData(Json{{"username", user}, {"password", pass}});
    logical::Secret sec;
    sec.ttl = ttl;
    sec.max_ttl = max_ttl;
    sec.renewable = true;
    sec.internal_data = {{"username", user},
                         {"role", role_name},
                         {"db_name", db},
                         {"revocation_statements", role["revocation_statements"]},
                         {"renew_statements", role["renew_statements"]}};
    resp.secret = std::move(sec);
    return resp;
  }

  Result<Response> Renew(Request& req) {
    const Json& in = req.data;
    std::string user = in.value("username", ""), db = in.value("db_name", "");
    int64_t ttl = in.value("ttl", int64_t{0});
    std::string expiration = PgTime(clock_->NowSeconds() + ttl + 5);
    Json renew = in.value("renew_statements", Json::array());
    std::vector<std::string> statements;
    if (renew.empty()) {
      statements = {"ALTER ROLE " + QuoteIdent(user) + " VALID UNTIL " + QuoteLiteral(expiration)};
    } else {
      SB_ASSIGN_OR_RETURN(statements, Expand(renew, {user, "", expiration}));
    }
    SB_RETURN_IF_ERROR(RunTx(req.storage, db, statements));
    return Response::Empty();
  }

  Result<Response> Revoke(Request& req) {
    const Json& in = req.data;
    std::string user = in.value("username", ""), db = in.value("db_name", "");
    if (user.empty()) return Response::Empty();
    SB_ASSIGN_OR_RETURN(auto pool, PoolFor(req.storage, db));
    SB_ASSIGN_OR_RETURN(auto conn, pool->Get());
    // A revoked credential must not keep using an open session (vault#699).
    auto term = conn->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", {user});
    if (!term.ok()) log::Warn("database: cannot terminate sessions: " + term.status().message());
    Json custom = in.value("revocation_statements", Json::array());
    Status result = Status::Ok();
    if (!custom.empty()) {
      pool->Put(std::move(conn));
      SB_ASSIGN_OR_RETURN(auto statements, Expand(custom, {user, "", ""}));
      SB_RETURN_IF_ERROR(RunTx(req.storage, db, statements));
      return Response::Empty();
    }
    // The plugin's default sequence (contract §3.5), every statement tried.
    auto exists = conn->Query("SELECT exists (SELECT rolname FROM pg_roles WHERE rolname=$1)", {user});
    if (!exists.ok()) return exists.status();
    if (!exists->empty() && (*exists)[0][0] == "f") {
      pool->Put(std::move(conn));
      return Response::Empty();
    }
    std::string q = QuoteIdent(user);
    std::vector<std::string> stmts;
    auto schemas = conn->Query(
        "SELECT DISTINCT table_schema FROM information_schema.role_column_grants WHERE grantee=$1", {user});
    if (schemas.ok())
      for (const auto& row : *schemas) {
        stmts.push_back("REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA " + QuoteIdent(row[0]) + " FROM " + q);
        stmts.push_back("REVOKE USAGE ON SCHEMA " + QuoteIdent(row[0]) + " FROM " + q);
      }
    stmts.push_back("REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM " + q);
    stmts.push_back("REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM " + q);
    stmts.push_back("REVOKE USAGE ON SCHEMA public FROM " + q);
    auto dbname = conn->Query("SELECT current_database()", {});
    if (dbname.ok() && !dbname->empty())
      stmts.push_back("REVOKE CONNECT ON DATABASE " + QuoteIdent((*dbname)[0][0]) + " FROM " + q);
    Status last = Status::Ok();
    for (const auto& st : stmts) {
      Status e = conn->Exec(st);
      if (!e.ok()) last = e;
    }
    if (!last.ok()) {
      pool->Put(std::move(conn));
      return Unavailable("could not perform all revocation statements: " + last.message());
    }
    Status d = conn->Exec("DROP ROLE IF EXISTS " + q);
    pool->Put(std::move(conn));
    SB_RETURN_IF_ERROR(d);
    return Response::Empty();
  }

  // The username for a new credential, from the config's template (or
  // Vault's default); an unusable name is an error, never truncated.
  static Result<std::string> MakeUsername(const Json& cfg, const UsernameMetadata& md, int64_t now_nanos) {
    std::string text = cfg.value("username_template", "");
    auto tmpl = UsernameTemplate::Parse(text.empty() ? kDefaultUsernameTemplate : text);
    if (!tmpl.ok()) return InvalidArgument("unable to initialize username template: " + tmpl.status().message());
    TemplateEnv env;
    env.unix_nanos = now_nanos;
    auto user = tmpl->Render(md, env);
    if (!user.ok()) return InvalidArgument("unable to generate username: " + user.status().message());
    Status ok = CheckRoleName(*user);
    if (!ok.ok()) return InvalidArgument("unable to generate username: " + ok.message());
    return user;
  }

  ConnectFn connect_;
  const Clock* clock_;
  const logical::MountView* mount_;
  logical::PasswordGenerator generate_password_;  // empty without a core (tests)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Pool>> pools_;  // guarded by mu_
  std::mutex rotate_mu_;  // one password change at a time (root and static roles)
  Storage* storage_ = nullptr;
  std::mutex rot_mu_;
  std::condition_variable rot_cv_;
  bool stopping_ = false;  // guarded by rot_mu_
  std::thread rotator_;     // started last, joined in StopRotation
};

}  // namespace

std::vector<std::string> SplitStatements(const std::string& text) {
  std::vector<std::string> out;
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  if (text.find("$$") != std::string::npos) {  // DO $$ ... END $$ blocks stay whole
    std::string t = trim(text);
    if (!t.empty()) out.push_back(t);
    return out;
  }
  size_t start = 0;
  bool in_quote = false;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '\'') in_quote = !in_quote;
    if (i == text.size() || (text[i] == ';' && !in_quote)) {
      std::string st = trim(text.substr(start, i - start));
      if (!st.empty()) out.push_back(st);
      start = i + 1;
    }
  }
  return out;
}

std::string QuoteLiteral(const std::string& s) {
  const bool backslash = s.find('\\') != std::string::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'' || (backslash && c == '\\')) out += c;
    out += c;
  }
  return out + "'";
}

Status CheckRoleName(const std::string& name) {
  if (name.empty()) return InvalidArgument("the username is empty");
  if (name.size() > 63)
    return InvalidArgument("the username is " + std::to_string(name.size()) +
                           " bytes, longer than PostgreSQL's 63-byte identifier limit (end the template with | truncate 63)");
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return InvalidArgument("the username contains a control character");
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > name.size()) return InvalidArgument("the username is not valid UTF-8");
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(name[i + k]) & 0xC0) != 0x80)
        return InvalidArgument("the username is not valid UTF-8");
    i += n;
  }
  return Status::Ok();
}

namespace {

bool IsIdentChar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

// The dollar-quote tag ("$$" or "$tag$") starting at s[i], or "".
std::string DollarTag(const std::string& s, size_t i) {
  if (s[i] != '$' || (i > 0 && IsIdentChar(s[i - 1]))) return "";
  size_t j = i + 1;
  if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) return "";  // $1: a parameter
  while (j < s.size() && s[j] != '$' && (IsIdentChar(s[j]))) ++j;
  if (j >= s.size() || s[j] != '$') return "";
  return s.substr(i, j - i + 1);
}

enum class SqlCtx { kCode, kLiteral, kEscLiteral, kIdent, kLineComment, kBlockComment };

Result<std::string> Escape(SqlCtx ctx, const std::string& v, bool ident, const std::vector<std::string>& dollars,
                           const std::string& key) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgument("the value of {{" + key + "}} cannot be placed safely in this statement: " + why);
  };
  if (v.find('\0') != std::string::npos) return refuse("it contains a NUL byte");
  for (const auto& tag : dollars)
    if (v.find(tag) != std::string::npos) return refuse("it contains the enclosing dollar-quote tag");
  auto doubled = [&](char q, bool backslash) {
    std::string out;
    for (char c : v) {
      if (c == q || (backslash && c == '\\')) out += c;
      out += c;
    }
    return out;
  };
  switch (ctx) {
    case SqlCtx::kCode: return ident ? QuoteIdent(v) : QuoteLiteral(v);
    case SqlCtx::kLiteral: return doubled('\'', false);
    case SqlCtx::kEscLiteral: return doubled('\'', true);
    case SqlCtx::kIdent: return doubled('"', false);
    case SqlCtx::kLineComment:
      if (v.find_first_of("\r\n") != std::string::npos) return refuse("it would end the comment");
      return v;
    case SqlCtx::kBlockComment:
      if (v.find("*/") != std::string::npos || v.find("/*") != std::string::npos || v.back() == '*' ||
          v.back() == '/' || v.front() == '/' || v.front() == '*')
        return refuse("it would end the comment");
      return v;
  }
  return refuse("unknown context");
}

}  // namespace

Result<std::string> ExpandStatement(const std::string& s, const StatementValues& values) {
  std::string out;
  out.reserve(s.size() + 64);
  SqlCtx ctx = SqlCtx::kCode;
  int comment_depth = 0;
  std::vector<std::string> dollars;  // open dollar quotes, outermost first
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 2, "{{") == 0) {
      size_t end = s.find("}}", i + 2);
      if (end != std::string::npos) {
        std::string key = s.substr(i + 2, end - i - 2);
        const std::string* v = nullptr;
        if (key == "name" || key == "username") v = &values.name;
        else if (key == "password") v = &values.password;
        else if (key == "expiration") v = &values.expiration;
        if (v != nullptr) {
          if (!v->empty() || ctx == SqlCtx::kCode) {
            SB_ASSIGN_OR_RETURN(std::string q, Escape(ctx, *v, v == &values.name, dollars, key));
            out += q;
          }
          i = end + 2;
          continue;
        }
      }
    }
    // The closing tag of an open dollar quote ends it (and every quote opened
    // inside it), whatever the body's own state: that is how the server's
    // lexer reads it.
    bool closed = false;
    for (size_t k = 0; k < dollars.size(); ++k) {
      if (s.compare(i, dollars[k].size(), dollars[k]) == 0) {
        out += dollars[k];
        i += dollars[k].size();
        dollars.resize(k);
        ctx = SqlCtx::kCode;
        comment_depth = 0;
        closed = true;
        break;
      }
    }
    if (closed) continue;
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    switch (ctx) {
      case SqlCtx::kCode:
        if (c == '\'') {
          bool esc = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !IsIdentChar(s[i - 2]));
          ctx = esc ? SqlCtx::kEscLiteral : SqlCtx::kLiteral;
        } else if (c == '"') {
          ctx = SqlCtx::kIdent;
        } else if (c == '-' && next == '-') {
          ctx = SqlCtx::kLineComment;
          out += "--";
          i += 2;
          continue;
        } else if (c == '/' && next == '*') {
          ctx = SqlCtx::kBlockComment;
          comment_depth = 1;
          out += "/*";
          i += 2;
          continue;
        } else if (c == '$') {
          std::string tag = DollarTag(s, i);
          if (!tag.empty()) {
            dollars.push_back(tag);
            out += tag;
            i += tag.size();
            continue;
          }
        }
        break;
      case SqlCtx::kLiteral:
      case SqlCtx::kIdent: {
        const char q = ctx == SqlCtx::kIdent ? '"' : '\'';
        if (c == q) {
          if (next == q) {
            out += c;
            out += next;
            i += 2;
            continue;
          }
          ctx = SqlCtx::kCode;
        }
        break;
      }
      case SqlCtx::kEscLiteral:
        if (c == '\\' && i + 1 < s.size()) {
          out += c;
          out += next;
          i += 2;
          continue;
        }
        if (c == '\'') {
          if (next == '\'') {
            out += "''";
            i += 2;
            continue;
          }
          ctx = SqlCtx::kCode;
        }
        break;
      case SqlCtx::kLineComment:
        if (c == '\n' || c == '\r') ctx = SqlCtx::kCode;
        break;
      case SqlCtx::kBlockComment:
        if (c == '/' && next == '*') {
          ++comment_depth;
          out += "/*";
          i += 2;
          continue;
        }
        if (c == '*' && next == '/') {
          if (--comment_depth == 0) ctx = SqlCtx::kCode;
          out += "*/";
          i += 2;
          continue;
        }
        break;
    }
    out += c;
    ++i;
  }
  return out;
}

logical::BackendFactory Factory(ConnectFn connect) {
  return [connect](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new DatabaseBackend(cfg, connect));
  };
}

}  // namespace sealbox::engines::database
