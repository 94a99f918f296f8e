#include "auth/token_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <unordered_set>

#include "base/crypto.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "storage/storage.h"

namespace sealbox::auth {
namespace {

constexpr const char* kBatchAad = "sealbox-batch-token-v1";
// Longest token we hash or decrypt: service tokens are short; batch tokens
// carry their policies and metadata.
constexpr size_t kMaxServiceTokenSize = 512;
constexpr size_t kMaxBatchTokenSize = 16 * 1024;

std::string ParentKey(const std::string& parent, const std::string& child) {
  return "parent/" + parent + "/" + child;
}

}  // namespace

// ---- TokenEntry ----

// Written as text, not built as a tree and dumped: a login stores one entry,
// and the tree and its serialisation were about 5% of a login's CPU. Keys in
// sorted order, as nlohmann writes objects.
std::string TokenEntry::ToText() const {
  const TokenEntry& e = *this;
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  w.PlainKey("accessor").String(e.accessor);
  if (e.alias) {
    w.PlainKey("alias").BeginObject();
    w.PlainKey("metadata").BeginObject();
    for (const auto& [k, v] : e.alias->metadata) w.Key(k).String(v);
    w.EndObject();
    w.PlainKey("mount_accessor").String(e.alias->mount_accessor);
    w.PlainKey("name").String(e.alias->name);
    w.EndObject();
  }
  w.PlainKey("bound_cidrs").StringList(e.bound_cidrs);
  w.PlainKey("creation_time").Int(e.creation_time);
  w.PlainKey("creation_time_nanos").Int(e.creation_time_nanos);
  w.PlainKey("creation_ttl").Int(e.creation_ttl);
  w.PlainKey("display_name").String(e.display_name);
  w.PlainKey("entity_id").String(e.entity_id);
  w.PlainKey("expire_time_nanos").Int(e.expire_time_nanos);
  w.PlainKey("explicit_max_ttl").Int(e.explicit_max_ttl);
  w.PlainKey("hash").String(e.hash);
  w.PlainKey("internal").Value(e.internal);
  w.PlainKey("issue_time_nanos").Int(e.issue_time_nanos);
  w.PlainKey("last_renewal_nanos").Int(e.last_renewal_nanos);
  w.PlainKey("lease_ttl").Int(e.lease_ttl);
  if (!e.login_role.empty()) w.PlainKey("login_role").String(e.login_role);
  w.PlainKey("meta").Value(e.meta);
  w.PlainKey("no_default_policy").Bool(e.no_default_policy);
  w.PlainKey("num_uses").Int(e.num_uses);
  w.PlainKey("orphan").Bool(e.orphan);
  w.PlainKey("parent_hash").String(e.parent_hash);
  w.PlainKey("path").String(e.path);
  w.PlainKey("period").Int(e.period);
  w.PlainKey("policies").StringList(e.policies);
  if (e.quota_exempt) w.PlainKey("quota_exempt").Bool(true);
  w.PlainKey("renewable").Bool(e.renewable);
  w.PlainKey("role").String(e.role);
  w.PlainKey("type").String(e.type);
  w.EndObject();
  return out;
}

bool TokenEntry::IsRoot() const { return std::find(policies.begin(), policies.end(), "root") != policies.end(); }

Result<TokenEntry> TokenEntry::FromJson(const Json& j) {
  if (!j.is_object()) return Corruption("token entry malformed");
  TokenEntry e;
  try {
    e.hash = j.value("hash", "");
    e.accessor = j.value("accessor", "");
    e.parent_hash = j.value("parent_hash", "");
    e.policies = j.value("policies", std::vector<std::string>{});
    e.path = j.value("path", "");
    e.display_name = j.value("display_name", "");
    e.meta = j.value("meta", Json(nullptr));
    e.creation_time = j.value("creation_time", int64_t{0});
    e.creation_time_nanos = j.value("creation_time_nanos", int64_t{0});
    e.creation_ttl = j.value("creation_ttl", int64_t{0});
    e.lease_ttl = j.value("lease_ttl", int64_t{0});
    e.explicit_max_ttl = j.value("explicit_max_ttl", int64_t{0});
    e.period = j.value("period", int64_t{0});
    e.expire_time_nanos = j.value("expire_time_nanos", int64_t{0});
    e.issue_time_nanos = j.value("issue_time_nanos", int64_t{0});
    e.last_renewal_nanos = j.value("last_renewal_nanos", int64_t{0});
    e.num_uses = j.value("num_uses", 0);
    e.renewable = j.value("renewable", false);
    e.orphan = j.value("orphan", true);
    e.no_default_policy = j.value("no_default_policy", false);
    e.type = j.value("type", "service");
    e.entity_id = j.value("entity_id", "");
    e.role = j.value("role", "");
    e.login_role = j.value("login_role", "");
    e.quota_exempt = j.value("quota_exempt", false);
    e.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    e.internal = j.value("internal", Json(nullptr));
    if (auto it = j.find("alias"); it != j.end() && !it->is_null()) {
      if (!it->is_object()) return Corruption("token entry malformed");
      IdentityAlias a;
      a.mount_accessor = it->value("mount_accessor", "");
      a.name = it->value("name", "");
      a.metadata = it->value("metadata", std::map<std::string, std::string>{});
      e.alias = std::move(a);
    }
  } catch (const std::exception&) {
    return Corruption("token entry malformed");
  }
  return e;
}

// ---- TokenRole ----

Json TokenRole::ToJson() const {
  Json j = {{"name", name},
            {"allowed_policies", allowed_policies},
            {"disallowed_policies", disallowed_policies},
            {"allowed_policies_glob", allowed_policies_glob},
            {"disallowed_policies_glob", disallowed_policies_glob},
            {"allowed_entity_aliases", allowed_entity_aliases},
            {"has_allowed_entity_aliases", has_allowed_entity_aliases},
            {"orphan", orphan},
            {"renewable", renewable},
            {"path_suffix", path_suffix},
            {"token_period", token_period},
            {"token_explicit_max_ttl", token_explicit_max_ttl},
            {"period", period},
            {"explicit_max_ttl", explicit_max_ttl},
            {"token_type", token_type},
            {"token_no_default_policy", token_no_default_policy},
            {"token_num_uses", token_num_uses},
            {"token_bound_cidrs", token_bound_cidrs}};
  return j;
}

Result<TokenRole> TokenRole::FromJson(const Json& j) {
  if (!j.is_object()) return Corruption("token role malformed");
  TokenRole r;
  try {
    using V = std::vector<std::string>;
    r.name = j.value("name", "");
    r.allowed_policies = j.value("allowed_policies", V{});
    r.disallowed_policies = j.value("disallowed_policies", V{});
    r.allowed_policies_glob = j.value("allowed_policies_glob", V{});
    r.disallowed_policies_glob = j.value("disallowed_policies_glob", V{});
    r.allowed_entity_aliases = j.value("allowed_entity_aliases", V{});
    r.has_allowed_entity_aliases = j.value("has_allowed_entity_aliases", false);
    r.orphan = j.value("orphan", false);
    r.renewable = j.value("renewable", true);
    r.path_suffix = j.value("path_suffix", "");
    r.token_period = j.value("token_period", int64_t{0});
    r.token_explicit_max_ttl = j.value("token_explicit_max_ttl", int64_t{0});
    r.period = j.value("period", int64_t{0});
    r.explicit_max_ttl = j.value("explicit_max_ttl", int64_t{0});
    r.token_type = j.value("token_type", "default-service");
    r.token_no_default_policy = j.value("token_no_default_policy", false);
    r.token_num_uses = j.value("token_num_uses", 0);
    r.token_bound_cidrs = j.value("token_bound_cidrs", V{});
  } catch (const std::exception&) {
    return Corruption("token role malformed");
  }
  return r;
}

// ---- Setup ----

TokenStore::~TokenStore() { StopBackgroundTidy(); }

Status TokenStore::Setup() {
  auto load_or_create = [&](const char* key, SecureBytes* out) -> Status {
    SB_ASSIGN_OR_RETURN(auto stored, view_->Get(key));
    if (stored) {
      SB_ASSIGN_OR_RETURN(*out, crypto::Base64Decode(*stored));
      if (out->size() != 32) return Corruption(std::string("token store ") + key + " malformed");
      return Status::Ok();
    }
    SecureBytes fresh = crypto::RandomBytes(32);
    SB_RETURN_IF_ERROR(view_->Put(key, crypto::Base64Encode(fresh.view())));
    *out = std::move(fresh);
    return Status::Ok();
  };
  SB_RETURN_IF_ERROR(load_or_create("salt", &salt_));
  salt_key_ = std::make_unique<crypto::HmacSha256Key>(salt_.view());
  return load_or_create("batch-key", &batch_key_);
}

void TokenStore::Reset() {
  StopBackgroundTidy();
  ClearCache();
  salt_.Wipe();
  salt_key_.reset();
  batch_key_.Wipe();
}

std::string TokenStore::HashToken(std::string_view token) const {
  if (!salt_key_) return crypto::HexEncode(crypto::HmacSha256({}, token));  // sealed: matches nothing stored
  return crypto::HexEncode(salt_key_->Sign(token));
}

bool TokenStore::IsBatchToken(std::string_view token) { return token.rfind(kBatchTokenPrefix, 0) == 0; }

std::mutex& TokenStore::StripeFor(const std::string& hash) {
  return stripes_[std::hash<std::string>{}(hash) % stripes_.size()];
}

// ---- Create ----

Result<std::string> TokenStore::Create(TokenEntry& entry, const std::string& custom_id) {
  if (salt_.empty()) return ::sealbox::Sealed();
  std::string token;
  if (custom_id.empty() && entry.accessor.empty()) {
    // One draw for both: 48 independent uniform characters, the first 24 the
    // token's and the rest the accessor's (one RAND_bytes call, not two).
    std::string r = crypto::RandomBase62(48);
    token = kServiceTokenPrefix + r.substr(0, 24);
    entry.accessor = r.substr(24);
    std::fill(r.begin(), r.end(), '\0');
  } else {
    token = custom_id.empty() ? kServiceTokenPrefix + crypto::RandomBase62(24) : custom_id;
    if (entry.accessor.empty()) entry.accessor = crypto::RandomBase62(24);
  }
  entry.type = "service";
  entry.hash = HashToken(token);
  entry.orphan = entry.parent_hash.empty();
  if (!custom_id.empty()) {
    SB_ASSIGN_OR_RETURN(auto existing, view_->Get("id/" + entry.hash));
    if (existing) return InvalidArgument("cannot create a token with a duplicate ID");
  }
  std::vector<WriteOp> ops;
  ops.reserve(3);
  ops.push_back(WriteOp::Put("id/" + entry.hash, entry.ToText()));
  std::string accessor_entry;
  JsonWriter accessor_text(accessor_entry);
  accessor_text.BeginObject();
  accessor_text.PlainKey("token_hash").String(entry.hash);  // hex
  accessor_text.EndObject();
  ops.push_back(WriteOp::Put("accessor/" + HashToken(entry.accessor), std::move(accessor_entry)));
  if (entry.parent_hash.empty()) {
    SB_RETURN_IF_ERROR(view_->Batch(ops));
    return token;
  }
  // Hold the parent's stripe: a revocation of the parent deletes its entry
  // under the same lock and then re-lists its children, so this child is
  // either refused here or found there.
  std::lock_guard l(StripeFor(entry.parent_hash));
  SB_ASSIGN_OR_RETURN(auto parent, ReadEntry(entry.parent_hash));
  if (!parent || (parent->expire_time_nanos != 0 && parent->expire_time_nanos <= clock_->NowNanos()))
    return InvalidArgument("parent token not found");
  ops.push_back(WriteOp::Put(ParentKey(entry.parent_hash, entry.hash), ""));
  SB_RETURN_IF_ERROR(view_->Batch(ops));
  return token;
}

Result<std::string> TokenStore::CreateBatch(TokenEntry& entry) {
  if (batch_key_.empty()) return ::sealbox::Sealed();
  entry.type = "batch";
  entry.hash.clear();
  entry.accessor.clear();
  entry.orphan = entry.parent_hash.empty();
  // Short keys keep the token small; only what a lookup needs is sealed.
  Json j = {{"p", entry.policies},     {"ph", entry.parent_hash},     {"pa", entry.path},
            {"m", entry.meta},         {"dn", entry.display_name},    {"ct", entry.creation_time_nanos},
            {"ttl", entry.creation_ttl}, {"ex", entry.expire_time_nanos}, {"it", entry.issue_time_nanos},
            {"r", entry.role},         {"e", entry.entity_id},        {"nd", entry.no_default_policy}};
  if (entry.alias) j["al"] = Json::array({entry.alias->mount_accessor, entry.alias->name, entry.alias->metadata});
  SB_ASSIGN_OR_RETURN(std::string sealed, crypto::AeadSeal(batch_key_, j.dump(), kBatchAad));
  return std::string(kBatchTokenPrefix) + crypto::Base64UrlEncode(sealed);
}

// ---- Lookup ----

Result<std::optional<TokenEntry>> TokenStore::ReadEntry(const std::string& hash) {
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("id/" + hash));
  if (!raw) return std::optional<TokenEntry>();
  CacheSlot& slot = (*cache_)[std::hash<std::string>{}(hash) % kCacheSlots];
  std::shared_ptr<const TokenEntry> cached;
  {
    std::lock_guard l(slot.mu);
    if (slot.entry && slot.raw == *raw) cached = slot.entry;
  }
  if (cached) return std::optional<TokenEntry>(*cached);
  Json j = Json::parse(*raw, nullptr, false);
  SB_ASSIGN_OR_RETURN(TokenEntry e, TokenEntry::FromJson(j));
  // Defence in depth: the entry must be the one its key names.
  if (!crypto::ConstantTimeEquals(e.hash, hash)) return Corruption("token entry does not match its key");
  auto parsed = std::make_shared<const TokenEntry>(e);
  {
    std::lock_guard l(slot.mu);
    slot.raw = std::move(*raw);
    slot.entry = std::move(parsed);
  }
  return std::optional<TokenEntry>(std::move(e));
}

void TokenStore::ClearCache() {
  for (auto& slot : *cache_) {
    std::lock_guard l(slot.mu);
    std::fill(slot.raw.begin(), slot.raw.end(), '\0');
    slot.raw.clear();
    slot.entry.reset();
  }
}

Result<std::optional<TokenEntry>> TokenStore::LookupByHash(const std::string& hash, bool include_pending) {
  if (hash.empty()) return std::optional<TokenEntry>();
  SB_ASSIGN_OR_RETURN(auto e, ReadEntry(hash));
  if (!e) return e;
  if (e->expire_time_nanos != 0 && e->expire_time_nanos <= clock_->NowNanos()) {
    // Expired: reject at once and clean up what we can.
    RevokeTree(e->hash).IgnoreError();
    return std::optional<TokenEntry>();
  }
  if (e->num_uses < 0 && !include_pending) return std::optional<TokenEntry>();
  return e;
}

Result<std::optional<TokenEntry>> TokenStore::LookupBatch(std::string_view token) {
  if (batch_key_.empty()) return ::sealbox::Sealed();
  auto sealed = crypto::Base64UrlDecode(token.substr(std::char_traits<char>::length(kBatchTokenPrefix)));
  if (!sealed.ok()) return std::optional<TokenEntry>();
  // The GCM tag check is the authentication: a forged or altered token fails here.
  auto plain = crypto::AeadOpen(batch_key_, sealed->view(), kBatchAad);
  if (!plain.ok()) return std::optional<TokenEntry>();
  Json j = Json::parse(plain->view(), nullptr, false);
  if (!j.is_object()) return std::optional<TokenEntry>();
  TokenEntry e;
  try {
    e.type = "batch";
    e.policies = j.value("p", std::vector<std::string>{});
    e.parent_hash = j.value("ph", "");
    e.path = j.value("pa", "");
    e.meta = j.value("m", Json(nullptr));
    e.display_name = j.value("dn", "");
    e.creation_time_nanos = j.value("ct", int64_t{0});
    e.creation_time = e.creation_time_nanos / 1'000'000'000;
    e.creation_ttl = j.value("ttl", int64_t{0});
    e.expire_time_nanos = j.value("ex", int64_t{0});
    e.issue_time_nanos = j.value("it", int64_t{0});
    e.role = j.value("r", "");
    e.entity_id = j.value("e", "");
    e.no_default_policy = j.value("nd", false);
    if (auto it = j.find("al"); it != j.end() && it->is_array() && it->size() == 3) {
      e.alias = IdentityAlias{(*it)[0].get<std::string>(), (*it)[1].get<std::string>(),
                              (*it)[2].get<std::map<std::string, std::string>>()};
    }
  } catch (const std::exception&) {
    return std::optional<TokenEntry>();
  }
  e.orphan = e.parent_hash.empty();
  e.renewable = false;
  if (e.expire_time_nanos != 0 && e.expire_time_nanos <= clock_->NowNanos()) return std::optional<TokenEntry>();
  // A non-orphan batch token lives only as long as its parent.
  if (!e.parent_hash.empty()) {
    SB_ASSIGN_OR_RETURN(auto parent, LookupByHash(e.parent_hash, /*include_pending=*/true));
    if (!parent) return std::optional<TokenEntry>();
  }
  return std::optional<TokenEntry>(std::move(e));
}

Result<std::optional<TokenEntry>> TokenStore::Lookup(std::string_view token, bool include_pending) {
  if (token.empty()) return std::optional<TokenEntry>();
  if (IsBatchToken(token)) {
    if (token.size() > kMaxBatchTokenSize) return std::optional<TokenEntry>();
    return LookupBatch(token);
  }
  if (token.size() > kMaxServiceTokenSize) return std::optional<TokenEntry>();
  if (salt_.empty()) return ::sealbox::Sealed();
  return LookupByHash(HashToken(token), include_pending);
}

Result<std::optional<TokenEntry>> TokenStore::LookupByAccessor(std::string_view accessor, bool include_pending) {
  if (accessor.empty() || accessor.size() > kMaxServiceTokenSize) return std::optional<TokenEntry>();
  if (salt_.empty()) return ::sealbox::Sealed();
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("accessor/" + HashToken(accessor)));
  if (!raw) return std::optional<TokenEntry>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("token_hash") || !j["token_hash"].is_string())
    return Corruption("accessor entry malformed");
  SB_ASSIGN_OR_RETURN(auto e, LookupByHash(j["token_hash"].get<std::string>(), include_pending));
  if (e && !crypto::ConstantTimeEquals(e->accessor, accessor)) return std::optional<TokenEntry>();
  return e;
}

// ---- Updates ----

Result<std::optional<TokenEntry>> TokenStore::Update(const std::string& hash,
                                                     const std::function<Status(TokenEntry&)>& mutate) {
  std::lock_guard l(StripeFor(hash));
  SB_ASSIGN_OR_RETURN(auto e, ReadEntry(hash));
  if (!e) return e;
  SB_RETURN_IF_ERROR(mutate(*e));
  SB_RETURN_IF_ERROR(view_->Put("id/" + hash, e->ToText()));
  return e;
}

Result<std::optional<TokenEntry>> TokenStore::UseToken(const std::string& hash) {
  std::lock_guard l(StripeFor(hash));
  SB_ASSIGN_OR_RETURN(auto e, ReadEntry(hash));
  if (!e || e->num_uses < 0) return std::optional<TokenEntry>();  // used up by a concurrent request
  if (e->num_uses == 0) return e;
  e->num_uses = e->num_uses == 1 ? kTokenRevocationPending : e->num_uses - 1;
  SB_RETURN_IF_ERROR(view_->Put("id/" + hash, e->ToText()));
  return e;
}

// ---- Revocation ----

Status TokenStore::RevokeOne(const std::string& hash) {
  bool existed = false;
  {
    std::lock_guard l(StripeFor(hash));
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get("id/" + hash));
    if (raw) {
      existed = true;
      std::vector<WriteOp> ops;
      ops.push_back(WriteOp::Delete("id/" + hash));
      auto e = TokenEntry::FromJson(Json::parse(*raw, nullptr, false));
      if (e.ok()) {
        if (!e->accessor.empty()) ops.push_back(WriteOp::Delete("accessor/" + HashToken(e->accessor)));
        if (!e->parent_hash.empty()) ops.push_back(WriteOp::Delete(ParentKey(e->parent_hash, hash)));
      }
      SB_RETURN_IF_ERROR(view_->Batch(ops));
    }
  }
  if (existed && revoke_hook_) revoke_hook_(hash);
  return Status::Ok();
}

Status TokenStore::RevokeTree(const std::string& root) {
  if (root.empty()) return Status::Ok();
  // Iterative post-order walk (children first, so a crash half-way never
  // leaves a live child under a dead parent), safe against deep trees and
  // corrupt cycles. A node is deleted once it has no children left, then its
  // children are listed again: Create holds the parent's lock while checking
  // that the parent exists, so no child can appear after that.
  struct Frame {
    std::string hash;
    std::string parent;  // the walk parent, whose index entry names this node
  };
  std::vector<Frame> stack{{root, ""}};
  std::unordered_set<std::string> on_stack{root};
  std::unordered_set<std::string> deleted;
  while (!stack.empty()) {
    const std::string h = stack.back().hash;
    SB_ASSIGN_OR_RETURN(auto children, view_->List("parent/" + h + "/"));
    bool pushed = false;
    for (auto& c : children) {
      if (c.empty() || c.back() == '/' || deleted.count(c) || on_stack.count(c)) {
        // Stale index entry or a cycle in corrupt data: drop the entry.
        SB_RETURN_IF_ERROR(view_->Delete(ParentKey(h, c)));
        continue;
      }
      on_stack.insert(c);
      stack.push_back({c, h});
      pushed = true;
    }
    if (pushed) continue;
    if (!deleted.count(h)) {
      SB_RETURN_IF_ERROR(RevokeOne(h));
      deleted.insert(h);
      continue;  // list once more: see the comment above
    }
    Frame done = std::move(stack.back());
    stack.pop_back();
    on_stack.erase(done.hash);
    if (!done.parent.empty()) SB_RETURN_IF_ERROR(view_->Delete(ParentKey(done.parent, done.hash)));
  }
  return Status::Ok();
}

Status TokenStore::RevokeOrphan(const std::string& hash) {
  // Revoke first: once the entry is gone no new child can be created under it.
  SB_RETURN_IF_ERROR(RevokeOne(hash));
  SB_ASSIGN_OR_RETURN(auto children, view_->List("parent/" + hash + "/"));
  for (const auto& c : children) {
    if (c.empty() || c.back() == '/') continue;
    SB_ASSIGN_OR_RETURN(auto updated, Update(c, [](TokenEntry& e) {
                          e.parent_hash.clear();
                          e.orphan = true;
                          return Status::Ok();
                        }));
    (void)updated;
  }
  return DeletePrefix(*view_, "parent/" + hash + "/");
}

Result<std::vector<std::string>> TokenStore::ListAccessors() {
  SB_ASSIGN_OR_RETURN(auto hashes, view_->List("accessor/"));
  std::vector<std::string> out;
  for (const auto& h : hashes) {
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get("accessor/" + h));
    if (!raw) continue;
    Json j = Json::parse(*raw, nullptr, false);
    if (!j.is_object() || !j.contains("token_hash") || !j["token_hash"].is_string()) continue;
    SB_ASSIGN_OR_RETURN(auto e, LookupByHash(j["token_hash"].get<std::string>(), /*include_pending=*/true));
    if (e) out.push_back(e->accessor);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status TokenStore::ForEachService(const std::function<void(const TokenEntry&)>& visit) {
  SB_ASSIGN_OR_RETURN(auto ids, view_->List("id/"));
  const int64_t now = clock_->NowNanos();
  for (const auto& h : ids) {
    if (h.empty() || h.back() == '/') continue;
    auto e = ReadEntry(h);
    if (!e.ok() || !*e) continue;
    if ((*e)->expire_time_nanos != 0 && (*e)->expire_time_nanos <= now) continue;
    visit(**e);
  }
  return Status::Ok();
}

// ---- Roles ----

Result<std::optional<TokenRole>> TokenStore::GetRole(const std::string& name) {
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("roles/" + name));
  if (!raw) return std::optional<TokenRole>();
  SB_ASSIGN_OR_RETURN(TokenRole r, TokenRole::FromJson(Json::parse(*raw, nullptr, false)));
  return std::optional<TokenRole>(std::move(r));
}

Status TokenStore::PutRole(const TokenRole& role) { return view_->Put("roles/" + role.name, role.ToJson().dump()); }

Status TokenStore::DeleteRole(const std::string& name) { return view_->Delete("roles/" + name); }

Result<std::vector<std::string>> TokenStore::ListRoles() {
  SB_ASSIGN_OR_RETURN(auto names, view_->List("roles/"));
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) { return n.empty() || n.back() == '/'; }),
              names.end());
  return names;
}

// ---- By issuing mount ----

Result<size_t> TokenStore::RevokeIssuedUnder(const std::string& path_prefix) {
  SB_ASSIGN_OR_RETURN(auto ids, view_->List("id/"));
  size_t revoked = 0;
  for (const auto& h : ids) {
    if (h.empty() || h.back() == '/') continue;
    SB_ASSIGN_OR_RETURN(auto e, ReadEntry(h));
    if (!e || e->path.rfind(path_prefix, 0) != 0) continue;
    SB_RETURN_IF_ERROR(RevokeTree(h));
    ++revoked;
  }
  return revoked;
}

Status TokenStore::MoveIssuedUnder(const std::string& from_prefix, const std::string& to_prefix) {
  SB_ASSIGN_OR_RETURN(auto ids, view_->List("id/"));
  for (const auto& h : ids) {
    if (h.empty() || h.back() == '/') continue;
    SB_ASSIGN_OR_RETURN(auto current, ReadEntry(h));
    if (!current || current->path.rfind(from_prefix, 0) != 0) continue;
    auto moved = Update(h, [&](TokenEntry& e) {
      if (e.path.rfind(from_prefix, 0) == 0) e.path = to_prefix + e.path.substr(from_prefix.size());
      return Status::Ok();
    });
    if (!moved.ok()) return moved.status();
  }
  return Status::Ok();
}

// ---- Tidy ----

Result<TidyStats> TokenStore::Tidy() {
  TidyStats st;
  const int64_t now = clock_->NowNanos();
  SB_ASSIGN_OR_RETURN(auto ids, view_->List("id/"));
  for (const auto& h : ids) {
    if (h.empty() || h.back() == '/') continue;
    auto e = ReadEntry(h);
    if (!e.ok() || !*e) continue;
    const TokenEntry& te = **e;
    if (te.expire_time_nanos != 0 && te.expire_time_nanos <= now) {
      SB_RETURN_IF_ERROR(RevokeTree(h));
      ++st.expired_revoked;
    }
  }
  SB_ASSIGN_OR_RETURN(auto accessors, view_->List("accessor/"));
  for (const auto& a : accessors) {
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get("accessor/" + a));
    if (!raw) continue;
    Json j = Json::parse(*raw, nullptr, false);
    std::string target = j.is_object() && j.contains("token_hash") && j["token_hash"].is_string()
                             ? j["token_hash"].get<std::string>()
                             : "";
    SB_ASSIGN_OR_RETURN(auto exists, target.empty() ? Result<std::optional<std::string>>(std::nullopt)
                                                    : view_->Get("id/" + target));
    if (!exists) {
      SB_RETURN_IF_ERROR(view_->Delete("accessor/" + a));
      ++st.dangling_accessors;
    }
  }
  SB_ASSIGN_OR_RETURN(auto parents, view_->List("parent/"));
  for (const auto& p : parents) {
    if (p.empty() || p.back() != '/') continue;
    std::string parent = p.substr(0, p.size() - 1);
    SB_ASSIGN_OR_RETURN(auto parent_entry, view_->Get("id/" + parent));
    SB_ASSIGN_OR_RETURN(auto children, view_->List("parent/" + p));
    for (const auto& c : children) {
      if (c.empty() || c.back() == '/') continue;
      SB_ASSIGN_OR_RETURN(auto child, view_->Get("id/" + c));
      if (child && parent_entry) continue;
      if (child) {
        // The parent vanished without taking the child along (a crash
        // mid-revocation): the child becomes an orphan, as Vault's tidy does.
        SB_ASSIGN_OR_RETURN(auto updated, Update(c, [](TokenEntry& e) {
                              e.parent_hash.clear();
                              e.orphan = true;
                              return Status::Ok();
                            }));
        (void)updated;
      }
      SB_RETURN_IF_ERROR(view_->Delete(ParentKey(parent, c)));
      ++st.dangling_parent_entries;
    }
  }
  return st;
}

void TokenStore::StartBackgroundTidy(int64_t interval_seconds) {
  std::lock_guard l(tidy_mu_);
  if (tidy_thread_.joinable() || interval_seconds <= 0) return;
  tidy_stop_ = false;
  tidy_thread_ = std::thread([this, interval_seconds] {
    std::unique_lock l(tidy_mu_);
    while (!tidy_cv_.wait_for(l, std::chrono::seconds(interval_seconds), [this] { return tidy_stop_; })) {
      l.unlock();
      auto st = Tidy();
      if (!st.ok()) {
        log::Warn("token store: tidy failed: " + st.status().ToString());
      } else if (st->expired_revoked > 0) {
        log::Debug("token store: revoked " + std::to_string(st->expired_revoked) + " expired tokens");
      }
      l.lock();
    }
  });
}

void TokenStore::StopBackgroundTidy() {
  std::thread t;
  {
    std::lock_guard l(tidy_mu_);
    tidy_stop_ = true;
    t = std::move(tidy_thread_);
  }
  tidy_cv_.notify_all();
  if (t.joinable()) t.join();
}

}  // namespace sealbox::auth
