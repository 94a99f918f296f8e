#include "auth/token_store.h"

#include "base/crypto.h"
#include "storage/storage.h"

namespace sealbox::auth {

Json TokenEntry::ToJson() const {
  Json j = {{"hash", hash},
            {"accessor", accessor},
            {"parent_hash", parent_hash},
            {"policies", policies},
            {"path", path},
            {"display_name", display_name},
            {"meta", meta},
            {"creation_time", creation_time},
            {"creation_time_nanos", creation_time_nanos},
            {"creation_ttl", creation_ttl},
            {"explicit_max_ttl", explicit_max_ttl},
            {"period", period},
            {"expire_time_nanos", expire_time_nanos},
            {"issue_time_nanos", issue_time_nanos},
            {"last_renewal_nanos", last_renewal_nanos},
            {"num_uses", num_uses},
            {"renewable", renewable},
            {"orphan", orphan},
            {"no_default_policy", no_default_policy},
            {"type", type},
            {"entity_id", entity_id},
            {"role", role},
            {"bound_cidrs", bound_cidrs},
            {"internal", internal}};
  return j;
}

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
    e.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    e.internal = j.value("internal", Json(nullptr));
  } catch (const std::exception&) {
    return Corruption("token entry malformed");
  }
  return e;
}

Status TokenStore::Setup() {
  std::lock_guard l(mu_);
  SB_ASSIGN_OR_RETURN(auto stored, view_->Get("salt"));
  if (stored) {
    SB_ASSIGN_OR_RETURN(salt_, crypto::Base64Decode(*stored));
    return Status::Ok();
  }
  SecureBytes salt = crypto::RandomBytes(32);
  SB_RETURN_IF_ERROR(view_->Put("salt", crypto::Base64Encode(salt.view())));
  salt_ = std::move(salt);
  return Status::Ok();
}

void TokenStore::Reset() {
  std::lock_guard l(mu_);
  salt_.Wipe();
}

std::string TokenStore::HashToken(std::string_view token) const {
  return crypto::HexEncode(crypto::HmacSha256(salt_.view(), token));
}

Result<std::string> TokenStore::Create(TokenEntry& entry, const std::string& custom_id) {
  std::string token = custom_id.empty() ? "hvs." + crypto::RandomBase62(24) : custom_id;
  entry.hash = HashToken(token);
  if (entry.accessor.empty()) entry.accessor = crypto::RandomBase62(24);
  if (!custom_id.empty()) {
    SB_ASSIGN_OR_RETURN(auto existing, view_->Get("id/" + entry.hash));
    if (existing) return InvalidArgument("cannot create a token with a duplicate ID");
  }
  std::vector<WriteOp> ops;
  ops.push_back(WriteOp::Put("id/" + entry.hash, entry.ToJson().dump()));
  ops.push_back(WriteOp::Put("accessor/" + HashToken(entry.accessor), Json{{"token_hash", entry.hash}}.dump()));
  if (!entry.parent_hash.empty()) ops.push_back(WriteOp::Put("parent/" + entry.parent_hash + "/" + entry.hash, ""));
  SB_RETURN_IF_ERROR(view_->Batch(ops));
  return token;
}

Status TokenStore::Save(const TokenEntry& entry) {
  return view_->Put("id/" + entry.hash, entry.ToJson().dump());
}

Result<std::optional<TokenEntry>> TokenStore::LookupByHash(const std::string& hash) {
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("id/" + hash));
  if (!raw) return std::optional<TokenEntry>();
  Json j = Json::parse(*raw, nullptr, false);
  SB_ASSIGN_OR_RETURN(TokenEntry e, TokenEntry::FromJson(j));
  if (e.expire_time_nanos != 0 && e.expire_time_nanos <= clock_->NowNanos()) {
    // Expired: reject at once and clean up what we can.
    RevokeTree(e.hash).IgnoreError();
    return std::optional<TokenEntry>();
  }
  return std::optional<TokenEntry>(std::move(e));
}

Result<std::optional<TokenEntry>> TokenStore::Lookup(std::string_view token) {
  if (token.empty() || token.size() > 512) return std::optional<TokenEntry>();
  return LookupByHash(HashToken(token));
}

Result<std::optional<TokenEntry>> TokenStore::LookupByAccessor(std::string_view accessor) {
  if (accessor.empty() || accessor.size() > 512) return std::optional<TokenEntry>();
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("accessor/" + HashToken(accessor)));
  if (!raw) return std::optional<TokenEntry>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("token_hash")) return Corruption("accessor entry malformed");
  return LookupByHash(j["token_hash"].get<std::string>());
}

Status TokenStore::RevokeOne(const TokenEntry& e) {
  std::vector<WriteOp> ops;
  ops.push_back(WriteOp::Delete("id/" + e.hash));
  ops.push_back(WriteOp::Delete("accessor/" + HashToken(e.accessor)));
  if (!e.parent_hash.empty()) ops.push_back(WriteOp::Delete("parent/" + e.parent_hash + "/" + e.hash));
  return view_->Batch(ops);
}

Status TokenStore::RevokeTree(const std::string& hash) {
  // Iterative depth-first walk so a deep token tree cannot exhaust the stack.
  std::vector<std::string> stack{hash};
  std::vector<std::string> order;
  while (!stack.empty()) {
    std::string h = std::move(stack.back());
    stack.pop_back();
    order.push_back(h);
    SB_ASSIGN_OR_RETURN(auto children, view_->List("parent/" + h + "/"));
    for (auto& c : children) stack.push_back(c);
  }
  // Children first, so a crash half-way never leaves an orphaned live child.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get("id/" + *it));
    if (raw) {
      auto e = TokenEntry::FromJson(Json::parse(*raw, nullptr, false));
      if (e.ok()) SB_RETURN_IF_ERROR(RevokeOne(*e));
      else SB_RETURN_IF_ERROR(view_->Delete("id/" + *it));
    }
    SB_RETURN_IF_ERROR(DeletePrefix(*view_, "parent/" + *it + "/"));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> TokenStore::ListAccessors() {
  SB_ASSIGN_OR_RETURN(auto hashes, view_->List("accessor/"));
  std::vector<std::string> out;
  for (const auto& h : hashes) {
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get("accessor/" + h));
    if (!raw) continue;
    Json j = Json::parse(*raw, nullptr, false);
    if (!j.is_object()) continue;
    SB_ASSIGN_OR_RETURN(auto e, LookupByHash(j.value("token_hash", "")));
    if (e) out.push_back(e->accessor);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sealbox::auth
