#include "engines/database/roles.h"

#include <algorithm>

#include "base/clock.h"
#include "engines/database/stored_entry.h"
#include "logical/routed_backend.h"

namespace sealbox::engines::database {
namespace {

// A statement list given as one string stays one item: splitting it on
// commas (the weak string-list decoding) would cut statements apart.
Result<std::vector<std::string>> StatementList(const logical::FieldData& f, const char* key) {
  SB_ASSIGN_OR_RETURN(auto parsed, f.GetStringList(key));
  const Json& v = f.Get(key);
  if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  return parsed;
}

}  // namespace

Result<Role> Role::FromFields(const logical::FieldData& f) {
  Role r;
  SB_ASSIGN_OR_RETURN(r.db_name, f.GetString("db_name"));
  if (r.db_name.empty()) return InvalidArgument("database name is required");
  SB_ASSIGN_OR_RETURN(r.creation_statements, StatementList(f, "creation_statements"));
  SB_ASSIGN_OR_RETURN(r.revocation_statements, StatementList(f, "revocation_statements"));
  SB_ASSIGN_OR_RETURN(r.renew_statements, StatementList(f, "renew_statements"));
  SB_ASSIGN_OR_RETURN(r.default_ttl, f.GetDuration("default_ttl"));
  SB_ASSIGN_OR_RETURN(r.max_ttl, f.GetDuration("max_ttl"));
  if (r.max_ttl > 0 && r.default_ttl > r.max_ttl) return InvalidArgument("ttl cannot be greater than max_ttl");
  return r;
}

Result<Role> Role::FromJson(const Json& j) {
  Role r;
  EntryReader in(j);
  in.Read("db_name", r.db_name);
  in.Read("creation_statements", r.creation_statements);
  in.Read("revocation_statements", r.revocation_statements);
  in.Read("renew_statements", r.renew_statements);
  in.Read("rollback_statements", r.rollback_statements);
  in.Read("default_ttl", r.default_ttl);
  in.Read("max_ttl", r.max_ttl);
  SB_RETURN_IF_ERROR(in.status());
  return r;
}

Json Role::ToJson() const {
  return Json{{"db_name", db_name},
              {"creation_statements", creation_statements},
              {"revocation_statements", revocation_statements},
              {"renew_statements", renew_statements},
              {"rollback_statements", rollback_statements},
              {"default_ttl", default_ttl},
              {"max_ttl", max_ttl}};
}

Status StaticRole::ApplyAccount(const logical::FieldData& f, bool existed) {
  SB_ASSIGN_OR_RETURN(std::string db, f.GetString("db_name"));
  SB_ASSIGN_OR_RETURN(std::string user, f.GetString("username"));
  if (db.empty() && existed) db = db_name;
  if (user.empty() && existed) user = username;
  if (db.empty()) return InvalidArgument("empty database name attribute");
  if (user.empty()) return InvalidArgument("username is a required field to create a static role");
  if (existed && username != user) return InvalidArgument("cannot update static account username");
  db_name = db;
  username = user;
  return Status::Ok();
}

Status StaticRole::ApplyRotation(const logical::FieldData& f, bool existed) {
  SB_ASSIGN_OR_RETURN(int64_t period, f.GetDuration("rotation_period"));
  if (period == 0 && existed) period = rotation_period;
  if (period < 5) return InvalidArgument("rotation_period must be 5 seconds or more");
  SB_ASSIGN_OR_RETURN(int64_t overlap, f.GetDuration("rotation_overlap"));
  if (!f.Has("rotation_overlap") && existed) overlap = rotation_overlap;
  if (overlap < 0) return InvalidArgument("rotation_overlap must not be negative");
  if (overlap > 0 && overlap >= period)
    return InvalidArgument("rotation_overlap must be shorter than rotation_period");
  rotation_period = period;
  rotation_overlap = overlap;
  return Status::Ok();
}

Status StaticRole::ApplyStatements(const logical::FieldData& f, bool existed) {
  SB_ASSIGN_OR_RETURN(auto statements, f.GetStringList("rotation_statements"));
  if (f.Has("rotation_statements") || !existed) rotation_statements = std::move(statements);
  return Status::Ok();
}

Result<StaticRole> StaticRole::FromJson(const Json& j) {
  StaticRole r;
  EntryReader in(j);
  in.Read("db_name", r.db_name);
  in.Read("username", r.username);
  in.Read("rotation_period", r.rotation_period);
  in.Read("rotation_overlap", r.rotation_overlap);
  in.Read("rotation_statements", r.rotation_statements);
  in.Read("password", r.password);
  in.Read("last_vault_rotation_unix", r.last_vault_rotation_unix);
  in.Read("twin_username", r.twin_username);
  in.Read("previous_valid_until_unix", r.previous_valid_until_unix);
  SB_RETURN_IF_ERROR(in.status());
  return r;
}

Json StaticRole::ToJson() const {
  Json j = {{"db_name", db_name},
            {"username", username},
            {"rotation_period", rotation_period},
            {"rotation_overlap", rotation_overlap},
            {"rotation_statements", rotation_statements}};
  if (!password.empty() || last_vault_rotation_unix != 0) {
    j["password"] = password;
    j["last_vault_rotation_unix"] = last_vault_rotation_unix;
  }
  if (HasTwin()) {
    j["twin_username"] = twin_username;
    j["previous_valid_until_unix"] = previous_valid_until_unix;
  }
  return j;
}

Json StaticRole::ToReadResponse(int64_t now, bool creds) const {
  Json d = {{"username", username},
            {"rotation_period", rotation_period},
            {"last_vault_rotation", FormatRfc3339(last_vault_rotation_unix)},
            {"ttl", std::max<int64_t>(0, last_vault_rotation_unix + rotation_period - now)},
            {"credential_type", "password"}};
  if (!creds) {
    d["db_name"] = db_name;
    d["rotation_statements"] = rotation_statements;
    d["rotation_overlap"] = rotation_overlap;
    return d;
  }
  d["password"] = password;
  // During an overlap: who still logs in with the previous password, and
  // until when. The previous password itself is not returned.
  if (HasTwin() && now < previous_valid_until_unix) {
    d["previous_username"] = twin_username;
    d["previous_password_valid_until"] = FormatRfc3339(previous_valid_until_unix);
  }
  return d;
}

Result<CredentialLease> CredentialLease::FromJson(const Json& j) {
  CredentialLease l;
  EntryReader in(j);
  in.Read("username", l.username);
  in.Read("role", l.role);
  in.Read("db_name", l.db_name);
  in.Read("revocation_statements", l.revocation_statements);
  in.Read("renew_statements", l.renew_statements);
  SB_RETURN_IF_ERROR(in.status());
  return l;
}

Json CredentialLease::ToJson() const {
  return Json{{"username", username},
              {"role", role},
              {"db_name", db_name},
              {"revocation_statements", revocation_statements},
              {"renew_statements", renew_statements}};
}

}  // namespace sealbox::engines::database
