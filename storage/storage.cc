#include "storage/storage.h"

#include <map>
#include <mutex>
#include <shared_mutex>

namespace sealbox {

Status Storage::ScanConsistent(const ScanVisitor&) { return Unsupported("snapshots are not supported by this storage"); }

Status Storage::ReplaceAll(const std::vector<std::pair<std::string, std::string>>&) {
  return Unsupported("snapshots are not supported by this storage");
}

Result<std::vector<std::string>> ListRecursive(Storage& s, std::string_view prefix, size_t limit) {
  std::vector<std::string> out;
  std::vector<std::string> stack{std::string(prefix)};
  // Depth-first over folders; each folder's children come back sorted.
  std::vector<std::string> pending;
  auto walk = [&](auto& self, const std::string& dir) -> Status {
    SB_ASSIGN_OR_RETURN(auto children, s.List(dir));
    for (auto& c : children) {
      if (limit > 0 && out.size() >= limit) return Status::Ok();
      if (!c.empty() && c.back() == '/') {
        SB_RETURN_IF_ERROR(self(self, dir + c));
      } else {
        out.push_back(dir + c);
      }
    }
    return Status::Ok();
  };
  SB_RETURN_IF_ERROR(walk(walk, std::string(prefix)));
  return out;
}

Status DeletePrefix(Storage& s, std::string_view prefix) {
  SB_ASSIGN_OR_RETURN(auto keys, ListRecursive(s, prefix));
  std::vector<WriteOp> ops;
  for (auto& k : keys) {
    ops.push_back(WriteOp::Delete(std::move(k)));
    if (ops.size() == 1000) {
      SB_RETURN_IF_ERROR(s.Batch(ops));
      ops.clear();
    }
  }
  if (!ops.empty()) SB_RETURN_IF_ERROR(s.Batch(ops));
  return Status::Ok();
}

Result<std::optional<std::string>> PrefixView::Get(std::string_view key) { return parent_->Get(Full(key)); }
Status PrefixView::Put(std::string_view key, std::string_view value) { return parent_->Put(Full(key), value); }
Status PrefixView::Delete(std::string_view key) { return parent_->Delete(Full(key)); }
Result<std::vector<std::string>> PrefixView::List(std::string_view prefix) { return parent_->List(Full(prefix)); }
Status PrefixView::Batch(const std::vector<WriteOp>& ops) {
  std::vector<WriteOp> full;
  full.reserve(ops.size());
  for (const auto& op : ops) full.push_back({op.kind, Full(op.key), op.value});
  return parent_->Batch(full);
}

namespace {

class InMemStorage final : public Storage {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::shared_lock l(mu_);
    auto it = m_.find(std::string(key));
    if (it == m_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Put(std::string_view key, std::string_view value) override {
    std::unique_lock l(mu_);
    m_[std::string(key)] = std::string(value);
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    std::unique_lock l(mu_);
    m_.erase(std::string(key));
    return Status::Ok();
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::shared_lock l(mu_);
    std::vector<std::string> out;
    for (auto it = m_.lower_bound(std::string(prefix)); it != m_.end(); ++it) {
      std::string_view k = it->first;
      if (k.substr(0, prefix.size()) != prefix) break;
      std::string_view rest = k.substr(prefix.size());
      size_t slash = rest.find('/');
      std::string child(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
      if (out.empty() || out.back() != child) out.push_back(std::move(child));
    }
    return out;
  }
  Status Batch(const std::vector<WriteOp>& ops) override {
    std::unique_lock l(mu_);
    for (const auto& op : ops) {
      if (op.kind == WriteOp::Kind::kPut) m_[op.key] = op.value;
      else m_.erase(op.key);
    }
    return Status::Ok();
  }
  bool SupportsSnapshots() const override { return true; }
  Status ScanConsistent(const ScanVisitor& visit) override {
    std::map<std::string, std::string> copy;
    {
      std::shared_lock l(mu_);
      copy = m_;
    }
    for (const auto& [k, v] : copy) SB_RETURN_IF_ERROR(visit(k, v));
    return Status::Ok();
  }
  Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) override {
    std::map<std::string, std::string> fresh(entries.begin(), entries.end());
    std::unique_lock l(mu_);
    m_.swap(fresh);
    return Status::Ok();
  }

 private:
  std::shared_mutex mu_;
  std::map<std::string, std::string> m_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Storage> NewInMemStorage() { return std::make_unique<InMemStorage>(); }

}  // namespace sealbox
