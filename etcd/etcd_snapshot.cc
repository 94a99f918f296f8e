#include "etcd/etcd_snapshot.h"

#include <algorithm>
#include <functional>

#include "base/log.h"
#include "etcd/etcd_client.h"
#include "etcd/etcd_fence.h"
#include "etcd/etcd_write_index.h"

namespace sealbox::etcd {
namespace {

constexpr std::string_view kLeaderDir = "core/leader/";
constexpr std::string_view kRestoreDir = "core/snapshot-restore/";
constexpr std::string_view kStateKey = "core/snapshot-restore/state";
constexpr std::string_view kStagedDir = "core/snapshot-restore/staged/";
constexpr std::string_view kStaging = "staging";
constexpr std::string_view kSwapping = "swapping";

// Keys per range page; a page whose answer is too large is halved, and the
// next one doubled only after a small answer, so a run of large values does
// not refetch oversized pages again and again.
constexpr int64_t kMaxPage = 512;
constexpr size_t kGrowBelowBytes = size_t{1} << 20;
// Room in a request for a restore's compares (the fence's and the state's).
constexpr size_t kCompareBytes = 1024;

using Visit = std::function<Status(const mvccpb::KeyValue&)>;

// Pages through [begin, end) at `revision` (0: the current one, then
// pinned), in key order.
Status RangePages(EtcdClient& client, std::string begin, const std::string& end, int64_t revision,
                  const Visit& visit) {
  int64_t limit = kMaxPage;
  for (;;) {
    etcdserverpb::RangeRequest req;
    req.set_key(begin);
    req.set_range_end(end);
    req.set_limit(limit);
    req.set_revision(revision);
    auto resp = client.Range(req);
    if (!resp.ok()) {
      if (resp.status().code() != StatusCode::kTooLarge || limit == 1) return resp.status();
      limit /= 2;
      continue;
    }
    if (revision == 0) revision = resp->header().revision();
    for (const auto& kv : resp->kvs()) SB_RETURN_IF_ERROR(visit(kv));
    if (!resp->more() || resp->kvs_size() == 0) return Status::Ok();
    begin = resp->kvs(resp->kvs_size() - 1).key() + '\0';
    if (resp->ByteSizeLong() < kGrowBelowBytes) limit = std::min(kMaxPage, limit * 2);
  }
}

void AddPut(etcdserverpb::TxnRequest& txn, std::string key, std::string value) {
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(std::move(key));
  put->set_value(std::move(value));
}

void AddDelete(etcdserverpb::TxnRequest& txn, std::string begin, std::string end = "") {
  auto* del = txn.add_success()->mutable_request_delete_range();
  del->set_key(std::move(begin));
  if (!end.empty()) del->set_range_end(std::move(end));
}

// One restore, owned while the state key's mod revision is `owner_`.
class Restore {
 public:
  explicit Restore(const EtcdSnapshotTarget& t) : t_(t) {}

  // An interrupted restore, found with its state key at mod revision `rev`.
  void Adopt(int64_t rev) { owner_ = rev; }

  // Sets the state (staging starts from an empty staged folder).
  Status Enter(std::string_view state) {
    etcdserverpb::TxnRequest txn;
    if (state == kStaging) AddDelete(txn, Etcd(kStagedDir), PrefixEnd(Etcd(kStagedDir)));
    AddPut(txn, Etcd(kStateKey), std::string(state));
    return Commit(txn);
  }

  // Writes `entries` under the staged folder.
  Status Stage(const std::vector<std::pair<std::string, std::string>>& entries) {
    Chunk chunk(*this);
    for (const auto& [key, value] : entries) {
      if (IsNodeLocalKey(key)) continue;
      SB_RETURN_IF_ERROR(chunk.Put(Etcd(kStagedDir) + key, value));
    }
    return chunk.Flush();
  }

  // Deletes the vault's keys, copies the staged ones over, then ends the restore.
  Status Swap() {
    SB_RETURN_IF_ERROR(Enter(kSwapping));
    etcdserverpb::TxnRequest wipe;
    const std::string all = t_.keys.prefix(), leader = Etcd(kLeaderDir), restore = Etcd(kRestoreDir);
    // Everything but the node-local keys, which sort in this order.
    const std::string index = Etcd(kWriteIndexKey);
    AddDelete(wipe, all, index);
    AddDelete(wipe, index + '\0', leader);
    AddDelete(wipe, PrefixEnd(leader), restore);
    AddDelete(wipe, PrefixEnd(restore), PrefixEnd(all));
    SB_RETURN_IF_ERROR(Commit(wipe));
    const std::string staged = Etcd(kStagedDir);
    Chunk chunk(*this);
    SB_RETURN_IF_ERROR(RangePages(t_.client, staged, PrefixEnd(staged), 0, [&](const mvccpb::KeyValue& kv) {
      return chunk.Put(all + kv.key().substr(staged.size()), kv.value());
    }));
    SB_RETURN_IF_ERROR(chunk.Flush());
    return End();
  }

  // Drops the staged copy and the state.
  Status End() {
    etcdserverpb::TxnRequest txn;
    AddDelete(txn, Etcd(kStagedDir), PrefixEnd(Etcd(kStagedDir)));
    AddDelete(txn, Etcd(kStateKey));
    return Commit(txn);
  }

 private:
  // Puts gathered into transactions within etcd's limits.
  class Chunk {
   public:
    explicit Chunk(Restore& r) : r_(r) {}
    Status Put(std::string key, std::string value) {
      const size_t bytes = OpBytes(WriteOp::Put(key, value));
      const TxnLimits& l = r_.t_.limits;
      if (txn_.success_size() > 0 &&
          (static_cast<size_t>(txn_.success_size()) >= l.max_ops || bytes_ + bytes + kCompareBytes > l.max_bytes))
        SB_RETURN_IF_ERROR(Flush());
      AddPut(txn_, std::move(key), std::move(value));
      bytes_ += bytes;
      return Status::Ok();
    }
    Status Flush() {
      if (txn_.success_size() == 0) return Status::Ok();
      SB_RETURN_IF_ERROR(r_.Commit(txn_));
      txn_.Clear();
      bytes_ = 0;
      return Status::Ok();
    }

   private:
    Restore& r_;
    etcdserverpb::TxnRequest txn_;
    size_t bytes_ = 0;
  };

  std::string Etcd(std::string_view key) const { return t_.keys.ToEtcd(key); }

  // Commits `txn` if this node still leads (HA) and still owns the restore;
  // a put of the state makes its revision the new owner.
  Status Commit(etcdserverpb::TxnRequest& txn) {
    t_.fence.Guard(txn);
    if (t_.mark_writes) MarkWrite(txn, t_.keys);
    if (owner_ != 0) {
      etcdserverpb::Compare* c = txn.add_compare();
      c->set_key(Etcd(kStateKey));
      c->set_target(etcdserverpb::Compare::MOD);
      c->set_result(etcdserverpb::Compare::EQUAL);
      c->set_mod_revision(owner_);
    }
    SB_ASSIGN_OR_RETURN(auto resp, t_.client.Txn(txn));
    if (!resp.succeeded())
      return Unavailable("snapshot restore stopped: this node lost the active role or another node took it over");
    for (const auto& op : txn.success())
      if (op.has_request_put() && op.request_put().key() == Etcd(kStateKey)) owner_ = resp.header().revision();
    return Status::Ok();
  }

  const EtcdSnapshotTarget& t_;
  int64_t owner_ = 0;
};

}  // namespace

bool IsNodeLocalKey(std::string_view key) {
  return key.starts_with(kLeaderDir) || key.starts_with(kRestoreDir) || key == kWriteIndexKey;
}

Status ScanAtOneRevision(const EtcdSnapshotTarget& t, const Storage::ScanVisitor& visit) {
  const std::string& prefix = t.keys.prefix();
  return RangePages(t.client, prefix, PrefixEnd(prefix), 0, [&](const mvccpb::KeyValue& kv) {
    std::string_view key = t.keys.FromEtcd(kv.key());
    return IsNodeLocalKey(key) ? Status::Ok() : visit(key, kv.value());
  });
}

Status ReplaceVaultKeys(const EtcdSnapshotTarget& t, const std::vector<std::pair<std::string, std::string>>& entries) {
  const size_t staged_prefix = t.keys.ToEtcd(kStagedDir).size() + kCompareBytes;
  for (const auto& [key, value] : entries) SB_RETURN_IF_ERROR(CheckPutFits(staged_prefix + key.size(), value.size(), t.limits));
  Restore r(t);
  SB_RETURN_IF_ERROR(r.Enter(kStaging));
  if (Status s = r.Stage(entries); !s.ok()) {
    if (!r.End().ok()) log::Warn("etcd: could not drop a failed restore's staged copy; the next unseal drops it");
    return s;
  }
  if (Status s = r.Swap(); !s.ok()) {
    log::Error("etcd: snapshot restore interrupted half-way (" + s.message() +
               "); the next unseal of a node on this path finishes it");
    return Corruption("snapshot restore interrupted half-way: " + s.message());
  }
  return Status::Ok();
}

Status FinishInterruptedRestore(const EtcdSnapshotTarget& t) {
  etcdserverpb::RangeRequest req;
  req.set_key(t.keys.ToEtcd(kStateKey));
  SB_ASSIGN_OR_RETURN(auto resp, t.client.Range(req));
  if (resp.kvs_size() == 0) return Status::Ok();
  const mvccpb::KeyValue& state = resp.kvs(0);
  Restore r(t);
  r.Adopt(state.mod_revision());
  if (state.value() == kSwapping) {
    SB_RETURN_IF_ERROR(r.Swap());
    log::Warn("etcd: finished a snapshot restore that was interrupted half-way");
    return Status::Ok();
  }
  SB_RETURN_IF_ERROR(r.End());
  log::Warn("etcd: dropped a snapshot restore that was interrupted before it changed anything");
  return Status::Ok();
}

}  // namespace sealbox::etcd
