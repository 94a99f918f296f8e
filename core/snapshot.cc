// Online snapshots (docs/operations.md): the whole physical store, still
// barrier-encrypted, read at one point in time while writes go on; and its
// restore, which replaces the store (RocksDB: in one atomic write; etcd:
// restartable, etcd/etcd_snapshot.h) and reloads every
// cache built from it (mounts, policies, tokens, leases, audit devices) by
// an internal seal and unseal with the same root key.
#include <algorithm>

#include "base/producer_source.h"
#include "base/log.h"
#include "core/core_impl.h"
#include "storage/snapshot_archive.h"

namespace sealbox::core {
namespace {

// The associated data of SHA256SUMS.sealed: a barrier ciphertext made for a
// snapshot opens nowhere else.
constexpr const char* kSealedSumsPath = "core/snapshot/SHA256SUMS";
// Compressed bytes a streamed snapshot holds for the server to send.
constexpr size_t kSnapshotQueueBytes = size_t{1} << 20;

bool HasKey(const std::vector<std::pair<std::string, std::string>>& entries, std::string_view key) {
  auto it = std::lower_bound(entries.begin(), entries.end(), key,
                             [](const auto& e, std::string_view k) { return e.first < k; });
  return it != entries.end() && it->first == key;
}

}  // namespace

Status CoreImpl::CheckSnapshotsSupported() const {
  if (physical_->SupportsSnapshots()) return Status::Ok();
  return Unsupported("snapshots are not supported with " + options_.storage_type + " storage yet");
}

Status CoreImpl::WriteSnapshot(const snapshot::ArchiveWriter::Sink& sink, snapshot::Manifest manifest,
                               const std::atomic<bool>* cancel) {
  manifest.storage_type = options_.storage_type;
  manifest.created_unix = options_.clock->NowSeconds();
  snapshot::ArchiveWriter writer(sink, manifest.created_unix);
  SB_RETURN_IF_ERROR(physical_->ScanConsistent([&](std::string_view key, std::string_view value) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return Unavailable("snapshot cancelled: the vault is sealing");
    return writer.Add(key, value);
  }));
  SB_RETURN_IF_ERROR(writer.Finish(manifest, [this](std::string_view sums) {
    return barrier_->SealValue(kSealedSumsPath, sums);
  }));
  log::Info("core: snapshot taken (" + std::to_string(writer.entries()) + " entries)");
  return Status::Ok();
}

Result<std::string> CoreImpl::TakeSnapshot(const std::atomic<bool>* cancel) {
  SB_RETURN_IF_ERROR(CheckSnapshotsSupported());
  snapshot::Manifest manifest;
  manifest.cluster_id = cluster_id_;
  std::string archive;
  SB_RETURN_IF_ERROR(WriteSnapshot(
      [&archive](std::string_view piece) {
        if (archive.size() + piece.size() > snapshot::kMaxStateBytes)
          return TooLarge("the store is larger than a scheduled snapshot may hold");
        archive.append(piece);
        return Status::Ok();
      },
      std::move(manifest), cancel));
  return archive;
}

Result<std::shared_ptr<ByteSource>> CoreImpl::StreamSnapshot() {
  SB_RETURN_IF_ERROR(CheckSnapshotsSupported());
  // Read now, under the request's state lock: the scan runs on the source's
  // thread after this request has returned, holding no lock of the core's,
  // so a seal meanwhile breaks the stream at its end (the barrier cannot
  // seal the sums), never the store.
  snapshot::Manifest manifest;
  manifest.cluster_id = cluster_id_;
  return std::shared_ptr<ByteSource>(std::make_shared<ProducerSource>(
      [this, manifest = std::move(manifest)](const ProducerSource::Sink& sink) {
        Status s = WriteSnapshot(sink, manifest, nullptr);
        if (!s.ok()) log::Warn("core: snapshot stream stopped: " + s.message());
        return s;
      },
      kSnapshotQueueBytes));
}

Status CoreImpl::StageRestore(const std::string& request_id, std::string_view archive, bool force) {
  SB_RETURN_IF_ERROR(CheckSnapshotsSupported());
  if (archive.empty()) return InvalidArgument("invalid snapshot: the request body is empty");
  SB_ASSIGN_OR_RETURN(snapshot::Contents contents, snapshot::ReadArchive(archive));
  if (!HasKey(contents.entries, kSealConfigPath) || !HasKey(contents.entries, Barrier::kKeyringPath))
    return InvalidArgument("invalid snapshot: it holds no initialized vault");
  if (!force) {
    const std::string hint =
        "; use sys/storage/raft/snapshot-force to restore it anyway (this vault then seals and needs the unseal "
        "keys of the vault the snapshot came from)";
    if (contents.manifest.cluster_id != cluster_id_)
      return InvalidArgument("the snapshot is from a different vault (cluster id \"" + contents.manifest.cluster_id +
                             "\", this vault \"" + cluster_id_ + "\")" + hint);
    auto sums = barrier_->OpenValue(kSealedSumsPath, contents.sealed_sums);
    if (!sums.ok() || *sums != contents.sums)
      return InvalidArgument("could not verify the snapshot with this vault's keys, possibly it is from a vault "
                             "with a different keyring" + hint);
  }
  std::lock_guard l(staged_mu_);
  if (staged_restore_) return InvalidArgument("another snapshot restore is in progress");
  staged_restore_ = std::make_unique<StagedRestore>(
      StagedRestore{request_id, force, std::move(contents.entries)});
  restore_staged_.store(true, std::memory_order_release);
  return Status::Ok();
}

Status CoreImpl::ApplyStagedRestore(const std::string& request_id, bool request_ok) {
  std::unique_ptr<StagedRestore> staged;
  {
    std::lock_guard l(staged_mu_);
    if (!staged_restore_ || staged_restore_->request_id != request_id) return Status::Ok();
    staged = std::move(staged_restore_);
    restore_staged_.store(false, std::memory_order_release);
  }
  if (!request_ok) return Status::Ok();
  std::unique_lock l(state_mu_);
  if (sealed_.load()) return ::sealbox::Sealed();
  // From here no request runs: tear down every cache built from the store.
  sealed_.store(true);
  // A ceremony in progress relied on the seal configuration being replaced.
  root_generation_->Cancel();
  barrier_rekey_->Cancel();
  recovery_rekey_->Cancel();
  PreSeal();
  Status s = physical_->ReplaceAll(staged->entries);
  if (s.code() == StatusCode::kCorruption) {
    // Half replaced (etcd): neither store is whole until an unseal finishes it.
    log::Error("core: snapshot restore interrupted half-way; sealing: the next unseal finishes it");
    SealLocked().IgnoreError();
    return Unavailable("snapshot restore interrupted half-way; the vault sealed: the next unseal finishes it");
  }
  if (!s.ok()) {
    // The old store is intact (RocksDB: one atomic write; etcd: the restore
    // failed before it touched the vault's keys), so come back up on it.
    log::Error("core: snapshot restore failed, the store is unchanged: " + s.message());
    if (!PostUnsealForInit().ok()) SealLocked().IgnoreError();
    return s;
  }
  if (staged->force) {
    log::Info("core: snapshot restored (forced); sealing: unseal with the keys of the snapshot's vault");
    return SealLocked();
  }
  s = barrier_->Reload();
  // This node stays active (with HA it still holds the lock): load it all again.
  if (s.ok()) s = PostUnsealForInit();
  if (!s.ok()) {
    log::Error("core: snapshot restored, but this vault cannot open it with the keys it holds (" + s.message() +
               "); sealing: unseal with the keys of the snapshot");
    SealLocked().IgnoreError();
    return s;
  }
  log::Info("core: snapshot restored (" + std::to_string(staged->entries.size()) + " entries)");
  return Status::Ok();
}

}  // namespace sealbox::core
