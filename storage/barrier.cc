#include "storage/barrier.h"

#include <cstring>
#include <mutex>

#include "base/crypto.h"
#include "metrics/registry.h"

namespace sealbox {
namespace {

constexpr uint8_t kVersion = 2;
constexpr size_t kHeader = 5;

void PutU32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}
void AppendU32(SecureBytes& b, uint32_t v) {
  uint8_t t[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  b.Append(t, 4);
}
void AppendU64(SecureBytes& b, uint64_t v) {
  uint8_t t[8];
  for (int i = 0; i < 8; ++i) t[i] = uint8_t(v >> (56 - 8 * i));
  b.Append(t, 8);
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

Result<std::string> Barrier::EncryptWith(uint32_t term, const SecureBytes& key, std::string_view path,
                                         std::string_view plaintext) {
  SB_ASSIGN_OR_RETURN(std::string sealed, crypto::AeadSeal(key, plaintext, path));
  std::string out;
  out.reserve(kHeader + sealed.size());
  PutU32(out, term);
  out.push_back(static_cast<char>(kVersion));
  out += sealed;
  return out;
}

Result<std::string> Barrier::Encrypt(std::string_view path, std::string_view plaintext) {
  auto it = terms_.find(active_term_);
  if (it == terms_.end()) return Internal("no active key term");
  encryptions_.fetch_add(1, std::memory_order_relaxed);
  return EncryptWith(active_term_, it->second.key, path, plaintext);
}

Result<std::string> Barrier::Decrypt(std::string_view path, std::string_view sealed) {
  if (sealed.size() < kHeader) return Corruption("entry too short");
  const auto* p = reinterpret_cast<const uint8_t*>(sealed.data());
  uint32_t term = GetU32(p);
  if (p[4] != kVersion) return Corruption("unknown entry version");
  const SecureBytes* key = nullptr;
  if (term == 0) {
    key = &root_key_;
  } else {
    auto it = terms_.find(term);
    if (it == terms_.end()) return Corruption("entry encrypted with an unknown key term");
    key = &it->second.key;
  }
  SB_ASSIGN_OR_RETURN(SecureBytes plain, crypto::AeadOpen(*key, sealed.substr(kHeader), path));
  return std::string(plain.view());
}

Result<bool> Barrier::Initialized() {
  SB_ASSIGN_OR_RETURN(auto v, physical_->Get(kKeyringPath));
  return v.has_value();
}

SecureBytes Barrier::SerializeKeyring() const {
  // Binary rather than JSON so the key bytes never sit in an unwiped string.
  SecureBytes b;
  AppendU32(b, active_term_);
  for (const auto& [term, tk] : terms_) {
    AppendU32(b, term);
    AppendU64(b, static_cast<uint64_t>(tk.install_time_nanos));
    b.Append(tk.key.data(), tk.key.size());
  }
  return b;
}

Status Barrier::PersistKeyring() {
  SecureBytes ser = SerializeKeyring();
  SB_ASSIGN_OR_RETURN(std::string sealed, EncryptWith(0, root_key_, kKeyringPath, ser.view()));
  return physical_->Put(kKeyringPath, sealed);
}

Status Barrier::Initialize(const SecureBytes& root_key, int64_t now_nanos) {
  if (root_key.size() != crypto::kAesKeySize) return InvalidArgument("root key must be 32 bytes");
  std::unique_lock l(mu_);
  SB_ASSIGN_OR_RETURN(auto existing, physical_->Get(kKeyringPath));
  if (existing) return InvalidArgument("barrier is already initialized");
  root_key_ = root_key;
  terms_.clear();
  terms_[1] = TermKey{crypto::RandomBytes(crypto::kAesKeySize), now_nanos};
  active_term_ = 1;
  Status s = PersistKeyring();
  if (!s.ok()) {
    root_key_.Wipe();
    terms_.clear();
    return s;
  }
  sealed_.store(false, std::memory_order_release);
  return Status::Ok();
}

Status Barrier::Unseal(const SecureBytes& root_key) {
  std::unique_lock l(mu_);
  if (!Sealed()) return Status::Ok();
  SB_ASSIGN_OR_RETURN(auto stored, physical_->Get(kKeyringPath));
  if (!stored) return InvalidArgument("barrier is not initialized");
  const std::string& sealed = *stored;
  if (sealed.size() < kHeader || GetU32(reinterpret_cast<const uint8_t*>(sealed.data())) != 0)
    return Corruption("keyring entry malformed");
  auto plain = crypto::AeadOpen(root_key, std::string_view(sealed).substr(kHeader), kKeyringPath);
  if (!plain.ok()) return PermissionDenied("invalid key");
  const SecureBytes& b = *plain;
  constexpr size_t kEntry = 4 + 8 + crypto::kAesKeySize;
  if (b.size() < 4 || (b.size() - 4) % kEntry != 0) return Corruption("keyring entry malformed");
  std::map<uint32_t, TermKey> terms;
  for (size_t off = 4; off < b.size(); off += kEntry) {
    uint32_t term = GetU32(b.data() + off);
    int64_t installed = static_cast<int64_t>(GetU64(b.data() + off + 4));
    terms[term] = TermKey{SecureBytes(b.data() + off + 12, crypto::kAesKeySize), installed};
  }
  uint32_t active = GetU32(b.data());
  if (!terms.count(active)) return Corruption("keyring has no active term");
  root_key_ = root_key;
  terms_ = std::move(terms);
  active_term_ = active;
  sealed_.store(false, std::memory_order_release);
  return Status::Ok();
}

Status Barrier::Reload() {
  SecureBytes root;
  {
    std::shared_lock l(mu_);
    if (Sealed()) return ::sealbox::Sealed();
    root = root_key_;
  }
  Seal();
  return Unseal(root);
}

Result<std::string> Barrier::SealValue(std::string_view path, std::string_view plaintext) {
  std::shared_lock l(mu_);
  if (Sealed()) return ::sealbox::Sealed();
  return Encrypt(path, plaintext);
}

Result<std::string> Barrier::OpenValue(std::string_view path, std::string_view sealed) {
  std::shared_lock l(mu_);
  if (Sealed()) return ::sealbox::Sealed();
  return Decrypt(path, sealed);
}

void Barrier::Seal() {
  sealed_.store(true, std::memory_order_release);
  std::unique_lock l(mu_);
  root_key_.Wipe();
  for (auto& [t, k] : terms_) k.key.Wipe();
  terms_.clear();
  active_term_ = 0;
}

Status Barrier::Rotate(int64_t now_nanos) {
  std::unique_lock l(mu_);
  if (Sealed()) return ::sealbox::Sealed();
  uint32_t next = active_term_ + 1;
  terms_[next] = TermKey{crypto::RandomBytes(crypto::kAesKeySize), now_nanos};
  uint32_t prev = active_term_;
  active_term_ = next;
  Status s = PersistKeyring();
  if (!s.ok()) {
    terms_.erase(next);
    active_term_ = prev;
    return s;
  }
  encryptions_.store(0);
  return Status::Ok();
}

KeyStatus Barrier::ActiveKeyStatus() {
  std::shared_lock l(mu_);
  KeyStatus ks;
  ks.term = active_term_;
  auto it = terms_.find(active_term_);
  if (it != terms_.end()) ks.install_time_nanos = it->second.install_time_nanos;
  ks.encryptions = encryptions_.load();
  return ks;
}

namespace {

// Vault's barrier timers (milliseconds, storage round trip included).
struct BarrierTimers {
  metrics::Histogram& get = metrics::DefaultRegistry().GetHistogram("vault.barrier.get", "Barrier reads (ms)");
  metrics::Histogram& put = metrics::DefaultRegistry().GetHistogram("vault.barrier.put", "Barrier writes (ms)");
  metrics::Histogram& del = metrics::DefaultRegistry().GetHistogram("vault.barrier.delete", "Barrier deletes (ms)");
  metrics::Histogram& list = metrics::DefaultRegistry().GetHistogram("vault.barrier.list", "Barrier lists (ms)");
};
BarrierTimers& Timers() {
  static BarrierTimers t;
  return t;
}

}  // namespace

Result<std::optional<std::string>> Barrier::Get(std::string_view key) {
  metrics::ScopedTimer timer(&Timers().get);
  SB_ASSIGN_OR_RETURN(auto raw, physical_->Get(key));
  std::shared_lock l(mu_);
  if (Sealed()) return ::sealbox::Sealed();
  if (!raw) return std::optional<std::string>();
  SB_ASSIGN_OR_RETURN(std::string plain, Decrypt(key, *raw));
  return std::optional<std::string>(std::move(plain));
}

Status Barrier::Put(std::string_view key, std::string_view value) {
  metrics::ScopedTimer timer(&Timers().put);
  std::string sealed;
  {
    std::shared_lock l(mu_);
    if (Sealed()) return ::sealbox::Sealed();
    SB_ASSIGN_OR_RETURN(sealed, Encrypt(key, value));
  }
  return physical_->Put(key, sealed);
}

Status Barrier::Delete(std::string_view key) {
  metrics::ScopedTimer timer(&Timers().del);
  if (Sealed()) return ::sealbox::Sealed();
  return physical_->Delete(key);
}

Result<std::vector<std::string>> Barrier::List(std::string_view prefix) {
  metrics::ScopedTimer timer(&Timers().list);
  if (Sealed()) return ::sealbox::Sealed();
  return physical_->List(prefix);
}

Status Barrier::Batch(const std::vector<WriteOp>& ops) {
  std::vector<WriteOp> sealed_ops;
  sealed_ops.reserve(ops.size());
  {
    std::shared_lock l(mu_);
    if (Sealed()) return ::sealbox::Sealed();
    for (const auto& op : ops) {
      if (op.kind == WriteOp::Kind::kDelete) {
        sealed_ops.push_back(op);
        continue;
      }
      SB_ASSIGN_OR_RETURN(std::string c, Encrypt(op.key, op.value));
      sealed_ops.push_back(WriteOp::Put(op.key, std::move(c)));
    }
  }
  return physical_->Batch(sealed_ops);
}

}  // namespace sealbox
