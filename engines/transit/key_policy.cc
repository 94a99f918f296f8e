#include "engines/transit/key_policy.h"

#include <charconv>
#include <cstring>

#include "base/clock.h"
#include "base/crypto.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/rsa_encryption.h"

namespace sealbox::engines::transit {

namespace {

constexpr std::string_view kMagic = "SBTK\x01";
constexpr size_t kHmacKeySize = 32;
constexpr std::string_view kVersionPrefix = "vault:v";

void PutU32(SecureBytes& out, uint32_t v) {
  uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  out.Append(b, 4);
}

void PutBytes(SecureBytes& out, const uint8_t* p, size_t n) {
  PutU32(out, static_cast<uint32_t>(n));
  out.Append(p, n);
}

// Reads the encoded policy front to back; any overrun fails the whole read.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    auto b = reinterpret_cast<const uint8_t*>(in_.data());
    *v = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    in_.remove_prefix(4);
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint32_t n = 0;
    if (!U32(&n) || in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

Json Settings(const KeyPolicy& p) {
  Json created = Json::object();
  Json public_only = Json::array();
  for (const auto& [v, kv] : p.versions) {
    created[std::to_string(v)] = kv.created;
    if (kv.public_only) public_only.push_back(v);
  }
  return Json{{"name", p.name},
              {"type", KeyTypeName(p.type)},
              {"derived", p.derived},
              {"convergent", p.convergent},
              {"exportable", p.exportable},
              {"allow_plaintext_backup", p.allow_plaintext_backup},
              {"deletion_allowed", p.deletion_allowed},
              {"key_size", p.key_size},
              {"latest_version", p.latest_version},
              {"min_decryption_version", p.min_decryption_version},
              {"min_encryption_version", p.min_encryption_version},
              {"min_available_version", p.min_available_version},
              {"auto_rotate_period", p.auto_rotate_period},
              {"imported", p.imported},
              {"allow_imported_rotation", p.allow_imported_rotation},
              {"public_only", public_only},
              {"created", created}};
}

Status ApplySettings(const Json& j, KeyPolicy* p) {
  try {
    auto type = ParseKeyType(j.at("type").get<std::string>());
    if (!type) return Corruption("transit key: unknown type");
    p->name = j.at("name").get<std::string>();
    p->type = *type;
    p->derived = j.at("derived").get<bool>();
    p->convergent = j.at("convergent").get<bool>();
    p->exportable = j.at("exportable").get<bool>();
    p->allow_plaintext_backup = j.at("allow_plaintext_backup").get<bool>();
    p->deletion_allowed = j.at("deletion_allowed").get<bool>();
    p->key_size = j.at("key_size").get<size_t>();
    p->latest_version = j.at("latest_version").get<int>();
    p->min_decryption_version = j.at("min_decryption_version").get<int>();
    p->min_encryption_version = j.at("min_encryption_version").get<int>();
    p->min_available_version = j.at("min_available_version").get<int>();
    // Absent in keys stored before they existed.
    p->auto_rotate_period = j.value("auto_rotate_period", int64_t{0});
    p->imported = j.value("imported", false);
    p->allow_imported_rotation = j.value("allow_imported_rotation", false);
    for (const auto& [v, created] : j.at("created").items()) p->versions[std::stoi(v)].created = created.get<int64_t>();
    for (const Json& v : j.value("public_only", Json::array())) {
      auto it = p->versions.find(v.get<int>());
      if (it == p->versions.end()) return Corruption("transit key: malformed settings");
      it->second.public_only = true;
    }
  } catch (const std::exception&) {
    return Corruption("transit key: malformed settings");
  }
  return Status::Ok();
}

// The encryption key (and, for convergent keys, the nonce's HMAC key) of a
// version, derived from the context when the policy is derived.
struct CipherKeys {
  SecureBytes enc;
  SecureBytes nonce_mac;
};

Result<CipherKeys> KeysFor(const KeyPolicy& p, const KeyVersion& v, std::string_view context, bool for_encrypt) {
  CipherKeys out;
  if (!p.derived) {
    out.enc = v.key;
    return out;
  }
  if (context.empty())
    return InvalidArgument(
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, "
        "per-request information must be included in order to perform operations with the key");
  size_t enc = AeadKeySize(p.type);
  bool convergent = p.convergent && for_encrypt;
  // HKDF output is a prefix-stable stream: the first `enc` bytes are the same
  // key whether or not the convergent MAC key follows (Vault derives both at once).
  SecureBytes okm = HkdfSha256(v.key, context, enc + (convergent ? kHmacKeySize : 0));
  out.enc = SecureBytes(okm.data(), enc);
  if (convergent) out.nonce_mac = SecureBytes(okm.data() + enc, kHmacKeySize);
  return out;
}

}  // namespace

void KeyPolicy::Rotate(int64_t now_unix) {
  KeyVersion v;
  v.created = now_unix;
  v.hmac_key = crypto::RandomBytes(kHmacKeySize);
  if (IsSigning(type))
    v.key = GenerateSigningKey(type);
  else
    v.key = crypto::RandomBytes(type == KeyType::kHmac ? key_size : AeadKeySize(type));
  versions[++latest_version] = std::move(v);
  if (min_decryption_version == 0) min_decryption_version = 1;
  imported = false;  // as Vault: a version made here makes the key no longer (only) imported
}

bool KeyPolicy::RotationDue(int64_t now_unix) const {
  if (auto_rotate_period <= 0 || (imported && !allow_imported_rotation)) return false;
  const KeyVersion* latest = Version(latest_version);
  return latest && now_unix - latest->created >= auto_rotate_period;
}

const KeyVersion* KeyPolicy::Version(int v) const {
  auto it = versions.find(v);
  return it == versions.end() ? nullptr : &it->second;
}

namespace {

// A version's public key as a read shows it ("" when it cannot be had).
std::string VersionPublicKey(const KeyPolicy& p, const KeyVersion& kv, std::string_view context) {
  if (!p.derived) {
    auto pub = PublicKeyText(p.type, kv.key);
    return pub.ok() ? *pub : "";
  }
  if (context.empty()) return "";
  auto derived = DeriveEd25519(kv.key, context);
  auto pub = derived.ok() ? PublicKeyText(p.type, *derived) : Result<std::string>(derived.status());
  return pub.ok() ? *pub : "";
}

}  // namespace

Json KeyPolicy::ReadView(std::string_view context) const {
  bool aead = IsAead(type);
  bool signing = IsSigning(type);
  Json out{{"name", name},
           {"type", KeyTypeName(type)},
           {"allow_plaintext_backup", allow_plaintext_backup},
           {"auto_rotate_period", auto_rotate_period},
           {"deletion_allowed", deletion_allowed},
           {"derived", derived},
           {"exportable", exportable},
           {"imported_key", imported},
           {"latest_version", latest_version},
           {"min_available_version", min_available_version},
           {"min_decryption_version", min_decryption_version},
           {"min_encryption_version", min_encryption_version},
           {"soft_deleted", false},
           {"supports_decryption", SupportsEncryption(type)},
           {"supports_derivation", SupportsDerivation(type)},
           {"supports_encryption", SupportsEncryption(type)},
           {"supports_signing", signing}};
  if (aead || signing) {
    Json keys = Json::object();
    for (const auto& [v, kv] : versions) {
      if (v < min_decryption_version) continue;
      if (aead) {
        keys[std::to_string(v)] = kv.created;
        continue;
      }
      // Signing keys show each version's public key, as Vault does.
      keys[std::to_string(v)] = Json{{"certificate_chain", ""},
                                     {"creation_time", FormatRfc3339(kv.created)},
                                     {"name", SigningKeyName(type)},
                                     {"public_key", VersionPublicKey(*this, kv, context)}};
    }
    out["keys"] = std::move(keys);
  } else {
    out["key_size"] = key_size;
  }
  if (derived) {
    out["kdf"] = "hkdf_sha256";
    out["convergent_encryption"] = convergent;
  }
  if (convergent) out["convergent_encryption_version"] = -1;
  if (imported) out["imported_key_allow_rotation"] = allow_imported_rotation;
  return out;
}

SecureBytes EncodePolicy(const KeyPolicy& p) {
  SecureBytes out(reinterpret_cast<const uint8_t*>(kMagic.data()), kMagic.size());
  std::string settings = DumpJson(Settings(p));
  PutBytes(out, reinterpret_cast<const uint8_t*>(settings.data()), settings.size());
  for (const auto& [v, kv] : p.versions) {
    PutU32(out, static_cast<uint32_t>(v));
    PutBytes(out, kv.key.data(), kv.key.size());
    PutBytes(out, kv.hmac_key.data(), kv.hmac_key.size());
  }
  return out;
}

Result<KeyPolicy> DecodePolicy(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return Corruption("transit key: unknown format");
  Reader r(bytes.substr(kMagic.size()));
  std::string_view settings;
  if (!r.Bytes(&settings)) return Corruption("transit key: truncated");
  // A stored entry: bounded by what this code writes (a key's versions), not a request's limits.
  JsonLimits limits;
  limits.max_strings = limits.max_elements = 1 << 22;
  auto j = ParseJsonBounded(settings, limits);
  if (!j.ok()) return Corruption("transit key: malformed settings");
  KeyPolicy p;
  SB_RETURN_IF_ERROR(ApplySettings(*j, &p));
  while (!r.done()) {
    uint32_t v = 0;
    std::string_view key, hmac_key;
    if (!r.U32(&v) || !r.Bytes(&key) || !r.Bytes(&hmac_key)) return Corruption("transit key: truncated");
    auto it = p.versions.find(static_cast<int>(v));
    if (it == p.versions.end()) return Corruption("transit key: version without settings");
    it->second.key = SecureBytes(key);
    it->second.hmac_key = SecureBytes(hmac_key);
  }
  for (const auto& [v, kv] : p.versions)
    if (kv.key.empty()) return Corruption("transit key: version without key material");
  return p;
}

VersionedValue SplitVersioned(std::string_view value) {
  VersionedValue out;
  if (value.substr(0, kVersionPrefix.size()) != kVersionPrefix) {
    out.error = VersionedValue::Error::kNoPrefix;
    return out;
  }
  value.remove_prefix(kVersionPrefix.size());
  size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    out.error = VersionedValue::Error::kFieldCount;
    return out;
  }
  std::string_view num = value.substr(0, colon);
  // strconv.Atoi: an optional sign, then decimal digits only.
  std::string_view digits = !num.empty() && (num[0] == '+' || num[0] == '-') ? num.substr(1) : num;
  auto [end, ec] = std::from_chars(num.data() + (num.size() - digits.size()), num.data() + num.size(), out.version);
  if (digits.empty() || ec != std::errc() || end != num.data() + num.size()) {
    out.error = VersionedValue::Error::kBadVersion;
    return out;
  }
  if (!num.empty() && num[0] == '-') out.version = -out.version;
  out.payload = value.substr(colon + 1);
  return out;
}

Result<VersionedValue> ParseVersioned(std::string_view value, std::string_view label,
                                      std::string_view no_prefix_label) {
  VersionedValue parts = SplitVersioned(value);
  switch (parts.error) {
    case VersionedValue::Error::kNoPrefix: return InvalidArgument(std::string(no_prefix_label) + ": no prefix");
    case VersionedValue::Error::kFieldCount: return InvalidArgument(std::string(label) + ": wrong number of fields");
    case VersionedValue::Error::kBadVersion:
      return InvalidArgument(std::string(label) + ": version number could not be decoded");
    case VersionedValue::Error::kNone: break;
  }
  return parts;
}

std::string VersionPrefix(int version) { return "vault:v" + std::to_string(version) + ":"; }

Result<int> EncryptionVersion(const KeyPolicy& p, int64_t requested) {
  if (requested == 0) return p.latest_version;
  if (requested < 0) return InvalidArgument("requested version for encryption is negative");
  if (requested > p.latest_version)
    return InvalidArgument("requested version for encryption is higher than the latest key version");
  if (requested < p.min_encryption_version)
    return InvalidArgument("requested version for encryption is less than the minimum encryption key version");
  return static_cast<int>(requested);
}

Result<std::string> EncryptValue(const KeyPolicy& p, int version, std::string_view context,
                                 std::string_view plaintext, std::string_view aad) {
  if (!SupportsEncryption(p.type))
    return InvalidArgument("message encryption not supported for key type " + std::string(KeyTypeName(p.type)));
  const KeyVersion* v = p.Version(version);
  if (v == nullptr) return InvalidArgument("no such key version");
  if (IsRsa(p.type)) {
    SB_ASSIGN_OR_RETURN(std::string ct, RsaOaepEncrypt(v->key, plaintext));
    return VersionPrefix(version) + crypto::Base64Encode(ct);
  }
  SB_ASSIGN_OR_RETURN(CipherKeys keys, KeysFor(p, *v, context, true));
  std::string nonce;
  if (p.convergent) {
    nonce = ConvergentNonce(keys.nonce_mac, plaintext);
  } else {
    SecureBytes random = crypto::RandomBytes(kNonceSize);
    nonce.assign(random.view());
  }
  SB_ASSIGN_OR_RETURN(std::string sealed, AeadSeal(p.type, keys.enc, nonce, plaintext, aad));
  return VersionPrefix(version) + crypto::Base64Encode(sealed);
}

Result<Decrypted> DecryptValue(const KeyPolicy& p, std::string_view context, std::string_view ciphertext,
                               std::string_view aad) {
  if (!SupportsEncryption(p.type))
    return InvalidArgument("message decryption not supported for key type " + std::string(KeyTypeName(p.type)));
  SB_ASSIGN_OR_RETURN(VersionedValue parts, ParseVersioned(ciphertext, "invalid ciphertext", "invalid ciphertext"));
  int ver = parts.version == 0 ? 1 : parts.version;  // v0: Vault's first releases counted from zero
  if (ver > p.latest_version) return InvalidArgument("invalid ciphertext: version is too new");
  if (p.min_decryption_version > 0 && ver < p.min_decryption_version)
    return InvalidArgument("ciphertext or signature version is disallowed by policy (too old)");
  auto sealed = DecodeStdBase64(parts.payload);
  if (!sealed.ok()) return InvalidArgument("invalid ciphertext: could not decode base64");
  const KeyVersion* v = p.Version(ver);
  if (v == nullptr) return InvalidArgument("no such key version");
  if (IsRsa(p.type)) {
    if (v->public_only) return InvalidArgument("cannot decrypt ciphertext, key version does not have a private counterpart");
    SB_ASSIGN_OR_RETURN(SecureBytes plain, RsaOaepDecrypt(v->key, sealed->view()));
    return Decrypted{std::move(plain), ver};
  }
  SB_ASSIGN_OR_RETURN(CipherKeys keys, KeysFor(p, *v, context, false));
  SB_ASSIGN_OR_RETURN(SecureBytes plain, AeadOpen(p.type, keys.enc, sealed->view(), aad));
  return Decrypted{std::move(plain), ver};
}

const SecureBytes& MacKey(const KeyPolicy& p, const KeyVersion& v) {
  return p.type == KeyType::kHmac ? v.key : v.hmac_key;
}

}  // namespace sealbox::engines::transit
