#include "engines/database/database_backend.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include "base/crypto.h"
#include "base/log.h"
#include "core/logical/routed_backend.h"
#include "engines/database/scram.h"
#include "storage/storage.h"

namespace sealbox::engines::database {
namespace {

using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Request;
using logical::Response;

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

std::string Sanitize(const std::string& s, size_t max) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') out += c;
  return out.substr(0, max);
}

std::string Password() {
  // 20 characters with at least one upper, one lower, one digit and a '-'.
  std::string p = crypto::RandomBase62(16);
  return "A1a-" + p;
}

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

class Pool {
 public:
  Pool(ConnectFn connect, std::string dsn) : connect_(std::move(connect)), dsn_(std::move(dsn)) {}
  Result<std::unique_ptr<Connection>> Get() {
    {
      std::lock_guard l(mu_);
      while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (c->Healthy()) return c;
      }
    }
    return connect_(dsn_);
  }
  void Put(std::unique_ptr<Connection> c) {
    std::lock_guard l(mu_);
    // Keep as many idle sessions as were needed: a new one costs a SCRAM handshake.
    if (idle_.size() < 32 && c->Healthy()) idle_.push_back(std::move(c));
  }

 private:
  ConnectFn connect_;
  std::string dsn_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

class DatabaseBackend final : public logical::RoutedBackend {
 public:
  DatabaseBackend(const logical::BackendConfig& cfg, ConnectFn connect)
      : connect_(std::move(connect)), clock_(cfg.clock ? cfg.clock : SystemClock::Default()), mount_(cfg.mount) {
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
         .ops = {{Operation::kUpdate, [this](Request&, FieldData& f) -> Result<Response> {
           std::lock_guard l(mu_);
           pools_.erase(f.Get("name").get<std::string>());
           return Response::Empty();
         }}}},
        {.pattern = "rotate-root/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return RotateRoot(r, f); }}}},
        {.pattern = "static-roles/",
         .ops = {{Operation::kList, [this](Request& r, FieldData&) { return List(r, "static-roles/"); }}}},
        {.pattern = "static-roles/{name}",
         .fields = {{"name"}, {"db_name"}, {"username"}, {"rotation_period", FieldType::kDuration},
                    {"rotation_statements", FieldType::kStringList}, {"credential_type"}},
         .ops = {{Operation::kUpdate, [this](Request& r, FieldData& f) { return WriteStaticRole(r, f); }},
                 {Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, false); }},
                 {Operation::kDelete,
                  [this](Request& r, FieldData& f) { return DeleteEntry(r, f, "static-roles/"); }}}},
        {.pattern = "static-creds/{name}",
         .fields = {{"name"}},
         .ops = {{Operation::kRead, [this](Request& r, FieldData& f) { return ReadStaticRole(r, f, true); }}}},
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
         .any_fields = true},
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
    std::string pass = Password();
    std::string secret = PasswordForStatements(cfg, pass);
    std::vector<std::string> statements;
    Json custom = cfg.value("root_rotation_statements", Json::array());
    if (!custom.empty()) statements = Expand(custom, user, secret, "");
    else statements = {"ALTER ROLE " + QuoteIdent(user) + " WITH PASSWORD '" + secret + "'"};
    Status s = RunTx(req.storage, name, statements);
    if (!s.ok()) {
      log::Error("database: rotate-root of " + name + " failed: " + Replace(s.message(), secret, "<redacted>"));
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
    SB_ASSIGN_OR_RETURN(auto stmts, f.GetStringList("rotation_statements"));
    Json role = old.is_null() ? Json::object() : old;
    role["db_name"] = db;
    role["username"] = user;
    role["rotation_period"] = period;
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
    } else {
      d["rotation_statements"] = role.value("rotation_statements", Json::array());
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
    std::string pass = Password();
    std::string secret = PasswordForStatements(cfg, pass);
    Json custom = role.value("rotation_statements", Json::array());
    std::vector<std::string> statements =
        custom.empty() ? std::vector<std::string>{"ALTER ROLE " + QuoteIdent(user) + " WITH PASSWORD '" + secret + "'"}
                       : Expand(custom, user, secret, "");
    Status s = RunTx(storage, db, statements);
    if (!s.ok()) {
      log::Error("database: rotating static role " + name + " failed: " + Replace(s.message(), secret, "<redacted>"));
      return Internal("failed to rotate the static role's password");
    }
    role["password"] = pass;
    role["last_vault_rotation_unix"] = clock_->NowSeconds();
    return storage->Put("static-roles/" + name, role.dump());
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
    if (url.empty()) return InvalidArgument("connection_url is required");
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
    SB_ASSIGN_OR_RETURN(std::string auth_mode, f.GetString("password_authentication"));
    if (auth_mode.empty()) auth_mode = "password";
    if (auth_mode != "password" && auth_mode != "scram-sha-256")
      return InvalidArgument("password_authentication must be password or scram-sha-256");
    cfg["password_authentication"] = auth_mode;
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
    return Response::WithData(Json{
        {"plugin_name", cfg["plugin_name"]},
        {"plugin_version", ""},
        {"connection_details", {{"connection_url", cfg["connection_url"]}, {"username", cfg["username"]}}},
        {"allowed_roles", cfg["allowed_roles"]},
        {"verify_connection", cfg["verify_connection"]},
        {"root_credentials_rotate_statements", cfg["root_rotation_statements"]},
        {"password_authentication", cfg.value("password_authentication", "password")},
        {"password_policy", ""}});
  }

  Result<Response> WriteRole(Request& req, FieldData& f) {
    std::string name = f.Get("name").get<std::string>();
    SB_ASSIGN_OR_RETURN(std::string db, f.GetString("db_name"));
    if (db.empty()) return InvalidArgument("empty database name attribute");
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
    auto pool = std::make_shared<Pool>(connect_, Dsn(cfg));
    std::lock_guard l(mu_);
    pools_[db] = pool;
    return pool;
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
    if (!e.ok()) conn->Exec("ROLLBACK").IgnoreError();  // the failed transaction is still open
    pool->Put(std::move(conn));
    return e;
  }

  static std::vector<std::string> Expand(const Json& items, const std::string& user, const std::string& pass,
                                         const std::string& expiration) {
    std::vector<std::string> out;
    for (const auto& it : items) {
      if (!it.is_string()) continue;
      for (auto& st : SplitStatements(it.get<std::string>())) {
        st = Replace(st, "{{name}}", user);
        st = Replace(st, "{{username}}", user);
        st = Replace(st, "{{password}}", pass);
        st = Replace(st, "{{expiration}}", expiration);
        out.push_back(st);
      }
    }
    return out;
  }

  Result<Response> Creds(Request& req, FieldData& f) {
    std::string role_name = f.Get("role").get<std::string>();
    SB_ASSIGN_OR_RETURN(Json role, Load(req.storage, "roles/" + role_name));
    if (role.is_null()) return InvalidArgument("unknown role: " + role_name);
    std::string db = role["db_name"];
    SB_ASSIGN_OR_RETURN(Json cfg, Load(req.storage, "config/" + db));
    if (cfg.is_null()) return InvalidArgument("database configuration not found");
    if (!RoleAllowed(cfg.value("allowed_roles", std::vector<std::string>{}), role_name))
      return Internal("\"" + role_name + "\" is not an allowed role");
    if (role["creation_statements"].empty()) return Internal("empty creation statements");
    int64_t max_ttl = role.value("max_ttl", int64_t{0});
    if (max_ttl <= 0 || (mount_ && max_ttl > mount_->MaxLeaseTtl())) max_ttl = mount_ ? mount_->MaxLeaseTtl() : 768 * 3600;
    int64_t ttl = role.value("default_ttl", int64_t{0});
    if (ttl <= 0) ttl = mount_ ? mount_->DefaultLeaseTtl() : 768 * 3600;
    ttl = std::min(ttl, max_ttl);
    const int64_t now = clock_->NowSeconds();
    std::string display = req.token ? req.token->display_name : "token";
    std::string user = MakeUsername(display, role_name, now);
    std::string pass = Password();
    std::string secret = PasswordForStatements(cfg, pass);
    auto statements = Expand(role["creation_statements"], user, secret, PgTime(now + ttl + 5));
    // Concurrent GRANTs on one object collide in PostgreSQL ("tuple
    // concurrently updated"); the whole transaction rolled back, so retry it.
    Status s = RunTx(req.storage, db, statements);
    for (int attempt = 1; attempt < 5 && !s.ok() && s.message().find("concurrently") != std::string::npos; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 5));
      s = RunTx(req.storage, db, statements);
    }
    if (!s.ok()) {
      // The database may quote the statement back: never let the password out.
      log::Error("database: creating credentials for role " + role_name + " failed: " +
                 Replace(Replace(s.message(), pass, "<redacted>"), secret, "<redacted>"));
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
    std::vector<std::string> statements =
        renew.empty() ? std::vector<std::string>{"ALTER ROLE " + QuoteIdent(user) + " VALID UNTIL '" + expiration + "'"}
                      : Expand(renew, user, "", expiration);
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
      SB_RETURN_IF_ERROR(RunTx(req.storage, db, Expand(custom, user, "", "")));
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

  ConnectFn connect_;
  const Clock* clock_;
  const logical::MountView* mount_;
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

std::string MakeUsername(const std::string& display_name, const std::string& role, int64_t unix_now) {
  std::string u = "v-" + Sanitize(display_name, 8) + "-" + Sanitize(role, 8) + "-" + crypto::RandomBase62(20) + "-" +
                  std::to_string(unix_now);
  return u.substr(0, 63);
}

logical::BackendFactory Factory(ConnectFn connect) {
  return [connect](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new DatabaseBackend(cfg, connect));
  };
}

}  // namespace sealbox::engines::database
