#include "engines/kv/kv_v2_meta.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "base/saturating.h"

namespace sealbox::engines::kv {

Json Config::ToJson() const {
  return Json{{"max_versions", max_versions}, {"cas_required", cas_required},
              {"delete_version_after", delete_version_after}};
}

Result<Config> Config::FromJson(const Json& j) {
  Config c;
  try {
    c.max_versions = j.value("max_versions", uint64_t{0});
    c.cas_required = j.value("cas_required", false);
    c.delete_version_after = j.value("delete_version_after", int64_t{0});
  } catch (const std::exception&) {
    return Corruption("kv config malformed");
  }
  return c;
}

Json KeyMeta::ToJson() const {
  Json v = Json::object();
  for (const auto& [n, vm] : versions)
    v[std::to_string(n)] = Json{{"created_time", vm.created}, {"deletion_time", vm.deletion},
                                {"destroyed", vm.destroyed}};
  return Json{{"key_id", key_id},
              {"created_time", created},
              {"updated_time", updated},
              {"current_version", current},
              {"oldest_version", oldest},
              {"max_versions", max_versions},
              {"cas_required", cas_required},
              {"delete_version_after", delete_version_after},
              {"custom_metadata", custom_metadata},
              {"versions", v}};
}

Result<KeyMeta> KeyMeta::FromJson(const Json& j) {
  KeyMeta m;
  try {
    m.key_id = j.at("key_id").get<std::string>();
    m.created = j.value("created_time", int64_t{0});
    m.updated = j.value("updated_time", int64_t{0});
    m.current = j.value("current_version", uint64_t{0});
    m.oldest = j.value("oldest_version", uint64_t{0});
    m.max_versions = j.value("max_versions", uint64_t{0});
    m.cas_required = j.value("cas_required", false);
    m.delete_version_after = j.value("delete_version_after", int64_t{0});
    m.custom_metadata = j.value("custom_metadata", Json(nullptr));
    for (auto& [k, v] : j.at("versions").items()) {
      VersionMeta vm;
      vm.created = v.value("created_time", int64_t{0});
      vm.deletion = v.value("deletion_time", int64_t{0});
      vm.destroyed = v.value("destroyed", false);
      m.versions[std::stoull(k)] = vm;
    }
  } catch (const std::exception&) {
    return Corruption("kv metadata malformed");
  }
  if (m.key_id.empty()) return Corruption("kv metadata malformed");
  return m;
}

Json KeyMeta::VersionsApiJson() const {
  Json v = Json::object();
  for (const auto& [n, vm] : versions)
    v[std::to_string(n)] = Json{{"created_time", Timestamp(vm.created)},
                                {"deletion_time", Timestamp(vm.deletion)},
                                {"destroyed", vm.destroyed}};
  return v;
}

Json KeyMeta::VersionApiJson(uint64_t n, const VersionMeta& vm) const {
  // Member by member: an initializer list copies each value once more (every read builds one).
  Json j = Json::object();
  auto& o = j.get_ref<Json::object_t&>();
  o.emplace("version", n);
  o.emplace("created_time", Timestamp(vm.created));
  o.emplace("deletion_time", Timestamp(vm.deletion));
  o.emplace("destroyed", vm.destroyed);
  o.emplace("custom_metadata", custom_metadata);
  return j;
}

KeyMeta NewKeyMeta(int64_t now) {
  KeyMeta m;
  m.key_id = crypto::HexEncode(crypto::RandomBytes(12).view());
  m.created = now;
  m.updated = now;
  return m;
}

int64_t DeletionTime(int64_t from_nanos, const Config& cfg, const KeyMeta& meta) {
  if (cfg.delete_version_after < 0) return 0;
  int64_t mount = cfg.delete_version_after, key = meta.delete_version_after > 0 ? meta.delete_version_after : 0;
  if (mount == 0 && key == 0) return 0;
  int64_t min = key;
  if ((mount != 0 && mount < min) || min == 0) min = mount;
  return AddSeconds(from_nanos, min);
}

std::string Timestamp(int64_t nanos) { return nanos ? FormatRfc3339Nano(nanos) : std::string(); }

std::string PathOf(const logical::FieldData& fd) {
  const Json& p = fd.Get("path");
  return p.is_string() ? p.get<std::string>() : std::string();
}

Result<int64_t> NonNegativeInt(const logical::FieldData& fd, const std::string& name) {
  SB_ASSIGN_OR_RETURN(int64_t v, fd.GetInt(name));
  if (v < 0) return InvalidArgument("\"" + name + "\" must be a non-negative integer");
  return v;
}

logical::Response NotFoundWithStatusOnly() {
  logical::Response r;
  r.http_status = 404;
  return r;
}

}  // namespace sealbox::engines::kv
