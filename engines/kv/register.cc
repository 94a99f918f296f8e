#include "engines/kv/register.h"

#include <memory>

#include "base/crypto.h"
#include "base/log.h"
#include "engines/kv/kv_v1.h"
#include "engines/kv/kv_v2.h"
#include "storage/storage.h"

namespace sealbox::engines::kv {

logical::BackendFactory Factory() {
  return [](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    if (!cfg.storage) return InvalidArgument("kv backend needs a storage view");
    std::string version;
    if (cfg.options.is_object()) {
      auto it = cfg.options.find("version");
      if (it != cfg.options.end() && !it->is_null()) {
        auto v = JsonToString(*it);
        if (!v.ok()) return InvalidArgument("invalid kv version");
        version = *v;
      }
    }
    if (version.empty() || version == "1") {
      return std::unique_ptr<logical::Backend>(std::make_unique<KvV1Backend>(cfg, KvV1Backend::Mode::kKv));
    }
    if (version == "2") {
      auto b = std::make_unique<KvV2Backend>(cfg);
      Status s = b->MigrateFromV1();
      if (!s.ok()) {
        log::Error("kv: upgrading " + cfg.mount_path + " to version 2 failed: " + s.message());
        return s;
      }
      return std::unique_ptr<logical::Backend>(std::move(b));
    }
    return InvalidArgument("invalid kv version: " + version);
  };
}

logical::BackendFactory CubbyholeFactory() {
  return [](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    if (!cfg.storage) return InvalidArgument("cubbyhole backend needs a storage view");
    return std::unique_ptr<logical::Backend>(std::make_unique<KvV1Backend>(cfg, KvV1Backend::Mode::kCubbyhole));
  };
}

Status DeleteCubbyhole(Storage* view, const std::string& storage_id) {
  if (!view || storage_id.empty()) return Status::Ok();
  // Same prefix rule as KvV1Backend::BasePrefix.
  std::string prefix =
      storage_id.find('/') != std::string::npos ? crypto::HexEncode(storage_id) + "/" : storage_id + "/";
  return DeletePrefix(*view, prefix);
}

}  // namespace sealbox::engines::kv
