#include "kms/token_keeper.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace sealbox::kms {
namespace {

constexpr int64_t kRetryMin = 1, kRetryMax = 30;  // seconds
constexpr int64_t kNoExpiryRecheck = 300;         // a token without TTL is looked up again this often
// A renewal that leaves no more than this (the token is at its max TTL)
// is followed by a new login while the old token still works.
constexpr int64_t kRenewFloor = 3;

Result<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return InvalidArgument(path + " is empty");
  return s;
}

}  // namespace

Result<AuthConfig> AuthConfigFromEnv(bool have_token) {
  AuthConfig a;
  if (std::string role_id = cli::Env("ROLE_ID"); !role_id.empty()) {
    a.method = AuthConfig::Method::kAppRole;
    a.role = role_id;
    a.mount = cli::Env("APPROLE_MOUNT").empty() ? "approle" : cli::Env("APPROLE_MOUNT");
    a.secret_id = cli::Env("SECRET_ID");
    if (std::string file = cli::Env("SECRET_ID_FILE"); a.secret_id.empty() && !file.empty()) {
      SB_ASSIGN_OR_RETURN(a.secret_id, ReadTrimmed(file));
    }
    return a;
  }
  if (std::string role = cli::Env("K8S_ROLE"); !role.empty()) {
    a.method = AuthConfig::Method::kKubernetes;
    a.role = role;
    a.mount = cli::Env("K8S_MOUNT").empty() ? "kubernetes" : cli::Env("K8S_MOUNT");
    a.jwt_file = cli::Env("K8S_TOKEN_FILE");
    if (a.jwt_file.empty()) a.jwt_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    return a;
  }
  if (!have_token)
    return InvalidArgument("no credentials: set VAULT_TOKEN, VAULT_ROLE_ID (and VAULT_SECRET_ID), or VAULT_K8S_ROLE");
  return a;
}

void TokenKeeper::Start() { thread_ = std::thread([this] { Loop(); }); }

void TokenKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool TokenKeeper::Wait(int64_t seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return stopping_; });
}

void TokenKeeper::Loop() {
  std::optional<Lease> current;
  int64_t retry = kRetryMin;
  while (true) {
    bool logged_in = false;
    auto lease = Refresh(current, &logged_in);
    int64_t wait = 0;
    if (lease.ok()) {
      if (logged_in) log::Info("kms-plugin: logged in to Sealbox (" + auth_.mount + ")");
      current = *lease;
      retry = kRetryMin;
      wait = lease->ttl > 0 ? std::max<int64_t>(1, lease->ttl / 2) : kNoExpiryRecheck;
    } else {
      log::Warn("kms-plugin: token upkeep failed, retrying in " + std::to_string(retry) +
                "s: " + lease.status().message());
      current.reset();
      wait = retry;
      retry = std::min(retry * 2, kRetryMax);
    }
    if (!Wait(wait)) return;
  }
}

// One round of upkeep: log in (login methods) or look the token up when
// there is no renewable lease, else renew; a renewal that is refused or no longer extends the token leads to
// a new login.
Result<TokenKeeper::Lease> TokenKeeper::Refresh(const std::optional<Lease>& current, bool* logged_in) {
  const bool can_login = auth_.method != AuthConfig::Method::kToken;
  if (!current || !current->renewable) {
    if (can_login) {
      *logged_in = true;
      return Login();
    }
    return LookupSelf();
  }
  auto renewed = Renew();
  if (renewed.ok() && renewed->ttl > kRenewFloor) return renewed;
  if (!can_login) return renewed.ok() ? LookupSelf() : renewed;
  *logged_in = true;
  return Login();
}

Result<TokenKeeper::Lease> TokenKeeper::Login() {
  Json body;
  if (auth_.method == AuthConfig::Method::kAppRole) {
    body = {{"role_id", auth_.role}};
    if (!auth_.secret_id.empty()) body["secret_id"] = auth_.secret_id;
  } else {
    SB_ASSIGN_OR_RETURN(std::string jwt, ReadTrimmed(auth_.jwt_file));
    body = {{"role", auth_.role}, {"jwt", jwt}};
  }
  SB_ASSIGN_OR_RETURN(cli::Reply r, session_->Call("POST", "auth/" + auth_.mount + "/login", body));
  if (r.status != 200) return ReplyError(r, "login");
  const Json& a = r.body.is_object() && r.body.contains("auth") ? r.body["auth"] : Json();
  if (!a.is_object() || !a.contains("client_token") || !a["client_token"].is_string())
    return Internal("the login reply has no auth.client_token");
  session_->SetToken(a["client_token"].get<std::string>());
  return Lease{a.value("lease_duration", int64_t{0}), a.value("renewable", false)};
}

Result<TokenKeeper::Lease> TokenKeeper::Renew() {
  SB_ASSIGN_OR_RETURN(cli::Reply r, session_->Call("POST", "auth/token/renew-self", Json::object()));
  if (r.status != 200) return ReplyError(r, "token renewal");
  const Json& a = r.body.is_object() && r.body.contains("auth") ? r.body["auth"] : Json();
  if (!a.is_object()) return Internal("the renewal reply has no auth");
  return Lease{a.value("lease_duration", int64_t{0}), a.value("renewable", false)};
}

// A given token: its TTL decides when to renew; a token that is not
// renewable is only looked up again (once it expires, calls fail loudly).
Result<TokenKeeper::Lease> TokenKeeper::LookupSelf() {
  SB_ASSIGN_OR_RETURN(cli::Reply r, session_->Call("GET", "auth/token/lookup-self"));
  if (r.status != 200) return ReplyError(r, "token lookup");
  const Json& d = r.body.is_object() && r.body.contains("data") ? r.body["data"] : Json();
  if (!d.is_object()) return Internal("the lookup reply has no data");
  return Lease{d.value("ttl", int64_t{0}), d.value("renewable", false)};
}

}  // namespace sealbox::kms
