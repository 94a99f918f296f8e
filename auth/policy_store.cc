#include "auth/policy_store.h"

#include <algorithm>

#include "storage/storage.h"

namespace sealbox::auth {
namespace {

// The policy of every response-wrapping token (Vault's, built in and
// immutable): it may read its own cubbyhole's response, unwrap, and revoke itself.
constexpr const char* kResponseWrappingPolicyText = R"(
path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

path "auth/token/revoke-self" {
    capabilities = ["update"]
}
)";

}  // namespace

Status PolicyStore::Setup() {
  SB_ASSIGN_OR_RETURN(auto existing, view_->Get("default"));
  if (!existing) SB_RETURN_IF_ERROR(view_->Put("default", Json{{"name", "default"}, {"policy", kDefaultPolicyText}}.dump()));
  std::unique_lock l(mu_);
  policies_.clear();
  acl_cache_.clear();
  ++generation_;
  return Status::Ok();
}

void PolicyStore::Reset() {
  std::unique_lock l(mu_);
  policies_.clear();
  acl_cache_.clear();
  ++generation_;  // a read racing with this one caches nothing
}

Result<std::shared_ptr<const Policy>> PolicyStore::Get(const std::string& name) {
  if (name == "root") {
    auto p = std::make_shared<Policy>();
    p->name = "root";
    return std::shared_ptr<const Policy>(p);
  }
  if (name == kResponseWrappingPolicy) {
    static const std::shared_ptr<const Policy> wrapping = [] {
      auto parsed = ParsePolicy(kResponseWrappingPolicy, kResponseWrappingPolicyText);
      return std::make_shared<const Policy>(std::move(parsed).value());
    }();
    return wrapping;
  }
  uint64_t gen;
  {
    std::shared_lock l(mu_);
    auto it = policies_.find(name);
    if (it != policies_.end()) return it->second;
    gen = generation_;
  }
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get(name));
  if (!raw) return std::shared_ptr<const Policy>();
  Json j = Json::parse(*raw, nullptr, false);
  if (!j.is_object() || !j.contains("policy")) return Corruption("policy entry malformed");
  SB_ASSIGN_OR_RETURN(Policy p, ParsePolicy(name, j["policy"].get<std::string>()));
  auto sp = std::make_shared<const Policy>(std::move(p));
  std::unique_lock l(mu_);
  if (gen == generation_) policies_[name] = sp;
  return std::shared_ptr<const Policy>(sp);
}

Status PolicyStore::Put(const std::string& name, const std::string& text) {
  if (name == "root" || name == kResponseWrappingPolicy)
    return InvalidArgument("cannot update \"" + name + "\" policy");
  auto parsed = ParsePolicy(name, text);
  if (!parsed.ok()) return InvalidArgument("failed to parse policy: " + parsed.status().message());
  SB_RETURN_IF_ERROR(view_->Put(name, Json{{"name", name}, {"policy", text}}.dump()));
  std::unique_lock l(mu_);
  policies_[name] = std::make_shared<const Policy>(std::move(parsed).value());
  acl_cache_.clear();
  ++generation_;
  return Status::Ok();
}

Status PolicyStore::Delete(const std::string& name) {
  if (name == "root" || name == kResponseWrappingPolicy)
    return InvalidArgument("cannot delete \"" + name + "\" policy");
  if (name == "default") return InvalidArgument("cannot delete default policy");
  SB_RETURN_IF_ERROR(view_->Delete(name));
  std::unique_lock l(mu_);
  policies_.erase(name);
  acl_cache_.clear();
  ++generation_;
  return Status::Ok();
}

Result<std::vector<std::string>> PolicyStore::List() {
  SB_ASSIGN_OR_RETURN(auto names, view_->List(""));
  names.erase(std::remove_if(names.begin(), names.end(), [](const std::string& n) { return n.empty() || n.back() == '/'; }),
              names.end());
  names.push_back("root");
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::shared_ptr<const Acl>> PolicyStore::AclFor(const std::vector<std::string>& names,
                                                      const IdentityContext* identity) {
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string key;
  for (const auto& n : sorted) key += n + '\n';
  auto render = [identity](const CachedAcl& c) {
    std::vector<std::shared_ptr<const Policy>> rendered;
    rendered.reserve(c.policies.size());
    for (const auto& p : c.policies) rendered.push_back(RenderPolicy(p, identity));
    return Acl::Compile(rendered, false);
  };
  uint64_t gen;
  {
    std::shared_lock l(mu_);
    auto it = acl_cache_.find(key);
    if (it != acl_cache_.end()) {
      if (!it->second.templated || identity == nullptr) return it->second.acl;
      CachedAcl c = it->second;  // compile outside the lock
      l.unlock();
      return render(c);
    }
    gen = generation_;
  }
  bool is_root = std::find(sorted.begin(), sorted.end(), "root") != sorted.end();
  CachedAcl entry;
  for (const auto& n : sorted) {
    if (n == "root") continue;
    SB_ASSIGN_OR_RETURN(auto p, Get(n));
    if (!p) continue;
    entry.templated = entry.templated || p->templated;
    entry.policies.push_back(std::move(p));
  }
  entry.templated = entry.templated && !is_root;
  entry.acl = Acl::Compile(entry.policies, is_root);  // templated paths skipped
  std::shared_ptr<const Acl> acl = entry.templated && identity != nullptr ? render(entry) : entry.acl;
  if (!entry.templated) entry.policies.clear();
  std::unique_lock l(mu_);
  // A policy changed while we compiled: serve this ACL once but do not cache it.
  if (gen == generation_) acl_cache_[key] = std::move(entry);
  return acl;
}

}  // namespace sealbox::auth
