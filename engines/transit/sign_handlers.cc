// sign/<name>[/<algorithm>] and the signature half of verify/<name>: Vault's
// options (hash_algorithm, prehashed, signature_algorithm pss|pkcs1v15,
// marshaling_algorithm asn1|jws), answers and error words.
#include <charconv>

#include <openssl/ecdsa.h>

#include "base/crypto.h"
#include "engines/transit/asymmetric.h"
#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

using logical::Response;

namespace {

std::string StringField(const logical::FieldData& fd, const char* name) {
  const Json& v = fd.Get(name);
  return v.is_string() ? v.get<std::string>() : "";
}

// salt_length: "auto" (or none), "hash", or an int (Go's convention, -1 being the hash's length).
Result<int> SaltLength(const std::string& text) {
  if (text.empty() || text == "auto") return 0;
  if (text == "hash") return -1;
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size())
    return InvalidArgument("salt length neither 'auto', 'hash', nor an int: " + text);
  if (n < -1) return InvalidArgument("salt length is invalid: " + text);
  return n;
}

// The signing options of a request, checked against the key's type.
Result<SignOptions> OptionsFor(const KeyPolicy& p, const logical::FieldData& fd) {
  SignOptions o;
  std::string hash = StringField(fd, "urlalgorithm");
  if (hash.empty()) hash = StringField(fd, "hash_algorithm");
  if (hash.empty()) hash = StringField(fd, "algorithm");
  if (hash.empty()) hash = "sha2-256";
  auto algo = ParseHashAlgo(hash);
  if (!algo) return InvalidArgument("invalid hash algorithm \"" + hash + "\"");
  o.hash = *algo;
  std::string marshaling = StringField(fd, "marshaling_algorithm");
  if (!marshaling.empty() && marshaling != "asn1" && marshaling != "jws")
    return InvalidArgument("invalid marshaling type \"" + marshaling + "\"");
  o.jws = marshaling == "jws";
  std::string sig_algo = StringField(fd, "signature_algorithm");
  if (IsRsa(p.type) && !sig_algo.empty() && sig_algo != "pss" && sig_algo != "pkcs1v15")
    return InvalidArgument("unsupported rsa signature algorithm " + sig_algo);
  o.pss = sig_algo != "pkcs1v15";
  SB_ASSIGN_OR_RETURN(o.salt_length, SaltLength(StringField(fd, "salt_length")));
  if (fd.Has("prehashed")) {
    SB_ASSIGN_OR_RETURN(o.prehashed, fd.GetBool("prehashed"));
  }
  // ed25519 signs the input itself, whatever the request says of hashing.
  if (p.type == KeyType::kEd25519) o.prehashed = false;
  return o;
}

Result<int> SigningVersion(const KeyPolicy& p, int64_t requested) {
  if (requested == 0) return p.latest_version;
  if (requested < 0) return InvalidArgument("requested version for signing is negative");
  if (requested > p.latest_version)
    return InvalidArgument("requested version for signing is higher than the latest key version");
  if (p.min_encryption_version > 0 && requested < p.min_encryption_version)
    return InvalidArgument("requested version for signing is less than the minimum encryption key version");
  return static_cast<int>(requested);
}

Result<SecureBytes> SignedInput(const Json& item) {
  auto in = fields::ItemBase64(item, "input");
  if (!in.ok()) return InvalidArgument("unable to decode input as base64: " + in.status().message());
  return in;
}

// An ASN.1 ECDSA signature must parse whole (Vault refuses it otherwise).
bool WellFormedEcdsa(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  bool whole = sig != nullptr && p == reinterpret_cast<const unsigned char*>(der.data()) + der.size();
  ECDSA_SIG_free(sig);
  return whole;
}

// The private key an item signs or verifies with: a derived ed25519 key's
// own for the item's context, else the version's.
Result<SecureBytes> ItemKey(const KeyPolicy& p, const KeyVersion& v, const Json& item) {
  if (!p.derived || v.public_only) return v.key;
  SB_ASSIGN_OR_RETURN(SecureBytes context, fields::ItemBase64(item, "context"));
  return DeriveEd25519(v.key, context.view());
}

}  // namespace

Result<Response> TransitBackend::SignInput(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "signing key not found"));
  if (!IsSigning(p->type))
    return InvalidArgument("key type " + std::string(KeyTypeName(p->type)) + " does not support signing");
  SB_ASSIGN_OR_RETURN(SignOptions opts, OptionsFor(*p, fd));
  SB_ASSIGN_OR_RETURN(int64_t requested, fd.GetInt("key_version"));
  SB_ASSIGN_OR_RETURN(int version, SigningVersion(*p, requested));
  const KeyVersion* v = p->Version(version);
  if (v == nullptr) return InvalidArgument("no such key version");
  if (v->public_only) return InvalidArgument("requested version for signing does not contain a private part");
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  return fields::AnswerItems(fd, items, [&](const Json& item) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(SecureBytes input, SignedInput(item));
    SB_ASSIGN_OR_RETURN(SecureBytes key, ItemKey(*p, *v, item));
    SB_ASSIGN_OR_RETURN(std::string sig, Sign(p->type, key, input.view(), opts));
    std::string encoded = opts.jws ? crypto::Base64UrlEncode(sig) : crypto::Base64Encode(sig);
    Json out{{"signature", VersionPrefix(version) + encoded}, {"key_version", version}};
    // A derived key's public key is per context, so Vault returns it (named so).
    if (p->derived) {
      SB_ASSIGN_OR_RETURN(out[fd.Has("batch_input") ? "publickey" : "public_key"], PublicKeyText(p->type, key));
    }
    return out;
  });
}

Result<Json> TransitBackend::VerifySignatureItem(const KeyPolicy& p, const Fd& fd, const Json& item) {
  SB_ASSIGN_OR_RETURN(SignOptions opts, OptionsFor(p, fd));
  SB_ASSIGN_OR_RETURN(SecureBytes input, SignedInput(item));
  SB_ASSIGN_OR_RETURN(std::string signature, fields::ItemString(item, "signature"));
  SB_ASSIGN_OR_RETURN(VersionedValue parts, ParseVersioned(signature, "invalid signature", "invalid signature"));
  if (parts.version > p.latest_version) return InvalidArgument("invalid signature: version is too new");
  if (p.min_decryption_version > 0 && parts.version < p.min_decryption_version)
    return InvalidArgument("ciphertext or signature version is disallowed by policy (too old)");
  auto raw = opts.jws ? crypto::Base64UrlDecode(parts.payload) : DecodeStdBase64(parts.payload);
  if (!raw.ok()) return InvalidArgument("invalid base64 signature value");
  if (!opts.jws && !IsRsa(p.type) && p.type != KeyType::kEd25519 && !WellFormedEcdsa(raw->view()))
    return InvalidArgument("supplied signature is invalid");
  const KeyVersion* v = p.Version(parts.version);
  if (v == nullptr) return InvalidArgument("no such key version");
  SB_ASSIGN_OR_RETURN(SecureBytes key, ItemKey(p, *v, item));
  SB_ASSIGN_OR_RETURN(bool valid, transit::Verify(p.type, key, input.view(), raw->view(), opts));
  return Json{{"valid", valid}};
}

}  // namespace sealbox::engines::transit
