#include "engines/transit/backup.h"

#include <openssl/crypto.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "engines/transit/signing_backup.h"

namespace sealbox::engines::transit {

namespace {

// keysutil.KeyType numbers.
int VaultTypeNumber(KeyType type) {
  switch (type) {
    case KeyType::kAes256Gcm96: return 0;
    case KeyType::kChaCha20Poly1305: return 5;
    case KeyType::kAes128Gcm96: return 8;
    case KeyType::kHmac: return 10;
    case KeyType::kEcdsaP256: return 1;
    case KeyType::kEd25519: return 2;
    case KeyType::kRsa2048: return 3;
    case KeyType::kRsa4096: return 4;
    case KeyType::kEcdsaP384: return 6;
    case KeyType::kEcdsaP521: return 7;
    case KeyType::kRsa3072: return 9;
  }
  return -1;
}

std::optional<KeyType> TypeFromVaultNumber(int64_t n) {
  switch (n) {
    case 0: return KeyType::kAes256Gcm96;
    case 5: return KeyType::kChaCha20Poly1305;
    case 8: return KeyType::kAes128Gcm96;
    case 10: return KeyType::kHmac;
    case 1: return KeyType::kEcdsaP256;
    case 2: return KeyType::kEd25519;
    case 3: return KeyType::kRsa2048;
    case 4: return KeyType::kRsa4096;
    case 6: return KeyType::kEcdsaP384;
    case 7: return KeyType::kEcdsaP521;
    case 9: return KeyType::kRsa3072;
    default: return std::nullopt;
  }
}

Result<Json> Entry(const KeyPolicy& p, const KeyVersion& v) {
  Json e = Json::object();
  if (IsSigning(p.type)) {
    SB_ASSIGN_OR_RETURN(e, SigningEntryFields(p.type, v.key, v.public_only));
    e["certificate_chain"] = nullptr;
  } else {
    e["key"] = crypto::Base64Encode(v.key.view());
  }
  e["hmac_key"] = crypto::Base64Encode(v.hmac_key.view());
  e["time"] = FormatRfc3339(v.created);
  e["creation_time"] = v.created;
  e["convergent_version"] = p.convergent ? 3 : 0;
  return e;
}

// One version's key material from a backup entry; an entry without a key
// (the archive's placeholder for version 0) gives nullopt.
Result<std::optional<KeyVersion>> ReadEntry(KeyType type, const Json& e) {
  if (!e.is_object()) return InvalidArgument("invalid backup: malformed key entry");
  auto key = e.find("key");
  bool signing = IsSigning(type);
  if (signing ? !EntryHasSigningKey(e) : key == e.end() || key->is_null()) return std::optional<KeyVersion>();
  auto hmac = e.find("hmac_key");
  if ((!signing && !key->is_string()) || hmac == e.end() || !hmac->is_string())
    return InvalidArgument("invalid backup: malformed key entry");
  auto h = DecodeStdBase64(hmac->get_ref<const std::string&>());
  if (!h.ok()) return InvalidArgument("invalid backup: malformed key entry");
  KeyVersion v;
  if (signing) {
    SB_ASSIGN_OR_RETURN(SigningEntryKey k, SigningKeyFromEntry(type, e));
    v.key = std::move(k.der);
    v.public_only = k.public_only;
  } else {
    auto k = DecodeStdBase64(key->get_ref<const std::string&>());
    if (!k.ok()) return InvalidArgument("invalid backup: malformed key entry");
    v.key = std::move(*k);
  }
  v.hmac_key = std::move(*h);
  auto created = e.find("creation_time");
  if (created != e.end() && created->is_number_integer()) v.created = created->get<int64_t>();
  return std::optional<KeyVersion>(std::move(v));
}

// The settings of the backed-up policy (Vault's field names).
Status ReadSettings(const Json& pol, KeyPolicy& p) {
  try {
    auto type = TypeFromVaultNumber(pol.value("type", int64_t{-1}));
    if (!type) return InvalidArgument("restoring this key type is not supported");
    p.type = *type;
    p.derived = pol.value("derived", false);
    p.convergent = pol.value("convergent_encryption", false);
    p.exportable = pol.value("exportable", false);
    p.allow_plaintext_backup = pol.value("allow_plaintext_backup", false);
    p.deletion_allowed = pol.value("deletion_allowed", false);
    p.key_size = pol.value("key_size", size_t{0});
    p.latest_version = pol.value("latest_version", 0);
    p.min_decryption_version = pol.value("min_decryption_version", 1);
    p.min_encryption_version = pol.value("min_encryption_version", 0);
    p.min_available_version = pol.value("min_available_version", 0);
    p.auto_rotate_period = pol.value("auto_rotate_period", int64_t{0}) / 1'000'000'000;
    p.imported = pol.value("Imported", false);
    p.allow_imported_rotation = pol.value("AllowImportedKeyRotation", false);
    if (p.derived && pol.value("kdf", 1) != 1) return InvalidArgument("restoring this key derivation is not supported");
    if (p.convergent && pol.value("convergent_version", -1) != -1 && pol.value("convergent_version", -1) != 3)
      return InvalidArgument("restoring this convergent encryption version is not supported");
  } catch (const std::exception&) {
    return InvalidArgument("invalid backup: malformed policy");
  }
  if (p.type == KeyType::kHmac && p.key_size == 0) p.key_size = 32;
  // Version numbers a real key can have (a backup is untrusted input).
  constexpr int kMaxVersions = 1 << 20;
  if (p.latest_version < 1 || p.latest_version > kMaxVersions || p.min_available_version < 0 ||
      p.min_available_version > p.latest_version || p.min_decryption_version < 0 ||
      p.min_decryption_version > p.latest_version || p.min_encryption_version < 0 ||
      p.min_encryption_version > p.latest_version)
    return InvalidArgument("invalid backup: inconsistent key versions");
  return Status::Ok();
}

// Every version has key material of the type's size, none is past the latest.
Status CheckVersions(const KeyPolicy& p) {
  if (p.versions.empty() || p.latest_version < 1 || p.versions.rbegin()->first > p.latest_version)
    return InvalidArgument("invalid backup: no key versions");
  for (const auto& [n, v] : p.versions) {
    size_t want = p.type == KeyType::kHmac ? p.key_size : AeadKeySize(p.type);
    if (n < 1 || (!IsSigning(p.type) && v.key.size() != want)) return InvalidArgument("invalid backup: key of the wrong size");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> BackupPolicy(const KeyPolicy& p) {
  Json keys = Json::object();
  for (const auto& [n, v] : p.versions)
    if (n >= p.min_decryption_version) {
      SB_ASSIGN_OR_RETURN(keys[std::to_string(n)], Entry(p, v));
    }
  Json archive = Json::array();
  int archive_min = p.min_available_version;
  for (int n = archive_min; n <= p.latest_version; ++n) {
    const KeyVersion* v = p.Version(n);
    if (v == nullptr) {
      archive.push_back(Json{{"key", nullptr}, {"hmac_key", nullptr}});
      continue;
    }
    SB_ASSIGN_OR_RETURN(archive.emplace_back(), Entry(p, *v));
  }
  Json policy{{"name", p.name},
              {"type", VaultTypeNumber(p.type)},
              {"keys", std::move(keys)},
              {"derived", p.derived},
              {"kdf", p.derived ? 1 : 0},
              {"convergent_encryption", p.convergent},
              {"convergent_version", p.convergent ? -1 : 0},
              {"exportable", p.exportable},
              {"allow_plaintext_backup", p.allow_plaintext_backup},
              {"deletion_allowed", p.deletion_allowed},
              {"latest_version", p.latest_version},
              {"min_decryption_version", p.min_decryption_version},
              {"min_encryption_version", p.min_encryption_version},
              {"min_available_version", p.min_available_version},
              {"archive_version", p.latest_version},
              {"archive_min_version", archive_min},
              {"auto_rotate_period", p.auto_rotate_period * 1'000'000'000},  // a Go Duration: ns
              {"Imported", p.imported},
              {"AllowImportedKeyRotation", p.allow_imported_rotation}};
  if (p.type == KeyType::kHmac) policy["key_size"] = p.key_size;
  Json doc{{"policy", std::move(policy)}, {"archived_keys", {{"keys", std::move(archive)}}}};
  std::string dumped = DumpJson(doc);
  std::string text = EmitBigNumbers(dumped);
  OPENSSL_cleanse(dumped.data(), dumped.size());
  std::string out = crypto::Base64Encode(text);
  OPENSSL_cleanse(text.data(), text.size());
  return out;
}

namespace {

// The key of a parsed backup document. REQUIRES: doc["policy"] is an object.
// May throw nlohmann's type_error on a field of the wrong type.
Result<KeyPolicy> KeyFromBackup(const Json& doc, const std::string& name) {
  const Json& pol = doc["policy"];
  KeyPolicy p;
  p.name = name.empty() ? pol.value("name", std::string()) : name;
  SB_RETURN_IF_ERROR(ReadSettings(pol, p));
  // Archived versions first, then the policy's own (the same versions, newer entries).
  const Json* archived = nullptr;
  if (auto a = doc.find("archived_keys"); a != doc.end() && a->is_object()) {
    if (auto k = a->find("keys"); k != a->end() && k->is_array()) archived = &*k;
  }
  if (archived != nullptr) {
    int base = pol.value("archive_min_version", 0);
    if (base < 0 || base > p.latest_version) return InvalidArgument("invalid backup: inconsistent key versions");
    for (size_t i = 0; i < archived->size() && base + i <= static_cast<size_t>(p.latest_version); ++i) {
      SB_ASSIGN_OR_RETURN(auto v, ReadEntry(p.type, (*archived)[i]));
      if (v) p.versions[base + static_cast<int>(i)] = std::move(*v);
    }
  }
  if (!pol.contains("keys") || !pol["keys"].is_object()) return InvalidArgument("invalid backup: no key versions");
  for (const auto& [n, e] : pol["keys"].items()) {
    SB_ASSIGN_OR_RETURN(auto v, ReadEntry(p.type, e));
    auto version = JsonToInt(Json(n));
    if (!version.ok() || *version < 1 || *version > p.latest_version)
      return InvalidArgument("invalid backup: malformed key entry");
    if (v) p.versions[static_cast<int>(*version)] = std::move(*v);
  }
  // Versions below min_available were trimmed; nothing below it may return.
  for (auto it = p.versions.begin(); it != p.versions.end() && it->first < p.min_available_version;)
    it = p.versions.erase(it);
  SB_RETURN_IF_ERROR(CheckVersions(p));
  return p;
}

}  // namespace

Result<KeyPolicy> RestorePolicy(std::string_view backup, const std::string& name) {
  auto raw = DecodeStdBase64(backup);
  if (!raw.ok()) return raw.status();
  JsonLimits limits;
  limits.max_strings = limits.max_elements = 1 << 22;
  std::string tagged = TagBigNumbers(raw->view());  // Go's big integers, kept exact
  auto doc = ParseJsonBounded(tagged, limits);
  OPENSSL_cleanse(tagged.data(), tagged.size());
  if (!doc.ok() || !doc->is_object() || !doc->contains("policy") || !(*doc)["policy"].is_object())
    return InvalidArgument("invalid backup: not a key backup");
  try {
    return KeyFromBackup(*doc, name);
  } catch (const std::exception&) {
    return InvalidArgument("invalid backup: malformed policy");
  }
}

}  // namespace sealbox::engines::transit
