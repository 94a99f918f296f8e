#include "engines/transit/key_store.h"

#include <openssl/crypto.h>

#include "storage/storage.h"

namespace sealbox::engines::transit {

namespace {
constexpr const char* kPolicyPrefix = "policy/";
}  // namespace

Result<PolicyPtr> KeyStore::Get(const std::string& name) {
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
  }
  std::lock_guard<std::mutex> w(write_mu_);
  return LoadLocked(name);
}

Result<PolicyPtr> KeyStore::LoadLocked(const std::string& name) {
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) return it->second;
  }
  SB_ASSIGN_OR_RETURN(auto raw, storage_->Get(kPolicyPrefix + name));
  if (!raw) return PolicyPtr();
  auto decoded = DecodePolicy(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  if (!decoded.ok()) return decoded.status();
  auto p = std::make_shared<const KeyPolicy>(std::move(*decoded));
  Publish(name, p);
  return p;
}

Status KeyStore::StoreLocked(const KeyPolicy& p) {
  SecureBytes encoded = EncodePolicy(p);
  return storage_->Put(kPolicyPrefix + p.name, encoded.view());
}

void KeyStore::Publish(const std::string& name, PolicyPtr p) {
  std::lock_guard<std::mutex> l(cache_mu_);
  if (p)
    cache_[name] = std::move(p);
  else
    cache_.erase(name);
}

Result<PolicyPtr> KeyStore::CreateIfAbsent(KeyPolicy fresh) {
  std::lock_guard<std::mutex> w(write_mu_);
  SB_ASSIGN_OR_RETURN(PolicyPtr existing, LoadLocked(fresh.name));
  if (existing) return existing;
  SB_RETURN_IF_ERROR(StoreLocked(fresh));
  std::string name = fresh.name;
  auto p = std::make_shared<const KeyPolicy>(std::move(fresh));
  Publish(name, p);
  return p;
}

Result<PolicyPtr> KeyStore::Restore(KeyPolicy restored, bool force) {
  std::lock_guard<std::mutex> w(write_mu_);
  SB_ASSIGN_OR_RETURN(PolicyPtr existing, LoadLocked(restored.name));
  if (existing && !force) return InvalidArgument("key \"" + restored.name + "\" already exists");
  SB_RETURN_IF_ERROR(StoreLocked(restored));
  std::string name = restored.name;
  auto p = std::make_shared<const KeyPolicy>(std::move(restored));
  Publish(name, p);
  return p;
}

Result<PolicyPtr> KeyStore::Update(const std::string& name, const std::string& missing,
                                   const std::function<Status(KeyPolicy&)>& change) {
  std::lock_guard<std::mutex> w(write_mu_);
  SB_ASSIGN_OR_RETURN(PolicyPtr current, LoadLocked(name));
  if (!current) return InvalidArgument(missing);
  KeyPolicy copy = *current;
  SB_RETURN_IF_ERROR(change(copy));
  SB_RETURN_IF_ERROR(StoreLocked(copy));
  auto p = std::make_shared<const KeyPolicy>(std::move(copy));
  Publish(name, p);
  return p;
}

Status KeyStore::Delete(const std::string& name, const std::function<Status(const KeyPolicy*)>& check) {
  std::lock_guard<std::mutex> w(write_mu_);
  SB_ASSIGN_OR_RETURN(PolicyPtr current, LoadLocked(name));
  SB_RETURN_IF_ERROR(check(current.get()));
  SB_RETURN_IF_ERROR(storage_->Delete(kPolicyPrefix + name));
  Publish(name, nullptr);
  return Status::Ok();
}

Result<std::vector<std::string>> KeyStore::List() { return storage_->List(kPolicyPrefix); }

void KeyStore::Clear() {
  std::lock_guard<std::mutex> l(cache_mu_);
  cache_.clear();
}

}  // namespace sealbox::engines::transit
