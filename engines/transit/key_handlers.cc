// Key management routes: create, read, list, delete, config, rotate, trim and
// export, with Vault's (OpenBao 2.7's) answers and error words.
#include "base/crypto.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/backup.h"
#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

using logical::Response;

namespace {

constexpr size_t kDefaultHmacKeySize = 32;
constexpr size_t kMaxHmacKeySize = 512;

Response KeyBody(const PolicyPtr& p) { return Response::WithData(p->ReadView()); }

// Vault's bounds: 0 (off) or at least an hour.
Status CheckRotatePeriod(int64_t seconds) {
  if (seconds != 0 && seconds < 3600) return InvalidArgument("auto rotate period must be 0 to disable or at least an hour");
  return Status::Ok();
}

// The settings of a new key from the create request (no key material yet).
Result<KeyPolicy> NewPolicy(const std::string& name, const logical::FieldData& fd) {
  KeyPolicy p;
  p.name = name;
  SB_ASSIGN_OR_RETURN(std::string type_name, fd.GetString("type"));
  auto type = ParseKeyType(type_name);
  if (!type) return InvalidArgument("unknown key type " + type_name);
  p.type = *type;
  SB_ASSIGN_OR_RETURN(p.derived, fd.GetBool("derived"));
  SB_ASSIGN_OR_RETURN(p.convergent, fd.GetBool("convergent_encryption"));
  SB_ASSIGN_OR_RETURN(p.exportable, fd.GetBool("exportable"));
  SB_ASSIGN_OR_RETURN(p.allow_plaintext_backup, fd.GetBool("allow_plaintext_backup"));
  SB_ASSIGN_OR_RETURN(int64_t key_size, fd.GetInt("key_size"));
  SB_ASSIGN_OR_RETURN(int64_t rotate_period, fd.GetDuration("auto_rotate_period"));
  if (key_size != 0 && p.type != KeyType::kHmac)
    return InvalidArgument("key_size is not valid for algorithm " + type_name);
  if (p.type == KeyType::kHmac) {
    // OpenBao fails a hmac key without key_size with a 500; 32 is its documented minimum.
    if (key_size == 0) key_size = kDefaultHmacKeySize;
    if (key_size < static_cast<int64_t>(kDefaultHmacKeySize) || key_size > static_cast<int64_t>(kMaxHmacKeySize))
      return InvalidArgument("invalid key size for HMAC key, must be between 32 and 512 bytes");
    p.key_size = static_cast<size_t>(key_size);
  }
  if (p.convergent && p.type == KeyType::kEd25519)
    return InvalidArgument("convergent encryption not supported for keys of type " + type_name);
  if ((p.derived || p.convergent) && !SupportsDerivation(p.type))
    return InvalidArgument("key derivation and convergent encryption not supported for keys of type " + type_name);
  if (p.convergent && !p.derived) return InvalidArgument("convergent encryption requires derivation to be enabled");
  SB_RETURN_IF_ERROR(CheckRotatePeriod(rotate_period));
  p.auto_rotate_period = rotate_period;
  return p;
}

// Applies keys/<name>/config to `p` (Vault's checks, in its order).
Status ApplyConfig(const logical::FieldData& fd, KeyPolicy& p) {
  if (fd.Has("min_decryption_version")) {
    SB_ASSIGN_OR_RETURN(int64_t v, fd.GetInt("min_decryption_version"));
    if (v < 0) return InvalidArgument("min decryption version cannot be negative");
    if (v == 0) v = 1;  // versions count from 1
    if (v > p.latest_version)
      return InvalidArgument("cannot set min decryption version of " + std::to_string(v) +
                             ", latest key version is " + std::to_string(p.latest_version));
    if (v < p.min_available_version)
      return InvalidArgument("cannot set min decryption version of " + std::to_string(v) +
                             ", must be greater than or equal to min available version " +
                             std::to_string(p.min_available_version));
    p.min_decryption_version = static_cast<int>(v);
  }
  if (fd.Has("min_encryption_version")) {
    SB_ASSIGN_OR_RETURN(int64_t v, fd.GetInt("min_encryption_version"));
    if (v < 0) return InvalidArgument("min encryption version cannot be negative");
    if (v > p.latest_version)
      return InvalidArgument("cannot set min encryption version of " + std::to_string(v) +
                             ", latest key version is " + std::to_string(p.latest_version));
    p.min_encryption_version = static_cast<int>(v);
  }
  if (p.min_encryption_version > 0 && p.min_encryption_version < p.min_decryption_version)
    return InvalidArgument("cannot set min encryption/decryption values; min encryption version of " +
                           std::to_string(p.min_encryption_version) +
                           " must be greater than or equal to min decryption version of " +
                           std::to_string(p.min_decryption_version));
  if (fd.Has("deletion_allowed")) {
    SB_ASSIGN_OR_RETURN(p.deletion_allowed, fd.GetBool("deletion_allowed"));
  }
  // Once granted, export and plaintext backup stay granted (a request to
  // withdraw them is ignored, as OpenBao does): the key may already be out.
  if (fd.Has("exportable")) {
    SB_ASSIGN_OR_RETURN(bool v, fd.GetBool("exportable"));
    p.exportable = p.exportable || v;
  }
  if (fd.Has("allow_plaintext_backup")) {
    SB_ASSIGN_OR_RETURN(bool v, fd.GetBool("allow_plaintext_backup"));
    p.allow_plaintext_backup = p.allow_plaintext_backup || v;
  }
  if (fd.Has("auto_rotate_period")) {
    SB_ASSIGN_OR_RETURN(int64_t period, fd.GetDuration("auto_rotate_period"));
    SB_RETURN_IF_ERROR(CheckRotatePeriod(period));
    p.auto_rotate_period = period;
  }
  return Status::Ok();
}

// keys/<name>/trim: deletes the versions below min_available_version.
Status ApplyTrim(int64_t min_available, KeyPolicy& p) {
  if (min_available < p.min_available_version)
    return InvalidArgument("minimum available version cannot be decremented");
  if (p.min_encryption_version == 0)
    return InvalidArgument("minimum available version cannot be set when minimum encryption version is not set");
  if (p.min_decryption_version == 0)
    return InvalidArgument("minimum available version cannot be set when minimum decryption version is not set");
  if (min_available > p.min_encryption_version)
    return InvalidArgument("minimum available version cannot be greater than minmum encryption version");
  if (min_available > p.min_decryption_version)
    return InvalidArgument("minimum available version cannot be greater than minimum decryption version");
  if (min_available < 0) return InvalidArgument("minimum available version cannot be negative");
  for (auto it = p.versions.begin(); it != p.versions.end() && it->first < min_available;) it = p.versions.erase(it);
  p.min_available_version = static_cast<int>(min_available);
  return Status::Ok();
}

}  // namespace

Result<Response> TransitBackend::CreateKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(KeyPolicy fresh, NewPolicy(name, fd));
  fresh.Rotate(NowSeconds());
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.CreateIfAbsent(std::move(fresh)));
  return KeyBody(p);
}

Result<Response> TransitBackend::ReadKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
  if (!p) return Response::Empty();
  std::string context_text = fd.Get("context").is_string() ? fd.Get("context").get<std::string>() : "";
  auto context = DecodeStdBase64(context_text);
  if (!context.ok()) return InvalidArgument("failed to base64-decode context");
  return Response::WithData(p->ReadView(context->view()));
}

Result<Response> TransitBackend::ListKeys(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(auto names, keys_.List());
  if (names.empty()) return Response::Empty();
  return Response::WithData(Json{{"keys", std::move(names)}});
}

Result<Response> TransitBackend::DeleteKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_RETURN_IF_ERROR(keys_.Delete(name, [&](const KeyPolicy* p) -> Status {
    if (p == nullptr) return InvalidArgument("error deleting policy " + name + ": could not delete key; not found");
    if (!p->deletion_allowed)
      return InvalidArgument("error deleting policy " + name + ": deletion is not allowed for this key");
    return Status::Ok();
  }));
  return Response::Empty();
}

Result<Response> TransitBackend::ConfigKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Update(name, "no existing key named " + name + " could be found",
                                                [&](KeyPolicy& k) { return ApplyConfig(fd, k); }));
  return KeyBody(p);
}

Result<Response> TransitBackend::RotateKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  int64_t now = NowSeconds();
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Update(name, "key not found", [&](KeyPolicy& k) -> Status {
    if (k.imported && !k.allow_imported_rotation)
      return InvalidArgument("imported key " + name + " does not allow rotation within Vault");
    k.Rotate(now);
    return Status::Ok();
  }));
  return KeyBody(p);
}

Status TransitBackend::RotateDueKeys() {
  SB_ASSIGN_OR_RETURN(std::vector<std::string> names, keys_.List());
  for (const auto& name : names) {
    SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
    int64_t now = NowSeconds();
    if (!p || !p->RotationDue(now)) continue;
    // Checked again under the store's lock: a manual rotation may have won.
    auto rotated = keys_.Update(name, "key not found", [&](KeyPolicy& k) {
      if (k.RotationDue(now)) k.Rotate(now);
      return Status::Ok();
    });
    if (!rotated.ok() && rotated.status().code() != StatusCode::kInvalidArgument) return rotated.status();
  }
  return Status::Ok();
}

Result<Response> TransitBackend::TrimKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  if (!fd.Has("min_available_version")) return InvalidArgument("missing min_available_version");
  SB_ASSIGN_OR_RETURN(int64_t min_available, fd.GetInt("min_available_version"));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Update(name, "invalid key name",
                                                [&](KeyPolicy& k) { return ApplyTrim(min_available, k); }));
  return KeyBody(p);
}

Result<Response> TransitBackend::ExportKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(std::string type, fd.GetString("type"));
  if (type != "encryption-key" && type != "hmac-key" && type != "signing-key" && type != "public-key")
    return InvalidArgument("invalid export type: " + type);
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
  if (!p) return Response::Empty();
  if (!p->exportable && type != "public-key") return InvalidArgument("private key material is not exportable");
  if (type == "encryption-key" && !SupportsEncryption(p->type)) return InvalidArgument("encryption not supported for the key");
  if (type == "signing-key" && !IsSigning(p->type)) return InvalidArgument("signing not supported for the key");
  if (type == "public-key" && !IsSigning(p->type))
    return InvalidArgument("unknown key type " + std::string(KeyTypeName(p->type)) + " for export type public-key");

  // Key material by export type: raw base64 for symmetric keys, PEM for signing keys.
  auto material = [&](const KeyVersion& v) -> Result<std::string> {
    if (type == "public-key") return PublicKeyText(p->type, v.key);
    if (v.public_only) return std::string();  // as Vault: no private half to give
    if (type == "signing-key" || (type == "encryption-key" && IsRsa(p->type))) return PrivateKeyPem(v.key);
    return crypto::Base64Encode((type == "hmac-key" ? MacKey(*p, v) : v.key).view());
  };
  Json keys = Json::object();
  std::string version = fd.Get("version").is_string() ? fd.Get("version").get<std::string>() : "";
  if (version.empty()) {
    for (const auto& [v, kv] : p->versions) {
      SB_ASSIGN_OR_RETURN(keys[std::to_string(v)], material(kv));
    }
  } else {
    int v = p->latest_version;
    if (version != "latest") {
      auto parsed = JsonToInt(Json(version));
      v = parsed.ok() ? static_cast<int>(*parsed) : 0;
    }
    const KeyVersion* kv = p->Version(v);
    if (kv == nullptr) return InvalidArgument("version does not exist or cannot be found");
    SB_ASSIGN_OR_RETURN(keys[std::to_string(v)], material(*kv));
  }
  return Response::WithData(Json{{"name", p->name}, {"type", KeyTypeName(p->type)}, {"keys", std::move(keys)}});
}

Result<Response> TransitBackend::BackupKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "key \"" + name + "\" not found"));
  if (!p->exportable) return InvalidArgument("exporting is disallowed on the policy");
  if (!p->allow_plaintext_backup) return InvalidArgument("plaintext backup is disallowed on the policy");
  SB_ASSIGN_OR_RETURN(std::string backup, BackupPolicy(*p));
  return Response::WithData(Json{{"backup", std::move(backup)}});
}

Result<Response> TransitBackend::RestoreKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string backup, fd.GetString("backup"));
  if (backup.empty()) return InvalidArgument("'backup' must be supplied");
  std::string name;
  if (fd.Get("name").is_string()) {
    SB_ASSIGN_OR_RETURN(name, fields::KeyName(fd));
  }
  SB_ASSIGN_OR_RETURN(bool force, fd.GetBool("force"));
  SB_ASSIGN_OR_RETURN(KeyPolicy restored, RestorePolicy(backup, name));
  if (!fields::ValidKeyName(restored.name)) return InvalidArgument("invalid key name");
  SB_RETURN_IF_ERROR(keys_.Restore(std::move(restored), force).status());
  return Response::Empty();
}

}  // namespace sealbox::engines::transit
