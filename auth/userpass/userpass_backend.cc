#include "auth/userpass/userpass_backend.h"

#include <array>
#include <cctype>
#include <mutex>
#include <optional>

#include "auth/cidr.h"
#include "auth/token_fields.h"
#include "auth/userpass/password_hash.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::auth::userpass {
namespace {

using logical::FieldData;
using logical::FieldSpec;
using logical::Operation;
using logical::PathSpec;
using logical::Request;
using logical::Response;

// The names Vault's userpass still accepts for its token_* fields.
const DeprecatedTokenFields kDeprecated = {"policies", "ttl", "max_ttl", "bound_cidrs"};

Status InvalidCredentials() { return InvalidArgument("invalid username or password"); }

struct User {
  std::string password_hash;
  TokenParams token;
};

Json UserToJson(const User& u) {
  Json j = TokenParamsToJson(u.token);
  j["password_hash"] = u.password_hash;
  return j;
}

class UserpassBackend final : public logical::RoutedBackend {
 public:
  UserpassBackend() {
    using Handler = Result<Response> (UserpassBackend::*)(Request&, FieldData&);
    auto bind = [this](Handler h) { return [this, h](Request& r, FieldData& f) { return (this->*h)(r, f); }; };
    std::vector<FieldSpec> user_fields = TokenFieldSpecs(kDeprecated);
    user_fields.push_back({.name = "username"});
    user_fields.push_back({.name = "password"});
    user_fields.push_back({.name = "password_hash"});
    std::vector<FieldSpec> policy_fields = {{.name = "username"},
                                            {.name = "token_policies", .type = logical::FieldType::kStringList},
                                            {.name = "policies", .type = logical::FieldType::kStringList}};
    SetRoutes({
        {.pattern = "users/", .ops = {{Operation::kList, bind(&UserpassBackend::ListUsers)}}},
        {.pattern = "users/{username}",
         .fields = user_fields,
         .ops = {{Operation::kRead, bind(&UserpassBackend::ReadUser)},
                 {Operation::kCreate, bind(&UserpassBackend::WriteUser)},
                 {Operation::kUpdate, bind(&UserpassBackend::WriteUser)},
                 {Operation::kDelete, bind(&UserpassBackend::DeleteUser)}},
         .exists = [this](Request& r, FieldData& f) { return UserExists(r, f); }},
        {.pattern = "users/{username}/password",
         .fields = {{.name = "username"}, {.name = "password"}},
         .ops = {{Operation::kUpdate, bind(&UserpassBackend::WritePassword)}}},
        {.pattern = "users/{username}/policies",
         .fields = policy_fields,
         .ops = {{Operation::kUpdate, bind(&UserpassBackend::WritePolicies)}}},
        {.pattern = "login/{username}",
         .fields = {{.name = "username"}, {.name = "password"}},
         .ops = {{Operation::kUpdate, bind(&UserpassBackend::Login)},
                 {Operation::kRenew, bind(&UserpassBackend::LoginRenew)}}},
    });
    SetSpecialPaths({.root = {}, .unauthenticated = {"login/*"}});
    // Every path hashes or writes: none belongs on an I/O thread.
    SetRunModes(logical::RunMode::kWaits, logical::RunMode::kWaits);
  }

 private:
  static Result<std::string> UsernameOf(FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, f.GetString("username"));
    if (name.empty()) return InvalidArgument("missing username");
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }

  Result<std::optional<User>> LoadUser(Storage* s, const std::string& name) {
    SB_ASSIGN_OR_RETURN(auto raw, s->Get("user/" + name));
    if (!raw) return std::optional<User>();
    Json j = Json::parse(*raw, nullptr, false);
    if (!j.is_object()) return Corruption("userpass entry malformed");
    User u;
    u.password_hash = j.value("password_hash", "");
    u.token = TokenParamsFromJson(j);
    return std::optional<User>(std::move(u));
  }

  std::mutex& UserLock(const std::string& name) { return locks_[std::hash<std::string>{}(name) % locks_.size()]; }

  Result<bool> UserExists(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    return u.has_value();
  }

  Result<Response> ListUsers(Request& req, FieldData&) {
    SB_ASSIGN_OR_RETURN(auto keys, req.storage->List("user/"));
    return Response::WithData(Json{{"keys", keys}});
  }

  Result<Response> ReadUser(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    if (!u) return Response::Empty();
    Json data = Json::object();
    PopulateTokenData(u->token, &data);
    return Response::WithData(std::move(data));
  }

  Result<Response> WriteUser(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    SB_ASSIGN_OR_RETURN(std::string password, f.GetString("password"));
    SB_ASSIGN_OR_RETURN(std::string given_hash, f.GetString("password_hash"));
    if (!given_hash.empty()) return InvalidArgument("password_hash is not supported: give the password");
    std::optional<std::string> hash;
    if (!password.empty()) {
      SB_ASSIGN_OR_RETURN(hash, HashPassword(password));  // outside the lock: it is slow
    }
    std::lock_guard l(UserLock(name));
    SB_ASSIGN_OR_RETURN(auto existing, LoadUser(req.storage, name));
    if (!existing && !hash) return InvalidArgument("must provide either password or password_hash");
    User u = existing.value_or(User{});
    if (hash) u.password_hash = *hash;
    Response resp;
    SB_RETURN_IF_ERROR(ParseTokenFields(f, kDeprecated, &u.token, &resp.warnings));
    SB_RETURN_IF_ERROR(req.storage->Put("user/" + name, UserToJson(u).dump()));
    return resp;
  }

  Result<Response> DeleteUser(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    std::lock_guard l(UserLock(name));
    SB_RETURN_IF_ERROR(req.storage->Delete("user/" + name));
    return Response::Empty();
  }

  Result<Response> WritePassword(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    SB_ASSIGN_OR_RETURN(std::string password, f.GetString("password"));
    if (password.empty()) return InvalidArgument("missing password");
    SB_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
    std::lock_guard l(UserLock(name));
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    if (!u) return InvalidArgument("username does not exist");
    u->password_hash = std::move(hash);
    SB_RETURN_IF_ERROR(req.storage->Put("user/" + name, UserToJson(*u).dump()));
    return Response::Empty();
  }

  Result<Response> WritePolicies(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    std::lock_guard l(UserLock(name));
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    if (!u) return InvalidArgument("username does not exist");
    Response resp;
    SB_RETURN_IF_ERROR(ParseTokenFields(f, {"policies"}, &u->token, &resp.warnings));
    SB_RETURN_IF_ERROR(req.storage->Put("user/" + name, UserToJson(*u).dump()));
    return resp;
  }

  Result<Response> Login(Request& req, FieldData& f) {
    SB_ASSIGN_OR_RETURN(std::string name, UsernameOf(f));
    SB_ASSIGN_OR_RETURN(std::string password, f.GetString("password"));
    if (password.empty()) return InvalidArgument("missing password");
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    // An unknown user pays for a verification too: the answer's time and
    // text are those of a wrong password.
    if (!u) {
      VerifyAgainstNothing(password);
      return InvalidCredentials();
    }
    if (!VerifyPassword(u->password_hash, password)) return InvalidCredentials();
    if (!u->token.bound_cidrs.empty() && !IpInCidrs(req.remote_addr, u->token.bound_cidrs))
      return PermissionDenied("login request originated from invalid CIDR");
    logical::Auth a;
    PopulateTokenAuth(u->token, &a);
    a.display_name = name;
    a.metadata = Json{{"username", name}};
    a.alias_name = name;
    Response resp;
    resp.auth = std::move(a);
    return resp;
  }

  // A renewal: the user must still exist, with the policies the token got.
  Result<Response> LoginRenew(Request& req, FieldData&) {
    const Json meta = req.data.is_object() ? req.data.value("metadata", Json::object()) : Json::object();
    const std::string name = meta.is_object() ? meta.value("username", "") : "";
    if (name.empty()) return Internal("failed to fetch username during renewal");
    SB_ASSIGN_OR_RETURN(auto u, LoadUser(req.storage, name));
    if (!u) return InvalidArgument("user \"" + name + "\" no longer exists, not renewing");
    return RenewalResponse(u->token);
  }

  std::array<std::mutex, 64> locks_;
};

}  // namespace

logical::BackendFactory Factory() {
  return [](const logical::BackendConfig&) -> Result<std::unique_ptr<logical::Backend>> {
    return std::unique_ptr<logical::Backend>(new UserpassBackend());
  };
}

}  // namespace sealbox::auth::userpass
