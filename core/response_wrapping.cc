// Response wrapping, as Vault's: a response is replaced by the wrap info of
// a new single-use token, and waits in that token's cubbyhole as the
// envelope Vault would have sent ("response"), beside its creation info
// ("wrapinfo"). Unwrapping spends the token's one use (so two concurrent
// unwraps cannot both succeed) and revokes it, which destroys its cubbyhole.
#include "auth/policy.h"
#include "base/clock.h"
#include "base/log.h"
#include "core/core_impl.h"
#include "logical/response_json.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
constexpr const char* kInvalidWrappingToken = "wrapping token is not valid or does not exist";

bool IsWrappingToken(const auth::TokenEntry& e) {
  return e.policies.size() == 1 && e.policies[0] == auth::kResponseWrappingPolicy;
}

}  // namespace

Result<Storage*> CoreImpl::CubbyholeView() {
  auto entry = router_.Get("cubbyhole/");
  if (!entry || !entry->view) return Unsupported("response wrapping needs the cubbyhole");
  return entry->view.get();
}

Result<logical::WrapInfo> CoreImpl::StoreWrapped(const Json& envelope, const std::string& creation_path,
                                                 int64_t ttl) {
  SB_ASSIGN_OR_RETURN(Storage * cubbyhole, CubbyholeView());
  const int64_t now = options_.clock->NowNanos();
  auth::TokenEntry te;
  te.policies = {auth::kResponseWrappingPolicy};
  te.path = creation_path;
  te.creation_time_nanos = now;
  te.creation_time = now / kNanos;
  te.creation_ttl = ttl;
  te.lease_ttl = ttl;
  te.explicit_max_ttl = ttl;
  te.expire_time_nanos = now + ttl * kNanos;
  te.issue_time_nanos = now;
  te.num_uses = 1;
  SB_ASSIGN_OR_RETURN(std::string token, tokens_->Create(te));

  logical::WrapInfo info;
  info.token = std::move(token);
  info.accessor = te.accessor;
  info.ttl = ttl;
  info.creation_time = FormatRfc3339Nano(now);
  info.creation_path = creation_path;
  const Json wrapinfo = {{"creation_path", info.creation_path},
                         {"creation_time", info.creation_time},
                         {"creation_ttl", ttl}};
  std::vector<WriteOp> ops;
  ops.push_back(WriteOp::Put(te.hash + "/response", Json{{"response", envelope.dump()}}.dump()));
  ops.push_back(WriteOp::Put(te.hash + "/wrapinfo", wrapinfo.dump()));
  if (Status s = cubbyhole->Batch(ops); !s.ok()) {
    tokens_->RevokeTree(te.hash).IgnoreError();  // a token with nothing to unwrap helps nobody
    return s;
  }
  return info;
}

Status CoreImpl::WrapResponse(const logical::Request& req, logical::Response& resp) {
  auto info = StoreWrapped(logical::StoredEnvelope(resp), req.original_path, req.wrap_ttl);
  if (!info.ok()) {
    // The wrapped token or lease would reach nobody: take it back.
    if (resp.auth && !resp.auth->client_token.empty()) {
      auto issued = tokens_->Lookup(resp.auth->client_token);
      if (issued.ok() && *issued) tokens_->RevokeTree((*issued)->hash).IgnoreError();
    }
    if (resp.secret && !resp.secret->lease_id.empty()) expiration_->Revoke(resp.secret->lease_id).IgnoreError();
    log::Error("core: cannot wrap a response: " + info.status().ToString());
    return info.status();
  }
  if (resp.auth) {
    info->wrapped_accessor = resp.auth->accessor;
  } else if (req.mount_type == "approle" && resp.data && resp.data->is_object()) {
    // As Vault: a wrapped AppRole secret-id shows its accessor, so whoever
    // wrapped it can look it up or destroy it without unwrapping
    // (Terraform's with_wrapped_accessor).
    auto it = resp.data->find("secret_id_accessor");
    if (it != resp.data->end() && it->is_string()) info->wrapped_accessor = it->get<std::string>();
  }
  logical::Response wrapped;
  wrapped.wrap_info = std::move(info).value();
  wrapped.warnings = std::move(resp.warnings);
  resp = std::move(wrapped);
  return Status::Ok();
}

Result<CoreImpl::WrappedEntry> CoreImpl::ReadWrapped(std::string_view token, bool spend) {
  if (token.empty()) return PermissionDenied("error validating wrapping token: token is empty");
  SB_ASSIGN_OR_RETURN(auto entry, tokens_->Lookup(token));
  if (!entry || !IsWrappingToken(*entry)) return InvalidArgument(kInvalidWrappingToken);
  if (spend) {
    SB_ASSIGN_OR_RETURN(auto used, tokens_->UseToken(entry->hash));
    if (!used) return InvalidArgument(kInvalidWrappingToken);  // a concurrent unwrap won
  }
  SB_ASSIGN_OR_RETURN(Storage * cubbyhole, CubbyholeView());
  WrappedEntry out;
  SB_ASSIGN_OR_RETURN(auto info, cubbyhole->Get(entry->hash + "/wrapinfo"));
  SB_ASSIGN_OR_RETURN(auto response, cubbyhole->Get(entry->hash + "/response"));
  if (spend) SB_RETURN_IF_ERROR(tokens_->RevokeTree(entry->hash));
  if (!info || !response) return InvalidArgument(kInvalidWrappingToken);
  out.info = Json::parse(*info, nullptr, false);
  const Json stored = Json::parse(*response, nullptr, false);
  if (!out.info.is_object() || !stored.is_object() || !stored.contains("response") ||
      !stored["response"].is_string())
    return Corruption("wrapped response malformed");
  out.envelope = Json::parse(stored["response"].get<std::string>(), nullptr, false);
  return out;
}

Result<logical::WrapInfo> CoreImpl::Rewrap(std::string_view token) {
  SB_ASSIGN_OR_RETURN(WrappedEntry old, ReadWrapped(token, /*spend=*/true));
  const std::string path = old.info.value("creation_path", "");
  const int64_t ttl = old.info.value("creation_ttl", int64_t{0});
  if (ttl <= 0) return Corruption("wrapped response malformed");
  return StoreWrapped(old.envelope, path, ttl);
}

}  // namespace sealbox::core
