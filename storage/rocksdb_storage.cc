#include "storage/rocksdb_storage.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "base/log.h"
#include "storage/group_commit.h"

namespace sealbox {
namespace {

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace ||
      s.ToString().find("No space left") != std::string::npos)
    return StorageFull();
  if (s.IsCorruption()) {
    log::Error("rocksdb corruption: " + s.ToString());
    return Corruption("storage corruption");
  }
  log::Error("rocksdb error: " + s.ToString());
  return IOError("storage error");
}

// RocksDB's own messages go to our log instead of a LOG file in the data
// directory: that file shares the disk with the data, and once a full disk
// has failed an append to it, Debian's RocksDB aborts on the next one.
class ForwardingLogger final : public rocksdb::Logger {
 public:
  ForwardingLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    std::string line = std::string("rocksdb: ") + buf;
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) log::Error(line);
    else log::Warn(line);
  }
};

rocksdb::Options MakeOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.max_open_files = 256;
  // Keep the process small: a vault's working set is tiny.
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  // Synced writes rewrite old log files in place: an fdatasync that does not
  // grow the file has no size to update in the inode, one disk write fewer
  // per commit group. Needs point-in-time recovery (RocksDB's default).
  options.recycle_log_file_num = 4;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.info_log = std::make_shared<ForwardingLogger>();
  return options;
}

// Free space a reopen waits for before it tries: a fresh log file and the
// flush of what the old log holds. A sixteenth of the volume, between 1 and
// 24 MiB: a fixed 24 MiB kept a small volume (a 16 MiB tmpfs, a nearly full
// PersistentVolume) read-only until a restart. A reopen that fails anyway
// leaves a read-only handle and is tried again later.
uint64_t ReopenReserveBytes(uint64_t capacity) {
  return std::clamp<uint64_t>(capacity / 16, 1ull << 20, 24ull << 20);
}
// Between two reopen attempts that failed: each one replays the log.
constexpr std::chrono::seconds kReopenBackoff{1};

class RocksDbStorage final : public Storage {
 public:
  RocksDbStorage(rocksdb::DB* db, std::string path) : db_(db), path_(std::move(path)) {
    sync_.sync = true;
    committer_ = std::make_unique<GroupCommitter>([this](const auto& group) { return CommitGroup(group); });
  }
  ~RocksDbStorage() override {
    committer_.reset();  // answers every queued write first
    CloseLocked();
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::shared_lock l(db_mu_);
    if (!db_) return IOError("storage unavailable");
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    SB_RETURN_IF_ERROR(FromRocks(s));
    return std::optional<std::string>(std::move(v));
  }

  Status Put(std::string_view key, std::string_view value) override {
    return committer_->Commit({WriteOp::Put(std::string(key), std::string(value))});
  }

  Status Delete(std::string_view key) override { return committer_->Commit({WriteOp::Delete(std::string(key))}); }

  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::shared_lock l(db_mu_);
    if (!db_) return IOError("storage unavailable");
    std::vector<std::string> out;
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    rocksdb::Slice p(prefix.data(), prefix.size());
    for (it->Seek(p); it->Valid(); ) {
      rocksdb::Slice k = it->key();
      if (!k.starts_with(p)) break;
      std::string_view rest(k.data() + prefix.size(), k.size() - prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) {
        out.emplace_back(rest);
        it->Next();
      } else {
        // Collapse a folder and skip past everything in it: seek to the first
        // key after "<prefix><dir>/" ('/'+1 == '0').
        std::string dir(rest.substr(0, slash + 1));
        out.push_back(dir);
        std::string next = std::string(prefix) + dir;
        next.back() = '0';
        it->Seek(next);
      }
    }
    SB_RETURN_IF_ERROR(FromRocks(it->status()));
    return out;
  }

  Status Batch(const std::vector<WriteOp>& ops) override { return committer_->Commit(ops); }

  // An iterator over a RocksDB snapshot: a point in time that writes after
  // it do not change, and that blocks none of them.
  bool SupportsSnapshots() const override { return true; }
  Status ScanConsistent(const ScanVisitor& visit) override {
    std::shared_lock l(db_mu_);
    if (!db_) return IOError("storage unavailable");
    const rocksdb::Snapshot* snap = db_->GetSnapshot();
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.fill_cache = false;  // a full scan would evict the working set
    Status result = Status::Ok();
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
      for (it->SeekToFirst(); it->Valid() && result.ok(); it->Next())
        result = visit(std::string_view(it->key().data(), it->key().size()),
                       std::string_view(it->value().data(), it->value().size()));
      if (result.ok()) result = FromRocks(it->status());
    }
    db_->ReleaseSnapshot(snap);
    return result;
  }

  // One WriteBatch, so one log record: replayed whole after a crash or not
  // at all. The caller keeps other writers out meanwhile (core holds its
  // state lock exclusively).
  Status ReplaceAll(const std::vector<std::pair<std::string, std::string>>& entries) override {
    rocksdb::WriteBatch b;
    {
      std::shared_lock l(db_mu_);
      if (!db_) return IOError("storage unavailable");
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) b.Delete(it->key());
      SB_RETURN_IF_ERROR(FromRocks(it->status()));
    }
    for (const auto& [k, v] : entries) b.Put(k, v);
    return Write([&] { return db_->Write(sync_, &b); });
  }

 private:
  // Every write: the group leader's one synced RocksDB write per group.
  Status CommitGroup(const std::vector<const std::vector<WriteOp>*>& group) {
    rocksdb::WriteBatch b;
    for (const auto* ops : group)
      for (const auto& op : *ops) {
        if (op.kind == WriteOp::Kind::kPut) b.Put(op.key, op.value);
        else b.Delete(op.key);
      }
    return Write([&] { return db_->Write(sync_, &b); });
  }

  // After a failed log write (a full disk, an I/O error) this RocksDB
  // handle must not write again: its log writer stays in an error state that
  // neither Resume() nor the automatic recovery clears in 7.8, and Debian's
  // build aborts on the next append. So the handle stays read-only (reads
  // keep working) and every write answers "storage full" until the disk has
  // room again; then the database is closed and reopened (replaying the log,
  // whose acknowledged records are all intact) and writes carry on, without
  // a restart of the server.
  template <typename Fn>
  Status Write(Fn&& fn) {
    {
      std::shared_lock l(db_mu_);
      if (db_ && !broken_.load()) return Check(fn());
    }
    std::unique_lock l(db_mu_);
    if (broken_.load() || !db_) SB_RETURN_IF_ERROR(ReopenLocked());
    return Check(fn());
  }

  Status Check(const rocksdb::Status& s) {
    if (!s.ok() && !s.IsBusy() && !s.IsInvalidArgument() && !broken_.exchange(true))
      log::Error("rocksdb: writes stopped after a storage error until it clears: " + s.ToString());
    return FromRocks(s);
  }

  Status ReopenLocked() {
    std::error_code ec;
    auto space = std::filesystem::space(path_, ec);
    if (ec) return IOError("storage error");
    if (space.available < ReopenReserveBytes(space.capacity)) return StorageFull();
    const auto now = std::chrono::steady_clock::now();
    if (db_ && now - last_reopen_ < kReopenBackoff) return StorageFull();
    last_reopen_ = now;
    CloseLocked();
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::Open(MakeOptions(), path_, &db);
    if (!s.ok()) {
      log::Error("rocksdb: cannot reopen after a storage error: " + s.ToString());
      // Reads go on from a read-only handle, which writes nothing to disk.
      if (rocksdb::DB::OpenForReadOnly(MakeOptions(), path_, &db).ok()) db_ = db;
      return FromRocks(s);
    }
    db_ = db;
    broken_.store(false);
    log::Info("rocksdb: writes resumed (database reopened after a storage error)");
    return Status::Ok();
  }

  void CloseLocked() {
    if (!db_) return;
    if (!broken_.load()) db_->FlushWAL(true).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
    delete db_;
    db_ = nullptr;
  }

  std::shared_mutex db_mu_;  // shared: every operation; exclusive: reopen
  rocksdb::DB* db_;          // null only if a reopen failed
  const std::string path_;
  rocksdb::WriteOptions sync_;
  std::atomic<bool> broken_{false};
  std::chrono::steady_clock::time_point last_reopen_;  // guarded by db_mu_ (exclusive)
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenRocksDbStorage(const std::string& path) {
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(MakeOptions(), path, &db);
  if (!s.ok()) {
    log::Error("cannot open rocksdb at " + path + ": " + s.ToString());
    return IOError("cannot open storage at " + path);
  }
  return std::unique_ptr<Storage>(new RocksDbStorage(db, path));
}

}  // namespace sealbox
