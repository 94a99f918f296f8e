#include "etcd/etcd_storage.h"

#include "etcd/etcd_client.h"
#include "etcd/etcd_fence.h"
#include "etcd/etcd_ha.h"
#include "etcd/etcd_plan.h"
#include "etcd/etcd_snapshot.h"
#include "etcd/etcd_change_feed.h"
#include "etcd/etcd_write_index.h"
#include "base/log.h"

namespace sealbox::etcd {
namespace {

// Keys per page of a folder listing.
constexpr int64_t kListPage = 1000;

class EtcdStorage final : public Storage {
 public:
  EtcdStorage(std::shared_ptr<EtcdClient> client, std::shared_ptr<EtcdFence> fence, const EtcdOptions& o)
      : client_(std::move(client)),
        fence_(std::move(fence)),
        keys_(o.path),
        ha_(o.ha_enabled),
        // The write index's put takes one of the transaction's operations.
        limits_(LimitsFor(o.max_txn_ops - (o.ha_enabled ? 1 : 0), o.max_request_bytes)) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    etcdserverpb::RangeRequest req;
    req.set_key(keys_.ToEtcd(key));
    SB_ASSIGN_OR_RETURN(auto resp, client_->Range(req));
    if (resp.kvs_size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::move(*resp.mutable_kvs(0)->mutable_value()));
  }

  Status Put(std::string_view key, std::string_view value) override {
    std::string k = keys_.ToEtcd(key);
    SB_RETURN_IF_ERROR(CheckPutFits(k.size(), value.size(), limits_));
    if (ha_) return Batch({WriteOp::Put(std::string(key), std::string(value))});
    etcdserverpb::PutRequest req;
    req.set_key(std::move(k));
    req.set_value(std::string(value));
    return client_->Put(req).status();
  }

  Status Delete(std::string_view key) override {
    if (ha_) return Batch({WriteOp::Delete(std::string(key))});
    etcdserverpb::DeleteRangeRequest req;
    req.set_key(keys_.ToEtcd(key));
    return client_->DeleteRange(req).status();
  }

  // A keys-only range scan of the folder in pages, folding each key into
  // its child and starting the next page past the sub-folder its last key
  // lies in. Cost: at most one page per child folder plus the folder's
  // leaves, but a page may carry up to kListPage keys of one deep
  // sub-folder that fold into a single entry (etcd has no "skip past this
  // prefix" inside one range).
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    const std::string folder = keys_.ToEtcd(prefix);
    const std::string end = PrefixEnd(folder);
    std::vector<std::string> out;
    etcdserverpb::RangeRequest req;
    req.set_key(folder);
    req.set_range_end(end);
    req.set_keys_only(true);
    req.set_limit(kListPage);
    for (;;) {
      SB_ASSIGN_OR_RETURN(auto resp, client_->Range(req));
      for (const auto& kv : resp.kvs()) {
        std::string_view child = ChildOf(std::string_view(kv.key()).substr(folder.size()));
        if (out.empty() || out.back() != child) out.emplace_back(child);
      }
      if (!resp.more() || resp.kvs_size() == 0) break;
      req.set_key(NextListStart(folder, resp.kvs(resp.kvs_size() - 1).key()));
      if (req.key() >= end) break;
    }
    return out;
  }

  Status Batch(const std::vector<WriteOp>& ops) override {
    std::vector<WriteOp> mapped;
    mapped.reserve(ops.size());
    for (const auto& op : ops) mapped.push_back({op.kind, keys_.ToEtcd(op.key), op.value});
    SB_ASSIGN_OR_RETURN(auto txns, PlanBatch(std::move(mapped), limits_));
    for (auto& txn : txns) {
      etcdserverpb::TxnRequest req;
      fence_->Guard(req);
      for (auto& op : txn) {
        etcdserverpb::RequestOp* r = req.add_success();
        if (op.kind == WriteOp::Kind::kPut) {
          r->mutable_request_put()->set_key(std::move(op.key));
          r->mutable_request_put()->set_value(std::move(op.value));
        } else {
          r->mutable_request_delete_range()->set_key(std::move(op.key));
        }
      }
      if (ha_) MarkWrite(req, keys_);
      SB_ASSIGN_OR_RETURN(auto resp, client_->Txn(req));
      if (!resp.succeeded()) {
        fence_->MarkBreached();
        log::Error("etcd: a write was refused: this node lost the active role (fenced)");
        return Unavailable("this node is no longer the active node; the write was refused");
      }
    }
    return Status::Ok();
  }

  // etcd/etcd_snapshot.h.
  bool SupportsSnapshots() const override { return true; }
  Status ScanConsistent(const ScanVisitor& visit) override { return ScanAtOneRevision(Target(), visit); }
  Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) override {
    return ReplaceVaultKeys(Target(), entries);
  }
  Status FinishInterruptedReplace() override { return FinishInterruptedRestore(Target()); }

 private:
  EtcdSnapshotTarget Target() const { return {*client_, *fence_, keys_, limits_, ha_}; }

  std::shared_ptr<EtcdClient> client_;
  std::shared_ptr<EtcdFence> fence_;
  const Keyspace keys_;
  const bool ha_;  // every write is a transaction that also puts the write index
  const TxnLimits limits_;
};

}  // namespace

Result<EtcdBackend> OpenEtcd(const EtcdOptions& options) {
  SB_ASSIGN_OR_RETURN(std::shared_ptr<EtcdClient> client, EtcdClient::Create(options));
  etcdserverpb::RangeRequest probe;
  Keyspace keys(options.path);
  probe.set_key(keys.prefix());
  probe.set_range_end(PrefixEnd(keys.prefix()));
  probe.set_count_only(true);
  auto reached = client->Range(probe);
  if (!reached.ok())
    return Status(reached.status().code(), "storage \"etcd\" (" + client->Describe() + "): " + reached.status().message());
  auto fence = std::make_shared<EtcdFence>();
  EtcdBackend out;
  out.storage = std::make_unique<EtcdStorage>(client, fence, options);
  if (options.ha_enabled) {
    out.ha = NewEtcdHaLock(client, fence, options);
    out.feed = NewEtcdChangeFeed(client, options);
  }
  return out;
}

}  // namespace sealbox::etcd
