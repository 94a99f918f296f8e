#include "core/core_impl.h"

#include <algorithm>

#include "base/crypto.h"
#include "base/log.h"
#include "core/system_backend.h"
#include "auth/token_backend.h"
#include "storage/shamir.h"

namespace sealbox::core {
namespace {

constexpr const char* kRootKeyPath = "core/root-key";
constexpr const char* kMountsPath = "core/mounts";
constexpr const char* kAuthPath = "core/auth";
// How often expired tokens are swept (they are already refused on use).
constexpr int64_t kTokenTidyIntervalSeconds = 60;

// Stub for identity/: exists so the mount table matches Vault's, answers 404.
class IdentityStub final : public logical::Backend {
 public:
  Result<logical::Response> HandleRequest(logical::Request&) override { return NotFound("unsupported path"); }
};

// Vault's core collects the errors of a non-login request in a
// go-multierror, so its clients read "1 error occurred:\n\t* <error>\n\n";
// a login's errors, and the error responses a backend builds itself, stay
// bare. These are the errors Vault raises as Go errors rather than as
// error responses.
Status AsVaultMultierror(Status s) {
  static const char* const kWrapped[] = {"permission denied",  "unsupported path", "unsupported operation",
                                         "missing accessor",   "invalid accessor", "invalid token",
                                         "no token found"};
  for (const char* m : kWrapped) {
    if (s.message() == m) return Status(s.code(), "1 error occurred:\n\t* " + s.message() + "\n\n");
  }
  return s;
}

}  // namespace

BackendRegistry& GlobalRegistry() {
  static BackendRegistry r;
  return r;
}

Result<std::unique_ptr<Core>> Core::Create(CoreOptions options) {
  if (!options.physical) return InvalidArgument("no storage");
  return std::unique_ptr<Core>(new CoreImpl(std::move(options)));
}

CoreImpl::CoreImpl(CoreOptions options) : options_(std::move(options)) {
  barrier_ = std::make_unique<Barrier>(options_.physical.get());
  token_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/token/");
  policy_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/policy/");
  audit_view_ = std::make_unique<PrefixView>(barrier_.get(), "core/audit-devices/");
  tokens_ = std::make_unique<auth::TokenStore>(token_view_.get(), options_.clock);
  policies_ = std::make_unique<auth::PolicyStore>(policy_view_.get());
  password_policy_view_ = std::make_unique<PrefixView>(barrier_.get(), "core/password_policy/");
  password_policies_ = std::make_unique<PasswordPolicyStore>(password_policy_view_.get());
  // A token's cubbyhole dies with it. Cubbyhole keys are "<storage id>/<path>"
  // inside the cubbyhole mount's view (the convention shared with engines/kv).
  expire_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/expire/");
  expiration_ = std::make_unique<ExpirationManager>(expire_view_.get(), options_.clock);
  expiration_->SetCallbacks(
      [this](const LeaseEntry& e) { return RouteLeaseOp(e, logical::Operation::kRevoke, 0); },
      [this](const LeaseEntry& e, int64_t ttl) { return RouteLeaseOp(e, logical::Operation::kRenew, ttl); });
  tokens_->SetRevokeHook([this](const std::string& storage_id) {
    // A token's leases die with it (and its children's, as the tree is revoked).
    expiration_->RevokeByToken(storage_id);
    auto entry = router_.Get("cubbyhole/");
    if (!entry || !entry->view || storage_id.empty()) return;
    Status s = DeletePrefix(*entry->view, storage_id + "/");
    if (!s.ok()) log::Warn("core: cannot destroy a revoked token's cubbyhole: " + s.ToString());
  });
}

CoreImpl::~CoreImpl() { Shutdown(); }

void CoreImpl::Shutdown() {
  std::unique_lock l(state_mu_);
  if (!sealed_.load()) SealLocked().IgnoreError();
}

bool CoreImpl::Initialized() {
  auto v = options_.physical->Get(kSealConfigPath);
  return v.ok() && v->has_value();
}

Result<SealConfig> CoreImpl::LoadSealConfig() {
  SB_ASSIGN_OR_RETURN(auto raw, options_.physical->Get(kSealConfigPath));
  if (!raw) return InvalidArgument("Vault is not initialized");
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object()) return Corruption("seal config malformed");
  SealConfig c;
  c.type = j.value("type", "shamir");
  c.secret_shares = j.value("secret_shares", 0);
  c.secret_threshold = j.value("secret_threshold", 0);
  c.recovery_shares = j.value("recovery_shares", 0);
  c.recovery_threshold = j.value("recovery_threshold", 0);
  return c;
}

Status ValidateShareConfig(const char* what, int shares, int threshold) {
  auto bad = [what](const std::string& why) {
    return InvalidArgument(std::string("invalid ") + what + " configuration: " + why);
  };
  if (shares < 1) return bad("shares must be at least one");
  if (threshold < 1) return bad("threshold must be at least one");
  if (shares > 1 && threshold == 1) return bad("threshold must be greater than one for multiple shares");
  if (shares > 255) return bad("shares must be less than 256");
  if (threshold > shares) return bad("threshold cannot be larger than shares");
  return Status::Ok();
}

Result<InitResult> CoreImpl::Initialize(const InitRequest& req) {
  std::unique_lock l(state_mu_);
  if (Initialized()) return InvalidArgument("Vault is already initialized");
  if (options_.static_seal) return InitializeStatic(req);
  SB_RETURN_IF_ERROR(ValidateShareConfig("seal", req.secret_shares, req.secret_threshold));

  // A crash during an earlier init can leave a keyring without a seal config:
  // nothing was ever handed out, so start over.
  SB_RETURN_IF_ERROR(options_.physical->Delete(Barrier::kKeyringPath));
  SB_RETURN_IF_ERROR(options_.physical->Delete(kRootKeyPath));

  SecureBytes unseal_key = crypto::RandomBytes(32);
  SecureBytes root_key = crypto::RandomBytes(32);
  SB_RETURN_IF_ERROR(barrier_->Initialize(root_key, options_.clock->NowNanos()));
  InitResult result;
  Status s = [&]() -> Status {
    SB_ASSIGN_OR_RETURN(std::string sealed_root, Barrier::EncryptWith(0, unseal_key, kRootKeyPath, root_key.view()));
    SB_RETURN_IF_ERROR(options_.physical->Put(kRootKeyPath, sealed_root));
    SB_RETURN_IF_ERROR(WriteClusterIdentity());
    SB_RETURN_IF_ERROR(PostUnseal());
    SB_ASSIGN_OR_RETURN(result.root_token, CreateRootToken(""));
    SB_ASSIGN_OR_RETURN(result.shares, shamir::Split(unseal_key, req.secret_shares, req.secret_threshold));
    // Written last: its presence is what "initialized" means.
    return options_.physical->Put(kSealConfigPath, Json{{"type", "shamir"},
                                                        {"secret_shares", req.secret_shares},
                                                        {"secret_threshold", req.secret_threshold}}.dump());
  }();
  // Init leaves a Shamir-sealed vault sealed.
  SealLocked().IgnoreError();
  if (!s.ok()) return s;
  log::Info("core: vault initialized with " + std::to_string(req.secret_shares) + " shares and threshold " +
            std::to_string(req.secret_threshold));
  return result;
}

Status CoreImpl::WriteClusterIdentity() {
  std::string cluster_id = crypto::Uuid();
  return barrier_->Put(kClusterPath,
                       Json{{"id", cluster_id}, {"name", "vault-cluster-" + cluster_id.substr(0, 8)}}.dump());
}

Result<std::string> CoreImpl::CreateRootToken(const std::string& custom_id) {
  auth::TokenEntry e;
  e.policies = {"root"};
  e.path = "auth/token/root";
  e.display_name = "root";
  e.orphan = true;
  e.renewable = false;
  int64_t now = options_.clock->NowNanos();
  e.creation_time = now / 1'000'000'000;
  e.creation_time_nanos = now;
  return tokens_->Create(e, custom_id);
}

SealStatus CoreImpl::GetSealStatus() {
  SealStatus st;
  st.storage_type = options_.storage_type;
  auto cfg = LoadSealConfig();
  st.initialized = cfg.ok();
  st.seal_type = SealType();
  st.recovery_seal = options_.static_seal.has_value();
  if (cfg.ok()) {
    st.seal_type = cfg->type;
    st.recovery_seal = cfg->type == "static";
    st.t = st.recovery_seal ? cfg->recovery_threshold : cfg->secret_threshold;
    st.n = st.recovery_seal ? cfg->recovery_shares : cfg->secret_shares;
  }
  st.sealed = sealed_.load();
  {
    std::lock_guard l(unseal_mu_);
    st.progress = static_cast<int>(unseal_parts_.size());
    st.nonce = unseal_parts_.empty() ? "" : unseal_nonce_;
  }
  if (!st.sealed) {
    std::shared_lock l(state_mu_);
    st.cluster_name = cluster_name_;
    st.cluster_id = cluster_id_;
  }
  return st;
}

Result<SecureBytes> CoreImpl::ReadRootKey(const SecureBytes& unseal_key) {
  SB_ASSIGN_OR_RETURN(auto raw, options_.physical->Get(kRootKeyPath));
  if (!raw || raw->size() < 5) return Corruption("root key entry missing");
  if (unseal_key.size() != 32) return InvalidArgument("Unseal failed, invalid key");
  auto key = crypto::AeadOpen(unseal_key, std::string_view(*raw).substr(5), kRootKeyPath);
  if (!key.ok()) return InvalidArgument("Unseal failed, invalid key");
  return key;
}

Result<SealStatus> CoreImpl::SubmitUnsealKey(const SecureBytes& share) {
  {
    std::unique_lock l(state_mu_);
    SB_ASSIGN_OR_RETURN(SealConfig cfg, LoadSealConfig());
    if (!sealed_.load()) {
      l.unlock();
      return GetSealStatus();
    }
    const bool recovery = cfg.type == "static";
    if (recovery && !options_.static_seal)
      return InvalidArgument("this vault uses a static seal: configure the seal \"static\" block to unseal it");
    if (!recovery && options_.static_seal)
      return InvalidArgument("this vault uses a Shamir seal: remove the seal \"static\" block to unseal it");
    const int threshold = recovery ? cfg.recovery_threshold : cfg.secret_threshold;
    std::vector<SecureBytes> parts;
    {
      std::lock_guard ul(unseal_mu_);
      for (const auto& p : unseal_parts_) {
        if (p.Equals(share)) {
          // A share already given in this attempt does not count twice.
          l.unlock();
          goto status;
        }
      }
      if (unseal_parts_.empty()) unseal_nonce_ = crypto::Uuid();
      unseal_parts_.push_back(share);
      if (static_cast<int>(unseal_parts_.size()) < threshold) {
        l.unlock();
        goto status;
      }
      parts = std::move(unseal_parts_);
      unseal_parts_.clear();
      unseal_nonce_.clear();
    }
    auto key = shamir::Combine(parts);
    if (!key.ok()) return InvalidArgument("failed to compute combined key: " + key.status().message());
    if (recovery) {
      // Recovery shares prove an operator is present; the seal key opens the root key.
      SB_RETURN_IF_ERROR(VerifyRecoveryKey(*key));
      SB_RETURN_IF_ERROR(AutoUnsealLocked());
      l.unlock();
      goto status;
    }
    SB_ASSIGN_OR_RETURN(SecureBytes root_key, ReadRootKey(*key));
    Status s = barrier_->Unseal(root_key);
    if (!s.ok()) {
      if (s.code() == StatusCode::kPermissionDenied) return InvalidArgument("Unseal failed, invalid key");
      return s;
    }
    s = PostUnseal();
    if (!s.ok()) {
      log::Error("core: post-unseal setup failed: " + s.message());
      SealLocked().IgnoreError();
      return s;
    }
    log::Info("core: vault is unsealed");
  }
status:
  return GetSealStatus();
}

Result<SealStatus> CoreImpl::ResetUnseal() {
  if (!Initialized()) return InvalidArgument("Vault is not initialized");
  if (!sealed_.load()) return InvalidArgument("vault is unsealed");
  {
    std::lock_guard l(unseal_mu_);
    unseal_parts_.clear();
    unseal_nonce_.clear();
  }
  return GetSealStatus();
}

Status CoreImpl::PostUnseal() {
  SB_ASSIGN_OR_RETURN(auto cluster, barrier_->Get(kClusterPath));
  if (cluster) {
    Json j = Json::parse(*cluster, nullptr, false);
    if (j.is_object()) {
      cluster_id_ = j.value("id", "");
      cluster_name_ = j.value("name", "");
    }
  }
  SB_RETURN_IF_ERROR(tokens_->Setup());
  SB_RETURN_IF_ERROR(policies_->Setup());
  SB_RETURN_IF_ERROR(SetupMounts());
  SB_RETURN_IF_ERROR(audit_.Setup(audit_view_.get()));
  expiration_->Start();
  tokens_->StartBackgroundTidy(kTokenTidyIntervalSeconds);
  sealed_.store(false);
  return Status::Ok();
}

void CoreImpl::PreSeal() {
  expiration_->Stop();
  audit_.Teardown();
  // First, so the tidy thread never runs against a half-torn-down core.
  tokens_->StopBackgroundTidy();
  for (auto& e : router_.All()) e->backend->Cleanup();
  router_.Clear();
  tokens_->Reset();
  policies_->Reset();
}

Status CoreImpl::SealLocked() {
  sealed_.store(true);
  PreSeal();
  barrier_->Seal();
  std::lock_guard l(unseal_mu_);
  unseal_parts_.clear();
  unseal_nonce_.clear();
  return Status::Ok();
}

Status CoreImpl::Seal() {
  std::unique_lock l(state_mu_);
  if (sealed_.load()) return Status::Ok();
  log::Info("core: sealing vault");
  return SealLocked();
}

void CoreImpl::RequestSeal() { seal_requested_.store(true); }

Result<DevCredentials> CoreImpl::DevSetup(const std::string& root_token_id) {
  SB_ASSIGN_OR_RETURN(InitResult init, Initialize(InitRequest{1, 1}));
  SB_ASSIGN_OR_RETURN(SealStatus st, SubmitUnsealKey(init.shares[0]));
  if (st.sealed) return Internal("dev unseal failed");
  DevCredentials creds;
  creds.unseal_key_b64 = crypto::Base64Encode(init.shares[0].view());
  creds.root_token = init.root_token;
  std::shared_lock l(state_mu_);
  if (!root_token_id.empty()) {
    SB_ASSIGN_OR_RETURN(auto old, tokens_->Lookup(init.root_token));
    if (old) SB_RETURN_IF_ERROR(tokens_->RevokeTree(old->hash));
    SB_ASSIGN_OR_RETURN(creds.root_token, CreateRootToken(root_token_id));
  }
  if (GlobalRegistry().Find("kv")) {
    MountEntry m;
    m.path = "secret/";
    m.type = "kv";
    m.description = "key/value secret storage";
    m.options = Json{{"version", "2"}};
    SB_RETURN_IF_ERROR(EnableMount(std::move(m)));
  }
  return creds;
}

// ---- Mount table ----

Result<std::shared_ptr<RouteEntry>> CoreImpl::Instantiate(const MountEntry& m) {
  auto entry = std::make_shared<RouteEntry>();
  entry->mount = m;
  entry->view = std::make_unique<PrefixView>(barrier_.get(), m.StoragePrefix());
  entry->mount_view = std::make_unique<EntryMountView>(&entry->mount, options_.default_lease_ttl,
                                                       options_.max_lease_ttl, options_.max_entry_size);
  logical::BackendConfig cfg;
  cfg.storage = entry->view.get();
  cfg.type = m.type;
  cfg.mount_path = m.RoutePath();
  cfg.uuid = m.uuid;
  cfg.accessor = m.accessor;
  cfg.options = m.options;
  cfg.clock = options_.clock;
  cfg.mount = entry->mount_view.get();
  cfg.generate_password = [this](const std::string& policy) { return password_policies_->Generate(policy); };
  if (m.type == "system") {
    entry->backend = std::make_unique<SystemBackend>(this);
  } else if (m.type == "token") {
    auto tb = std::make_unique<auth::TokenBackend>(tokens_.get(), policies_.get(), options_.clock,
                                                   entry->mount_view.get());
    tb->SetRenewCheck([this](const auth::TokenEntry& te) { return CheckAuthRenewal(te); });
    entry->backend = std::move(tb);
  } else if (m.type == "identity") {
    entry->backend = std::make_unique<IdentityStub>();
  } else {
    const logical::BackendFactory* f = GlobalRegistry().Find(m.type);
    if (!f) return InvalidArgument("plugin not found in the catalog");
    SB_ASSIGN_OR_RETURN(entry->backend, (*f)(cfg));
  }
  return entry;
}

Status CoreImpl::PersistMountTable(bool auth_table) {
  Json arr = Json::array();
  for (const auto& e : router_.All())
    if (e->mount.auth == auth_table) arr.push_back(e->mount.ToJson());
  return barrier_->Put(auth_table ? kAuthPath : kMountsPath, Json{{"entries", arr}}.dump());
}

Status CoreImpl::SetupMounts() {
  router_.Clear();
  for (bool auth_table : {false, true}) {
    SB_ASSIGN_OR_RETURN(auto raw, barrier_->Get(auth_table ? kAuthPath : kMountsPath));
    std::vector<MountEntry> entries;
    if (raw) {
      Json j = Json::parse(*raw, nullptr, false);
      if (!j.is_object() || !j.contains("entries")) return Corruption("mount table malformed");
      for (const auto& e : j["entries"]) {
        SB_ASSIGN_OR_RETURN(MountEntry m, MountEntry::FromJson(e));
        entries.push_back(std::move(m));
      }
    } else {
      auto builtin = [&](std::string path, std::string type, std::string desc, bool local) {
        MountEntry m;
        m.path = std::move(path);
        m.type = std::move(type);
        m.description = std::move(desc);
        m.uuid = crypto::Uuid();
        m.accessor = NewAccessor(m.type, auth_table);
        m.local = local;
        m.auth = auth_table;
        // As Vault's defaults: sys is seal-wrapped and passes Accept through
        // (metrics, pprof); identity passes Authorization (its OIDC provider).
        if (m.type == "system") {
          m.seal_wrap = true;
          m.config.passthrough_request_headers = {"Accept"};
        } else if (m.type == "identity") {
          m.config.passthrough_request_headers = {"Authorization"};
        }
        entries.push_back(std::move(m));
      };
      if (auth_table) {
        builtin("token/", "token", "token based credentials", false);
      } else {
        builtin("cubbyhole/", "cubbyhole", "per-token private secret storage", true);
        builtin("identity/", "identity", "identity store", false);
        builtin("sys/", "system", "system endpoints used for control, policy and debugging", false);
      }
    }
    for (const auto& m : entries) {
      if (m.type == "cubbyhole" && !GlobalRegistry().Find("cubbyhole")) continue;
      auto inst = Instantiate(m);
      if (!inst.ok()) {
        log::Error("core: cannot mount " + m.RoutePath() + ": " + inst.status().message());
        continue;
      }
      SB_RETURN_IF_ERROR(router_.Mount(std::move(inst).value()));
    }
    if (!raw) SB_RETURN_IF_ERROR(PersistMountTable(auth_table));
  }
  return Status::Ok();
}

Status CoreImpl::EnableMount(MountEntry m) {
  std::lock_guard l(mount_mu_);
  if (m.uuid.empty()) m.uuid = crypto::Uuid();
  if (m.accessor.empty()) m.accessor = NewAccessor(m.type, m.auth);
  std::string conflict = router_.Conflict(m.RoutePath());
  if (!conflict.empty()) {
    if (m.auth && conflict.rfind("auth/", 0) == 0) conflict = conflict.substr(5);
    return InvalidArgument("path is already in use at " + conflict);
  }
  SB_ASSIGN_OR_RETURN(auto entry, Instantiate(m));
  SB_RETURN_IF_ERROR(router_.Mount(entry));
  Status s = PersistMountTable(m.auth);
  if (!s.ok()) router_.Unmount(m.RoutePath());
  return s;
}

Status CoreImpl::DisableMount(const std::string& route_path) {
  std::lock_guard l(mount_mu_);
  auto entry = router_.Unmount(route_path);
  if (!entry) return Status::Ok();
  Status s = PersistMountTable(entry->mount.auth);
  if (!s.ok()) {
    router_.Mount(entry).IgnoreError();
    return s;
  }
  entry->backend->Cleanup();
  return DeletePrefix(*barrier_, entry->mount.StoragePrefix());
}

Status CoreImpl::Remount(const std::string& from_route, const std::string& to_route) {
  std::lock_guard l(mount_mu_);
  auto entry = router_.Get(from_route);
  if (!entry) return InvalidArgument("no mount at " + from_route);
  std::string conflict = router_.Conflict(to_route);
  if (!conflict.empty()) return InvalidArgument("path already in use at \"" + conflict + "\"");
  MountEntry m = entry->mount;
  bool auth = to_route.rfind("auth/", 0) == 0;
  if (auth != m.auth) return InvalidArgument("cannot move a mount between secrets engines and auth methods");
  m.path = auth ? to_route.substr(5) : to_route;
  router_.Unmount(from_route);
  entry->backend->Cleanup();
  // Data lives under the uuid, so moving the route moves every key with it.
  SB_ASSIGN_OR_RETURN(auto moved, Instantiate(m));
  SB_RETURN_IF_ERROR(router_.Mount(moved));
  return PersistMountTable(m.auth);
}

Status CoreImpl::UpdateMount(const std::string& route_path, const std::function<Status(MountEntry&)>& edit) {
  std::lock_guard l(mount_mu_);
  auto entry = router_.Get(route_path);
  if (!entry) return InvalidArgument("cannot fetch sysview for path \"" + route_path + "\"");
  MountEntry copy = entry->mount;
  SB_RETURN_IF_ERROR(edit(copy));
  // Entries are immutable once routed (requests read them without a lock):
  // build a new one and swap it in; in-flight requests keep the old one.
  SB_ASSIGN_OR_RETURN(auto fresh, Instantiate(copy));
  SB_RETURN_IF_ERROR(router_.Replace(route_path, fresh));
  entry->backend->Cleanup();
  return PersistMountTable(copy.auth);
}

// ---- Request pipeline ----

bool CoreImpl::IsLocalRead(const std::string& path) {
  if (sealed_.load()) return true;  // answered 503 at once
  if (audit_.AnyBlocking()) return false;  // an audit device may block the thread
  auto route = router_.Match(path);
  if (!route) return true;
  const std::string& t = route->mount.type;
  return t == "kv" || t == "cubbyhole" || t == "token" || t == "identity" ||
         (t == "system" && path.rfind("sys/leases", 0) != 0 && path.rfind("sys/revoke", 0) != 0);
}

bool CoreImpl::WaitsOnNetwork(const std::string& path) {
  if (sealed_.load()) return false;
  auto route = router_.Match(path);
  return route && (route->mount.type == "database" || route->mount.type == "kubernetes");
}

bool CoreImpl::IsUnauthenticated(const std::string& path) {
  if (sealed_.load()) return false;
  auto route = router_.Match(path);
  if (!route) return false;
  const std::string rel = path.substr(std::min(path.size(), route->mount.RoutePath().size()));
  return logical::MatchesSpecial(route->backend->special_paths().unauthenticated, rel);
}

bool CoreImpl::TokenResolves(std::string_view token) {
  std::shared_lock l(state_mu_);
  if (sealed_.load() || token.empty()) return false;
  auto entry = tokens_->Lookup(token);
  return entry.ok() && entry->has_value();
}

Result<std::shared_ptr<const auth::Acl>> CoreImpl::AclForToken(const auth::TokenEntry& entry) {
  const auth::IdentityContext identity = entry.Identity();
  return policies_->AclFor(entry.policies, &identity);
}

Task<Result<logical::Response>> CoreImpl::HandleRequestAsync(logical::Request& req, Resumer* resumer) {
  Result<logical::Response> result = co_await RunRequest(req, resumer);
  req.path = req.original_path.empty() ? req.path : req.original_path;
  if (seal_requested_.exchange(false)) Seal().IgnoreError();
  co_return result;
}

// The pipeline: token, ACL, audit request entry, backend, leases, audit
// response entry. It suspends only on the audit writes (given a resumer).
Task<Result<logical::Response>> CoreImpl::RunRequest(logical::Request& req, Resumer* resumer) {
  std::shared_lock l(state_mu_);
  if (sealed_.load()) co_return ::sealbox::Sealed();
  req.original_path = req.path;

  auto route = router_.Match(req.path);
  std::string rel;
  if (route) rel = req.path.substr(std::min(req.path.size(), route->mount.RoutePath().size()));
  bool unauth = route && logical::MatchesSpecial(route->backend->special_paths().unauthenticated, rel);
  req.unauthenticated = unauth;
  audit::MountInfo audit_mount;
  if (route) {
    audit_mount.non_hmac_request_keys = route->mount.config.audit_non_hmac_request_keys;
    audit_mount.non_hmac_response_keys = route->mount.config.audit_non_hmac_response_keys;
  }
  // A request refused before it reaches the backend is audited too: a
  // request entry and a response entry carrying the error.
  auto refuse = [&](Status s) -> Task<Result<logical::Response>> {
    req.data_elided = !req.token;  // refused before authentication
    std::string err = s.code() == StatusCode::kPermissionDenied ? "permission denied" : s.message();
    Status a = co_await audit_.Log(audit::EntryKind::kRefusal, req, audit_mount, nullptr, err, resumer);
    if (!a.ok()) co_return Internal();
    co_return AsVaultMultierror(std::move(s));
  };

  std::optional<auth::TokenEntry> token;
  if (!req.client_token.empty()) {
    SB_CO_ASSIGN_OR_RETURN(token, tokens_->Lookup(req.client_token));
  }
  if (!unauth && !token) co_return co_await refuse(InvalidToken());
  if (token) {
    logical::TokenInfo ti;
    ti.accessor = token->accessor;
    ti.policies = token->policies;
    ti.display_name = token->display_name;
    ti.metadata = token->meta;
    ti.entity_id = token->entity_id;
    ti.token_type = token->type;
    ti.issue_time_nanos = token->issue_time_nanos;
    // Batch tokens have no storage identity, hence no cubbyhole.
    ti.storage_id = token->IsBatch() ? "" : token->hash;
    ti.orphan = token->orphan;
    ti.is_root = token->IsRoot();
    if (token->expire_time_nanos) ti.ttl = (token->expire_time_nanos - options_.clock->NowNanos()) / 1'000'000'000;
    req.token = std::move(ti);
  }
  if (!route) {
    if (!req.token->is_root) co_return co_await refuse(PermissionDenied());
    co_return co_await refuse(NotFound("no handler for route \"" + req.path + "\". route entry not found."));
  }

  req.path = rel;
  req.mount_point = route->mount.RoutePath();
  req.mount_type = route->mount.type;
  req.mount_accessor = route->mount.accessor;
  req.mount_class = route->mount.auth ? "auth" : "secret";
  req.storage = route->view.get();

  if (req.op == logical::Operation::kUpdate) {
    SB_CO_ASSIGN_OR_RETURN(auto exists, route->backend->ExistenceCheck(req));
    if (exists && !*exists) req.op = logical::Operation::kCreate;
  }
  bool revoke_after = false;
  if (!unauth) {
    SB_CO_ASSIGN_OR_RETURN(auto acl, AclForToken(*token));
    bool sudo = logical::MatchesSpecial(route->backend->special_paths().root, rel);
    auto decision = acl->AllowOperation(req.original_path, req.op, req.data, sudo);
    if (!decision.allowed) co_return co_await refuse(PermissionDenied());
    if (token->num_uses > 0) {
      // Count the use before the request runs (under the token's lock, so
      // concurrent requests cannot overspend it). On the last use the entry
      // is marked pending: this request still sees it, no other does, and
      // it is revoked when this request ends.
      SB_CO_ASSIGN_OR_RETURN(auto used, tokens_->UseToken(token->hash));
      if (!used) co_return co_await refuse(PermissionDenied());
      revoke_after = used->num_uses == auth::kTokenRevocationPending;
    }
  }
  // Fail closed: a request no audit device could record never runs.
  if (!(co_await audit_.Log(audit::EntryKind::kRequest, req, audit_mount, nullptr, "", resumer)).ok())
    co_return Internal();

  auto resp = route->backend->HandleRequest(req);
  if (revoke_after) {
    Status s = tokens_->RevokeTree(token->hash);
    if (!s.ok()) log::Error("core: cannot revoke a used-up token: " + s.ToString());
  }
  if (resp.ok() && resp->auth && route->mount.type != "token") {
    if (route->mount.auth && unauth) {
      Status s = CompleteLogin(req, *route, *resp);
      if (!s.ok()) resp = s;  // a failed login never carries a token
    } else {
      log::Error("core: backend returned an auth block on a non-login path");
      resp = Internal();
    }
  }
  if (resp.ok() && resp->secret && route->mount.auth) {
    log::Error("core: auth backend returned a secret");
    resp = Internal();
  }
  // A dynamic secret (one with internal data to revoke it by) gets a lease.
  if (resp.ok() && resp->secret && !resp->secret->internal_data.is_null()) {
    auto id = expiration_->Register(req.original_path, route->mount.RoutePath(), req.token ? req.token->storage_id : "",
                                    *resp->secret);
    if (!id.ok()) {
      // Never hand out a credential nobody will revoke.
      LeaseEntry tmp;
      tmp.path = req.original_path;
      tmp.mount = route->mount.RoutePath();
      tmp.internal = resp->secret->internal_data;
      RouteLeaseOp(tmp, logical::Operation::kRevoke, 0).IgnoreError();
      log::Error("core: cannot register a lease: " + id.status().message());
      resp = Internal();
    } else {
      resp->secret->lease_id = *id;
    }
  }
  if (!resp.ok() && !unauth) resp = AsVaultMultierror(resp.status());
  std::string err;
  if (!resp.ok()) {
    const Status& st = resp.status();
    bool internal = st.code() == StatusCode::kInternal || st.code() == StatusCode::kCorruption ||
                    st.code() == StatusCode::kIOError;
    err = internal ? "internal error" : st.message();
  }
  // The response is withheld unless some device recorded it.
  const logical::Response* logged = resp.ok() ? &*resp : nullptr;
  if (!(co_await audit_.Log(audit::EntryKind::kResponse, req, audit_mount, logged, err, resumer)).ok())
    co_return Internal();
  co_return resp;
}

void CoreImpl::OnSighup() { audit_.Reopen(); }

Status CoreImpl::RouteLeaseOp(const LeaseEntry& e, logical::Operation op, int64_t ttl) {
  auto route = router_.Get(e.mount);
  if (!route) return InvalidArgument("the lease's mount no longer exists");
  logical::Request r;
  r.id = "lease-" + std::string(logical::OperationName(op));
  r.op = op;
  r.original_path = e.path;
  r.path = e.path.substr(std::min(e.path.size(), e.mount.size()));
  r.mount_point = route->mount.RoutePath();
  r.mount_type = route->mount.type;
  r.mount_accessor = route->mount.accessor;
  r.mount_class = "secret";
  r.storage = route->view.get();
  r.data = e.internal.is_object() ? e.internal : Json::object();
  if (op == logical::Operation::kRenew) r.data["ttl"] = ttl;
  auto resp = route->backend->HandleRequest(r);
  return resp.ok() ? Status::Ok() : resp.status();
}

Status CoreImpl::CheckAuthRenewal(const auth::TokenEntry& te) {
  // Only tokens an auth method issued at login; token-store tokens have no method to ask.
  if (te.path.rfind("auth/", 0) != 0 || te.path.rfind("auth/token/", 0) == 0) return Status::Ok();
  auto route = router_.Match(te.path);
  if (!route) return InvalidArgument("the auth method that issued this token no longer exists, not renewing");
  logical::Request r;
  r.id = "auth-renew";
  r.op = logical::Operation::kRenew;
  r.original_path = te.path;
  r.path = te.path.substr(std::min(te.path.size(), route->mount.RoutePath().size()));
  r.mount_point = route->mount.RoutePath();
  r.mount_type = route->mount.type;
  r.mount_accessor = route->mount.accessor;
  r.mount_class = "auth";
  r.storage = route->view.get();
  r.data = {{"metadata", te.meta.is_object() ? te.meta : Json::object()}, {"policies", te.policies}};
  auto resp = route->backend->HandleRequest(r);
  // A method without a renew handler has nothing to re-check.
  if (!resp.ok() && resp.status().code() == StatusCode::kUnsupportedOperation) return Status::Ok();
  return resp.ok() ? Status::Ok() : resp.status();
}

}  // namespace sealbox::core
