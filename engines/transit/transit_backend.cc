#include "engines/transit/transit_backend.h"

#include <cctype>

#include "base/log.h"

namespace sealbox::engines::transit {

using logical::FieldSpec;
using logical::FieldType;
using logical::Operation;
using logical::PathSpec;
using logical::RunMode;

namespace {

// The fields of one encryption-like item, accepted at the top level too.
std::vector<FieldSpec> ItemFields(std::initializer_list<const char*> names) {
  std::vector<FieldSpec> out = {{"name", FieldType::kString}, {"batch_input", FieldType::kAny},
                                {"context", FieldType::kString}, {"key_version", FieldType::kInt},
                                {"associated_data", FieldType::kString}, {"reference", FieldType::kString},
                                {"nonce", FieldType::kString}, {"partial_failure_response_code", FieldType::kInt}};
  for (const char* n : names) out.push_back({n, FieldType::kAny});
  return out;
}

}  // namespace

TransitBackend::TransitBackend(const logical::BackendConfig& config) : config_(config), keys_(config.storage) {
  auto bind = [this](Resp (TransitBackend::*fn)(Req&, Fd&)) {
    return [this, fn](Req& r, Fd& f) { return (this->*fn)(r, f); };
  };
  const std::vector<FieldSpec> key_fields = {
      {"name", FieldType::kString},          {"type", FieldType::kString, "aes256-gcm96"},
      {"derived", FieldType::kBool},         {"convergent_encryption", FieldType::kBool},
      {"exportable", FieldType::kBool},      {"allow_plaintext_backup", FieldType::kBool},
      {"key_size", FieldType::kInt, 0},      {"auto_rotate_period", FieldType::kDuration, 0},
      {"context", FieldType::kString}};
  const std::vector<FieldSpec> config_fields = {
      {"name", FieldType::kString},           {"min_decryption_version", FieldType::kInt},
      {"min_encryption_version", FieldType::kInt}, {"deletion_allowed", FieldType::kBool},
      {"exportable", FieldType::kBool},       {"allow_plaintext_backup", FieldType::kBool},
      {"auto_rotate_period", FieldType::kDuration}};
  const std::vector<FieldSpec> mac_fields = {
      {"name", FieldType::kString},       {"urlalgorithm", FieldType::kString},
      {"algorithm", FieldType::kString, "sha2-256"}, {"hash_algorithm", FieldType::kString},
      {"input", FieldType::kString}, {"hmac", FieldType::kString},       {"signature", FieldType::kString},
      {"key_version", FieldType::kInt},   {"batch_input", FieldType::kAny},
      {"reference", FieldType::kString},  {"context", FieldType::kString},
      {"prehashed", FieldType::kBool},    {"signature_algorithm", FieldType::kString},
      {"marshaling_algorithm", FieldType::kString}, {"salt_length", FieldType::kString}};
  const std::vector<FieldSpec> random_fields = {{"urlbytes", FieldType::kString}, {"source", FieldType::kString},
                                                {"bytes", FieldType::kInt, 32},
                                                {"format", FieldType::kString, "base64"}};
  const std::vector<FieldSpec> hash_fields = {{"urlalgorithm", FieldType::kString},
                                              {"algorithm", FieldType::kString, "sha2-256"},
                                              {"input", FieldType::kString},
                                              {"format", FieldType::kString, "hex"}};
  const std::vector<FieldSpec> datakey_fields = {
      {"plaintext", FieldType::kString}, {"name", FieldType::kString},    {"context", FieldType::kString},
      {"nonce", FieldType::kString},     {"bits", FieldType::kInt, 256}, {"key_version", FieldType::kInt}};
  const std::vector<FieldSpec> export_fields = {
      {"type", FieldType::kString}, {"name", FieldType::kString}, {"version", FieldType::kString}};
  auto update = [&](const char* pattern, std::vector<FieldSpec> fields, Resp (TransitBackend::*fn)(Req&, Fd&)) {
    // Cipher work computes; it writes only when encrypt creates its key.
    return PathSpec{.pattern = pattern, .fields = std::move(fields), .ops = {{Operation::kUpdate, bind(fn)}},
                    .run_mode = RunMode::kComputes};
  };
  // Encrypting under a missing key creates it, so ACLs see a create (Vault's existence check).
  PathSpec encrypt = update("encrypt/{name}", ItemFields({"plaintext", "type", "convergent_encryption"}),
                            &TransitBackend::Encrypt);
  encrypt.exists = [this](Req&, Fd& fd) -> Result<bool> {
    const Json& name = fd.Get("name");
    if (!name.is_string()) return false;
    SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name.get<std::string>()));
    return p != nullptr;
  };
  SetRoutes({
      {.pattern = "keys/", .ops = {{Operation::kList, bind(&TransitBackend::ListKeys)}}},
      {.pattern = "keys", .ops = {{Operation::kList, bind(&TransitBackend::ListKeys)}}},
      {.pattern = "keys/{name}/config",
       .fields = config_fields,
       .ops = {{Operation::kUpdate, bind(&TransitBackend::ConfigKey)}}},
      {.pattern = "keys/{name}/rotate",
       .fields = {{"name", FieldType::kString}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::RotateKey)}}},
      {.pattern = "keys/{name}/trim",
       .fields = {{"name", FieldType::kString}, {"min_available_version", FieldType::kInt}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::TrimKey)}}},
      {.pattern = "wrapping_key", .ops = {{Operation::kRead, bind(&TransitBackend::WrappingKey)}}},
      {.pattern = "keys/{name}/import",
       .fields = {{"name", FieldType::kString}, {"ciphertext", FieldType::kString},
                  {"hash_function", FieldType::kString, "SHA256"}, {"type", FieldType::kString, "aes256-gcm96"},
                  {"allow_rotation", FieldType::kBool}, {"derived", FieldType::kBool},
                  {"context", FieldType::kString}, {"exportable", FieldType::kBool},
                  {"allow_plaintext_backup", FieldType::kBool}, {"auto_rotate_period", FieldType::kDuration, 0},
                  {"public_key", FieldType::kString}, {"convergent_encryption", FieldType::kBool}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::ImportKey)}}},
      {.pattern = "keys/{name}/import_version",
       .fields = {{"name", FieldType::kString}, {"ciphertext", FieldType::kString},
                  {"hash_function", FieldType::kString, "SHA256"}, {"public_key", FieldType::kString},
                  {"version", FieldType::kInt}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::ImportKeyVersion)}}},
      {.pattern = "keys/{name}",
       .fields = key_fields,
       .ops = {{Operation::kUpdate, bind(&TransitBackend::CreateKey)},
               {Operation::kRead, bind(&TransitBackend::ReadKey)},
               {Operation::kDelete, bind(&TransitBackend::DeleteKey)}}},
      std::move(encrypt),
      update("decrypt/{name}", ItemFields({"ciphertext"}), &TransitBackend::Decrypt),
      update("rewrap/{name}", ItemFields({"ciphertext"}), &TransitBackend::Rewrap),
      update("datakey/{plaintext}/{name}", datakey_fields, &TransitBackend::DataKey),
      update("hmac/{name}/{urlalgorithm}", mac_fields, &TransitBackend::HmacInput),
      update("hmac/{name}", mac_fields, &TransitBackend::HmacInput),
      update("sign/{name}/{urlalgorithm}", mac_fields, &TransitBackend::SignInput),
      update("sign/{name}", mac_fields, &TransitBackend::SignInput),
      update("verify/{name}/{urlalgorithm}", mac_fields, &TransitBackend::Verify),
      update("verify/{name}", mac_fields, &TransitBackend::Verify),
      update("hash/{urlalgorithm}", hash_fields, &TransitBackend::Hash),
      update("hash", hash_fields, &TransitBackend::Hash),
      update("random/{source}/{urlbytes}", random_fields, &TransitBackend::Random),
      update("random/{urlbytes}", random_fields, &TransitBackend::Random),
      update("random", random_fields, &TransitBackend::Random),
      {.pattern = "backup/{name}",
       .fields = {{"name", FieldType::kString}},
       .ops = {{Operation::kRead, bind(&TransitBackend::BackupKey)}}},
      {.pattern = "restore/{name}",
       .fields = {{"name", FieldType::kString}, {"backup", FieldType::kString}, {"force", FieldType::kBool, false}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::RestoreKey)}}},
      {.pattern = "restore",
       .fields = {{"name", FieldType::kString}, {"backup", FieldType::kString}, {"force", FieldType::kBool, false}},
       .ops = {{Operation::kUpdate, bind(&TransitBackend::RestoreKey)}}},
      {.pattern = "export/{type}/{name}/{version}",
       .fields = export_fields,
       .ops = {{Operation::kRead, bind(&TransitBackend::ExportKey)}}},
      {.pattern = "export/{type}/{name}",
       .fields = export_fields,
       .ops = {{Operation::kRead, bind(&TransitBackend::ExportKey)}}},
  });
  // Key reads come from the decoded cache (or one local read on a miss).
  SetRunModes(RunMode::kComputes, RunMode::kWaits);
  rotator_ = std::thread([this] { RotateLoop(); });
}

Result<PolicyPtr> TransitBackend::MustGet(const std::string& name, const std::string& missing) {
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
  if (!p) return InvalidArgument(missing);
  return p;
}

TransitBackend::~TransitBackend() {
  {
    std::lock_guard<std::mutex> lock(rotate_mu_);
    stopping_ = true;
  }
  rotate_cv_.notify_all();
  if (rotator_.joinable()) rotator_.join();
}

void TransitBackend::RotateLoop() {
  constexpr auto kInterval = std::chrono::minutes(1);
  std::unique_lock<std::mutex> lock(rotate_mu_);
  while (!rotate_cv_.wait_for(lock, kInterval, [this] { return stopping_; })) {
    lock.unlock();
    if (Status st = RotateDueKeys(); !st.ok() && st.code() != StatusCode::kSealed)
      log::Warn("transit: automatic key rotation failed: " + st.message());
    lock.lock();
  }
}

int64_t TransitBackend::NowSeconds() const {
  return config_.clock ? config_.clock->NowSeconds() : SystemClock::Default()->NowSeconds();
}

namespace fields {

bool ValidKeyName(const std::string& name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (name.empty() || !word(name.front()) || !word(name.back())) return false;
  for (char c : name)
    if (!word(c) && c != '-' && c != '.') return false;
  return true;
}

Result<std::string> KeyName(const logical::FieldData& fd) {
  std::string name = fd.Get("name").is_string() ? fd.Get("name").get<std::string>() : "";
  if (!ValidKeyName(name)) return NotFound("unsupported path");
  return name;
}

Result<Json> BatchItems(const logical::FieldData& fd) {
  if (!fd.Has("batch_input")) return Json::array({fd.raw()});
  const Json& items = fd.Get("batch_input");
  if (!items.is_array())
    return InvalidArgument("failed to parse batch input: source data must be an array or slice");
  if (items.empty()) return InvalidArgument("missing batch input to process");
  for (const Json& item : items)
    if (!item.is_object()) return InvalidArgument("failed to parse batch input: items must be objects");
  return items;
}

Result<std::string> ItemString(const Json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return std::string();
  auto s = JsonToString(*it);
  if (!s.ok()) return InvalidArgument(std::string("invalid value for '") + key + "'");
  return s;
}

Result<int64_t> ItemInt(const Json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return int64_t{0};
  auto v = JsonToInt(*it);
  if (!v.ok()) return InvalidArgument(std::string("invalid value for '") + key + "'");
  return v;
}

Result<SecureBytes> ItemBase64(const Json& item, const char* key) {
  SB_ASSIGN_OR_RETURN(std::string text, ItemString(item, key));
  return DecodeStdBase64(text);
}

}  // namespace fields

}  // namespace sealbox::engines::transit
