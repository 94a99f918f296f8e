// BYOK: wrapping_key, keys/<name>/import and keys/<name>/import_version
// (key_import.h holds the unwrapping), with OpenBao 2.7's answers and words.
// The mount's wrapping key is an RSA-4096 key kept as the Transit key
// "import/wrapping-key" (as Vault keeps it, so a key list shows "import/"):
// never exportable, and unreachable through keys/<name> (not a key name).
#include "base/crypto.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/key_import.h"
#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

using logical::Response;

namespace {

constexpr const char* kWrappingKeyName = "import/wrapping-key";

std::string StringField(const logical::FieldData& fd, const char* name, std::string fallback = "") {
  const Json& v = fd.Get(name);
  return v.is_string() && !v.get_ref<const std::string&>().empty() ? v.get<std::string>() : fallback;
}

// The settings of a key to import, checked in Vault's order.
Result<KeyPolicy> ImportSettings(const std::string& name, const logical::FieldData& fd) {
  if (fd.Has("convergent_encryption"))
    return InvalidArgument("import cannot be used on keys with convergent encryption enabled");
  KeyPolicy p;
  p.name = name;
  p.imported = true;
  SB_ASSIGN_OR_RETURN(p.allow_imported_rotation, fd.GetBool("allow_rotation"));
  SB_ASSIGN_OR_RETURN(p.auto_rotate_period, fd.GetDuration("auto_rotate_period"));
  if (p.auto_rotate_period > 0 && !p.allow_imported_rotation)
    return InvalidArgument("allow_rotation must be set to true if auto-rotation is enabled");
  if (p.auto_rotate_period != 0 && p.auto_rotate_period < 3600)
    return InvalidArgument("auto rotate period must be 0 to disable or at least an hour");
  std::string type_name = StringField(fd, "type", "aes256-gcm96");
  auto type = ParseKeyType(type_name);
  if (!type) return InvalidArgument("unknown key type: " + type_name);
  p.type = *type;
  SB_ASSIGN_OR_RETURN(p.derived, fd.GetBool("derived"));
  if (p.derived && !SupportsDerivation(p.type))
    return InvalidArgument("key derivation and convergent encryption not supported for keys of type " + type_name);
  SB_ASSIGN_OR_RETURN(p.exportable, fd.GetBool("exportable"));
  SB_ASSIGN_OR_RETURN(p.allow_plaintext_backup, fd.GetBool("allow_plaintext_backup"));
  return p;
}

// One version made of the request's wrapped key.
Result<KeyVersion> ImportedVersion(const KeyPolicy& p, const SecureBytes& wrapping_der, const logical::FieldData& fd,
                                   int64_t now) {
  SB_ASSIGN_OR_RETURN(const EVP_MD* md, ImportHash(StringField(fd, "hash_function", "SHA256")));
  std::string ciphertext = StringField(fd, "ciphertext");
  std::string public_key = StringField(fd, "public_key");
  KeyVersion v;
  if (ciphertext.empty()) {  // a public key alone: the version verifies (and encrypts) only
    if (!IsSigning(p.type) || public_key.empty())
      return InvalidArgument("provided type does not support public_key import");
    if (p.derived)
      return InvalidArgument(
          "error importing key: unable to import only public key for derived Ed25519 key: imported key should not be "
          "an Ed25519 key pair but is instead an HKDF key");
    SB_ASSIGN_OR_RETURN(v.key, ImportedPublicKey(p.type, public_key));
    v.public_only = true;
  } else {
    SB_ASSIGN_OR_RETURN(SecureBytes target, UnwrapImport(wrapping_der, ciphertext, md));
    SB_ASSIGN_OR_RETURN(v.key, ImportedKeyMaterial(p.type, std::move(target)));
  }
  v.hmac_key = crypto::RandomBytes(32);
  v.created = now;
  return v;
}

// import_version's refusals drop the "error importing key: " that import's carry (OpenBao's words).
Status WithoutImportPrefix(const Status& st) {
  constexpr std::string_view kPrefix = "error importing key: ";
  if (st.message().rfind(kPrefix, 0) != 0) return st;
  return InvalidArgument(st.message().substr(kPrefix.size()));
}

// A version named by import_version's `version`: one holding a public key alone.
Status CheckUpdatable(const KeyPolicy& p, int64_t version) {
  const KeyVersion* v = p.Version(static_cast<int>(version));
  if (v == nullptr || version < 1 || version > p.latest_version) return InvalidArgument("no such key version");
  if (!v->public_only) return InvalidArgument("private key imported, key version cannot be updated");
  return Status::Ok();
}

bool SamePublicKey(KeyType type, const KeyVersion& a, const KeyVersion& b) {
  auto pa = PublicKeyText(type, a.key);
  auto pb = PublicKeyText(type, b.key);
  return pa.ok() && pb.ok() && *pa == *pb;
}

// Where an imported version goes (Vault's rules): into version `target` (or,
// without one, the latest) when that holds this private key's public half
// alone; with no target, otherwise, a new version.
Status PlaceImportedVersion(KeyPolicy& k, KeyVersion v, int64_t target) {
  if (target != 0) {
    SB_RETURN_IF_ERROR(CheckUpdatable(k, target));
    KeyVersion& old = k.versions.at(static_cast<int>(target));
    if (!SamePublicKey(k.type, old, v)) return InvalidArgument("cannot import key, key pair does not match");
    old.key = std::move(v.key);
    old.public_only = v.public_only;
    return Status::Ok();
  }
  KeyVersion* latest = k.versions.count(k.latest_version) ? &k.versions.at(k.latest_version) : nullptr;
  if (latest && latest->public_only && !v.public_only && SamePublicKey(k.type, *latest, v)) {
    latest->key = std::move(v.key);
    latest->public_only = false;
    return Status::Ok();
  }
  k.versions[++k.latest_version] = std::move(v);
  return Status::Ok();
}

}  // namespace

Result<PolicyPtr> TransitBackend::WrappingKeyPolicy() {
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(kWrappingKeyName));
  if (p) return p;
  KeyPolicy fresh;
  fresh.name = kWrappingKeyName;
  fresh.type = KeyType::kRsa4096;
  fresh.Rotate(NowSeconds());
  return keys_.CreateIfAbsent(std::move(fresh));
}

Result<Response> TransitBackend::WrappingKey(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(PolicyPtr p, WrappingKeyPolicy());
  const KeyVersion* v = p->Version(p->latest_version);
  if (v == nullptr) return Internal("transit: wrapping key without a version");
  SB_ASSIGN_OR_RETURN(std::string pem, PublicKeyText(p->type, v->key));
  return Response::WithData(Json{{"public_key", std::move(pem)}});
}

Result<Response> TransitBackend::ImportKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(KeyPolicy fresh, ImportSettings(name, fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr existing, keys_.Get(name));
  if (existing)
    return InvalidArgument(
        "the import path cannot be used with an existing key; use import-version to rotate an existing imported key");
  SB_ASSIGN_OR_RETURN(PolicyPtr wrapping, WrappingKeyPolicy());
  SB_ASSIGN_OR_RETURN(KeyVersion v, ImportedVersion(fresh, wrapping->Version(wrapping->latest_version)->key, fd,
                                                    NowSeconds()));
  if (fresh.type == KeyType::kHmac) fresh.key_size = v.key.size();
  fresh.versions[1] = std::move(v);
  fresh.latest_version = 1;
  SB_ASSIGN_OR_RETURN(PolicyPtr stored, keys_.CreateIfAbsent(fresh));
  if (stored->latest_version != 1 || !stored->imported)  // another request made the key meanwhile
    return InvalidArgument(
        "the import path cannot be used with an existing key; use import-version to rotate an existing imported key");
  return Response::Empty();
}

Result<Response> TransitBackend::ImportKeyVersion(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
  if (!p) return InvalidArgument("no key found with name " + name + "; to import a new key, use the import/ endpoint");
  if (!p->imported) return InvalidArgument("the import_version endpoint can only be used with an imported key");
  if (p->convergent) return InvalidArgument("import_version cannot be used on keys with convergent encryption enabled");
  int64_t target = 0;  // 0: the latest version when it lacks this private key, else a new one
  if (fd.Has("version")) {
    if (!IsSigning(p->type)) return InvalidArgument("provided type does not support importing key versions");
    SB_ASSIGN_OR_RETURN(target, fd.GetInt("version"));
    SB_RETURN_IF_ERROR(CheckUpdatable(*p, target));
  }
  SB_ASSIGN_OR_RETURN(PolicyPtr wrapping, WrappingKeyPolicy());
  auto version = ImportedVersion(*p, wrapping->Version(wrapping->latest_version)->key, fd, NowSeconds());
  if (!version.ok()) return WithoutImportPrefix(version.status());
  KeyVersion v = std::move(*version);
  if (p->type == KeyType::kHmac && v.key.size() != p->key_size)  // one key size per hmac key
    return InvalidArgument("invalid key size " + std::to_string(v.key.size()) + " bytes for key type hmac");
  SB_RETURN_IF_ERROR(keys_.Update(name, "no key found with name " + name, [&](KeyPolicy& k) -> Status {
    if (!k.imported) return InvalidArgument("the import_version endpoint can only be used with an imported key");
    return PlaceImportedVersion(k, std::move(v), target);
  }).status());
  return Response::Empty();
}

}  // namespace sealbox::engines::transit
