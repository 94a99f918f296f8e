#include "core/core_impl.h"

#include <algorithm>

#include "base/crypto.h"
#include "base/log.h"
#include "core/identity_backend.h"
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

}  // namespace

Result<std::unique_ptr<Core>> Core::Create(CoreOptions options) {
  if (!options.physical) return InvalidArgument("no storage");
  return std::unique_ptr<Core>(new CoreImpl(std::move(options)));
}

CoreImpl::CoreImpl(CoreOptions options) : options_(std::move(options)) {
  physical_ = options_.physical.get();
  if (options_.cache_size > 0) {
    cache_ = std::make_unique<CachingStorage>(physical_, options_.cache_size);
    // Under HA the cache holds only while this node is the one writer.
    cache_->SetEnabled(!options_.ha_lock);
    physical_ = cache_.get();
  }
  gate_ = std::make_unique<WriteGate>(physical_);
  physical_ = gate_.get();
  barrier_ = std::make_unique<Barrier>(physical_);
  token_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/token/");
  identity_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/identity/");
  identity_ = std::make_unique<IdentityStore>(identity_view_.get(), options_.clock);
  policy_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/policy/");
  audit_view_ = std::make_unique<PrefixView>(barrier_.get(), "core/audit-devices/");
  audit_.SetFileDeviceLimits(options_.audit_file_limits);
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
  quota_view_ = std::make_unique<PrefixView>(barrier_.get(), "sys/quotas/");
  quotas_ = std::make_unique<QuotaManager>(options_.clock);
  snapshot_auto_view_ = std::make_unique<PrefixView>(barrier_.get(), "core/snapshot-auto/");
  snapshot_schedules_ = std::make_unique<SnapshotScheduler>(
      snapshot_auto_view_.get(), options_.clock,
      [this](const std::atomic<bool>& cancel) { return TakeSnapshot(&cancel); });
  expiration_->SetDeletedHook([this](const std::string& lease_id) { LeaseGone("lease:" + lease_id); });
  root_generation_ = std::make_unique<RootGeneration>(this);
  barrier_rekey_ = std::make_unique<Rekey>(this, RekeyTarget::kBarrier);
  recovery_rekey_ = std::make_unique<Rekey>(this, RekeyTarget::kRecovery);
  tokens_->SetRevokeHook([this](const std::string& storage_id) {
    // A token's leases die with it (and its children's, as the tree is revoked).
    expiration_->RevokeByToken(storage_id);
    LeaseGone("token:" + storage_id);
    auto entry = router_.Get("cubbyhole/");
    if (!entry || !entry->view || storage_id.empty()) return;
    Status s = DeletePrefix(*entry->view, storage_id + "/");
    if (!s.ok()) log::Warn("core: cannot destroy a revoked token's cubbyhole: " + s.ToString());
  });
  metrics_collector_ = metrics::DefaultRegistry().AddCollector([this](metrics::SampleSink& s) { CollectGauges(s); });
}

CoreImpl::~CoreImpl() {
  metrics::DefaultRegistry().RemoveCollector(metrics_collector_);
  Shutdown();
}

// ---- Break-glass support ----

Result<int> CoreImpl::QuorumThreshold() {
  SB_ASSIGN_OR_RETURN(SealConfig cfg, LoadSealConfig());
  return cfg.type == "static" ? cfg.recovery_threshold : cfg.secret_threshold;
}

Status CoreImpl::CheckQuorumKey(const SecureBytes& key) {
  if (options_.static_seal) {
    Status s = VerifyRecoveryKey(key);
    return s.code() == StatusCode::kInvalidArgument ? InvalidArgument("invalid key") : s;
  }
  auto root = ReadRootKey(key);
  if (root.ok()) return Status::Ok();
  return root.status().code() == StatusCode::kInvalidArgument ? InvalidArgument("invalid key") : root.status();
}

Status CoreImpl::ReplaceUnsealKey(const SecureBytes& old_key, const SecureBytes& new_key, int shares,
                                  int threshold) {
  SB_ASSIGN_OR_RETURN(SecureBytes root_key, ReadRootKey(old_key));
  SB_ASSIGN_OR_RETURN(std::string sealed_root, Barrier::EncryptWith(0, new_key, kRootKeyPath, root_key.view()));
  const std::string config =
      Json{{"type", "shamir"}, {"secret_shares", shares}, {"secret_threshold", threshold}}.dump();
  return physical_->Batch({WriteOp::Put(kRootKeyPath, sealed_root), WriteOp::Put(kSealConfigPath, config)});
}

void CoreImpl::Shutdown() {
  std::unique_lock l(state_mu_);
  if (!sealed_.load()) SealLocked().IgnoreError();
}

bool CoreImpl::Initialized() {
  auto v = physical_->Get(kSealConfigPath);
  return v.ok() && v->has_value();
}

Result<SealConfig> CoreImpl::LoadSealConfig() {
  SB_ASSIGN_OR_RETURN(auto raw, physical_->Get(kSealConfigPath));
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
  SB_RETURN_IF_ERROR(physical_->Delete(Barrier::kKeyringPath));
  SB_RETURN_IF_ERROR(physical_->Delete(kRootKeyPath));

  SecureBytes unseal_key = crypto::RandomBytes(32);
  SecureBytes root_key = crypto::RandomBytes(32);
  SB_RETURN_IF_ERROR(barrier_->Initialize(root_key, options_.clock->NowNanos()));
  InitResult result;
  Status s = [&]() -> Status {
    SB_ASSIGN_OR_RETURN(std::string sealed_root, Barrier::EncryptWith(0, unseal_key, kRootKeyPath, root_key.view()));
    SB_RETURN_IF_ERROR(physical_->Put(kRootKeyPath, sealed_root));
    SB_RETURN_IF_ERROR(WriteClusterIdentity());
    SB_RETURN_IF_ERROR(PostUnsealForInit());
    SB_ASSIGN_OR_RETURN(result.root_token, CreateRootToken(""));
    SB_ASSIGN_OR_RETURN(result.shares, shamir::Split(unseal_key, req.secret_shares, req.secret_threshold));
    // Written last: its presence is what "initialized" means.
    return physical_->Put(kSealConfigPath, Json{{"type", "shamir"},
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
  // Never unseal on a store a snapshot restore left half replaced.
  SB_RETURN_IF_ERROR(physical_->FinishInterruptedReplace());
  SB_ASSIGN_OR_RETURN(auto raw, physical_->Get(kRootKeyPath));
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

Status CoreImpl::LoadClusterIdentity() {
  SB_ASSIGN_OR_RETURN(auto cluster, barrier_->Get(kClusterPath));
  if (cluster) {
    Json j = Json::parse(*cluster, nullptr, false);
    if (j.is_object()) {
      cluster_id_ = j.value("id", "");
      cluster_name_ = j.value("name", "");
    }
  }
  return Status::Ok();
}

Status CoreImpl::PostUnseal() {
  SB_RETURN_IF_ERROR(LoadClusterIdentity());
  if (options_.ha_lock) {
    EnterStandby();
    sealed_.store(false);
    NotifyStateChange();
    return Status::Ok();
  }
  SB_RETURN_IF_ERROR(Activate());
  sealed_.store(false);
  NotifyStateChange();
  return Status::Ok();
}

Status CoreImpl::PostUnsealForInit() {
  SB_RETURN_IF_ERROR(LoadClusterIdentity());
  SB_RETURN_IF_ERROR(Activate());
  standby_.store(false);
  sealed_.store(false);
  NotifyStateChange();
  return Status::Ok();
}

Status CoreImpl::Activate() {
  // The active node is the one writer: from here its cache holds (and
  // starts empty: other nodes wrote while this one was a standby).
  if (cache_ && options_.ha_lock) cache_->SetEnabled(true);
  gate_->SetOpen(true);
  // A standby's keyring may be stale: the former active may have rotated it
  // or restored a snapshot (and may have left that restore half-way).
  if (options_.ha_lock) {
    SB_RETURN_IF_ERROR(physical_->FinishInterruptedReplace());
    SB_RETURN_IF_ERROR(barrier_->Reload());
  }
  if (options_.ha_lock) SB_RETURN_IF_ERROR(EnsureClusterTls());
  SB_RETURN_IF_ERROR(tokens_->Setup());
  SB_RETURN_IF_ERROR(policies_->Setup());
  SB_RETURN_IF_ERROR(SetupMounts());
  SB_RETURN_IF_ERROR(audit_.Setup(audit_view_.get()));
  SB_RETURN_IF_ERROR(quotas_->Load(quota_view_.get()));
  // Before requests: the leases and tokens from before the seal count again.
  SB_RETURN_IF_ERROR(RecountLeaseQuotas());
  expiration_->Start();
  tokens_->StartBackgroundTidy(kTokenTidyIntervalSeconds);
  // Last: the scheduler's thread may snapshot as soon as it runs.
  return snapshot_schedules_->Start();
}

void CoreImpl::PreSeal() {
  // First: a scheduled snapshot in progress reads the store without the state lock.
  snapshot_schedules_->Stop();
  expiration_->Stop();
  audit_.Teardown();
  // First, so the tidy thread never runs against a half-torn-down core.
  tokens_->StopBackgroundTidy();
  for (auto& e : router_.All()) e->backend->Cleanup();
  router_.Clear();
  tokens_->Reset();
  policies_->Reset();
  quotas_->Reset();
  std::lock_guard l(counted_mu_);
  counted_.clear();  // recounted from storage at the next unseal
}

Status CoreImpl::SealLocked() {
  sealed_.store(true);
  // A ceremony in progress ends with the unsealed state it relied on.
  root_generation_->Cancel();
  barrier_rekey_->Cancel();
  recovery_rekey_->Cancel();
  StopHa();
  if (standby_.exchange(false)) {
    UnloadStandby();
  } else {
    PreSeal();
  }
  gate_->SetOpen(true);  // init and unseal write
  if (options_.ha_lock) options_.ha_lock->Release();
  ForgetClusterTls();
  barrier_->Seal();
  NotifyStateChange();
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
  if (options_.backends.Find("kv")) {
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
    entry->backend = std::make_unique<IdentityBackend>(identity_.get());
  } else {
    const logical::BackendFactory* f = options_.backends.Find(m.type);
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
      if (m.type == "cubbyhole" && !options_.backends.Find("cubbyhole")) continue;
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

// As Vault: what a mount granted ends with it. A secrets engine's leases are
// revoked through the engine (so a database user is dropped), an auth
// method's tokens with their children. Requests no longer reach the mount
// meanwhile; if a revocation fails, the mount stays and the error says why.
Status CoreImpl::RevokeGrants(const RouteEntry& entry) {
  const std::string route = entry.mount.RoutePath();
  if (entry.mount.auth) return tokens_->RevokeIssuedUnder(route).status();
  return expiration_->RevokePrefix(route, /*force=*/false);
}

Status CoreImpl::DisableMount(const std::string& route_path) {
  std::lock_guard l(mount_mu_);
  auto entry = router_.Get(route_path);
  if (!entry) return Status::Ok();
  router_.Taint(route_path, true);
  if (Status s = RevokeGrants(*entry); !s.ok()) {
    router_.Taint(route_path, false);
    return s;
  }
  router_.Unmount(route_path);
  Status s = PersistMountTable(entry->mount.auth);
  if (!s.ok()) {
    router_.Mount(entry).IgnoreError();
    return s;
  }
  entry->backend->Cleanup();
  return DeletePrefix(*barrier_, entry->mount.StoragePrefix());
}

// What a mount granted follows it to its new path: lease ids are re-prefixed
// (so they stay revocable, by id and by prefix), tokens name the new path.
Status CoreImpl::MoveGrants(bool auth, const std::string& from_route, const std::string& to_route) {
  if (auth) return tokens_->MoveIssuedUnder(from_route, to_route);
  auto moved = expiration_->MovePrefix(from_route, to_route);
  if (moved.ok()) return Status::Ok();
  // Put back what moved, so every lease keeps naming a mount that exists.
  (void)expiration_->MovePrefix(to_route, from_route);
  return moved.status();
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
  // Data lives under the uuid, so moving the route moves every key with it.
  SB_ASSIGN_OR_RETURN(auto moved, Instantiate(m));
  router_.Taint(from_route, true);
  if (Status s = MoveGrants(auth, from_route, to_route); !s.ok()) {
    router_.Taint(from_route, false);
    return s;
  }
  router_.Unmount(from_route);
  entry->backend->Cleanup();
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

// ---- Before a body is read (api's BodyLimit) ----

bool CoreImpl::IsUnauthenticated(const std::string& path) {
  if (sealed_.load()) return false;
  BoundRoute route = router_.Route(path);
  return route && logical::MatchesSpecial(route.entry->backend->special_paths().unauthenticated,
                                          route.relative_path);
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

void CoreImpl::OnSighup() { audit_.Reopen(); }

}  // namespace sealbox::core
