#include "storage/rocksdb_storage.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include "base/log.h"

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

class RocksDbStorage final : public Storage {
 public:
  explicit RocksDbStorage(rocksdb::DB* db) : db_(db) { sync_.sync = true; }
  ~RocksDbStorage() override {
    if (db_) {
      db_->FlushWAL(true).PermitUncheckedError();
      db_->Close().PermitUncheckedError();
      delete db_;
    }
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    SB_RETURN_IF_ERROR(FromRocks(s));
    return std::optional<std::string>(std::move(v));
  }

  Status Put(std::string_view key, std::string_view value) override {
    return FromRocks(db_->Put(sync_, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())));
  }

  Status Delete(std::string_view key) override {
    return FromRocks(db_->Delete(sync_, rocksdb::Slice(key.data(), key.size())));
  }

  Result<std::vector<std::string>> List(std::string_view prefix) override {
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

  Status Batch(const std::vector<WriteOp>& ops) override {
    rocksdb::WriteBatch b;
    for (const auto& op : ops) {
      if (op.kind == WriteOp::Kind::kPut) b.Put(op.key, op.value);
      else b.Delete(op.key);
    }
    return FromRocks(db_->Write(sync_, &b));
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteOptions sync_;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenRocksDbStorage(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.max_open_files = 256;
  // Keep the process small: a vault's working set is tiny.
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The engine's own info log would otherwise be written into the data dir.
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(options, path, &db);
  if (!s.ok()) {
    log::Error("cannot open rocksdb at " + path + ": " + s.ToString());
    return IOError("cannot open storage at " + path);
  }
  return std::unique_ptr<Storage>(new RocksDbStorage(db));
}

}  // namespace sealbox
