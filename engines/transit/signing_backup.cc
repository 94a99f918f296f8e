#include "engines/transit/signing_backup.h"

#include <cctype>
#include <cstring>
#include <memory>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "base/openssl_ptr.h"
#include "base/crypto.h"
#include "engines/transit/asymmetric.h"

namespace sealbox::engines::transit {

namespace {

using Pkey = ossl::Pkey;
using Bn = ossl::SecretBn;  // most of these numbers are private

constexpr size_t kEd25519Half = 32;

Status Bad(const std::string& what) { return InvalidArgument("invalid backup: " + what); }

Result<Pkey> Load(const SecureBytes& der) {
  SB_ASSIGN_OR_RETURN(EVP_PKEY * k, LoadKeyDer(der));
  return Pkey(k);
}

// The DER a version holds: the private key, or SubjectPublicKeyInfo for a public key alone.
Result<SigningEntryKey> ToDer(EVP_PKEY* key, bool public_only = false) {
  int len = !key ? -1 : public_only ? i2d_PUBKEY(key, nullptr) : i2d_PrivateKey(key, nullptr);
  if (len <= 0) return Internal("transit: key encoding failed");
  SigningEntryKey out{SecureBytes(static_cast<size_t>(len)), public_only};
  unsigned char* o = out.der.data();
  if (public_only)
    i2d_PUBKEY(key, &o);
  else
    i2d_PrivateKey(key, &o);
  return out;
}

// A big integer as a tagged decimal string.
Result<Json> BigJson(const BIGNUM* bn) {
  char* dec = BN_bn2dec(bn);
  if (dec == nullptr) return Internal("transit: key encoding failed");
  std::string out = std::string(1, kBigIntTag) + dec;
  OPENSSL_clear_free(dec, strlen(dec));
  return Json(std::move(out));
}

Result<Json> KeyParam(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return Internal("transit: key encoding failed");
  Bn bn(raw);
  return BigJson(bn.get());
}

// A big integer field: a tagged string, or a JSON integer small enough to be one.
Result<Bn> BigField(const Json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return Bad(std::string("missing ") + name);
  std::string dec;
  if (it->is_number_unsigned() || it->is_number_integer()) {
    dec = it->dump();
  } else if (it->is_string() && !it->get_ref<const std::string&>().empty() &&
             it->get_ref<const std::string&>()[0] == kBigIntTag) {
    dec = it->get_ref<const std::string&>().substr(1);
  } else {
    return Bad(std::string("malformed ") + name);
  }
  // Secure (wiped, and copied to wiped memory by OSSL_PARAM_BLD): most are private.
  Bn bn(BN_secure_new());
  BIGNUM* raw = bn.get();
  int n = bn ? BN_dec2bn(&raw, dec.c_str()) : 0;
  OPENSSL_cleanse(dec.data(), dec.size());
  if (n <= 0 || static_cast<size_t>(n) != dec.size() || BN_is_negative(bn.get())) return Bad(std::string("malformed ") + name);
  return bn;
}

// A key built from parameters, checked to be one consistent key pair (or a
// valid public key, for a version that holds one alone).
Result<SigningEntryKey> FromParams(const char* alg, OSSL_PARAM_BLD* bld, bool public_only) {
  ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, alg, nullptr));
  EVP_PKEY* raw = nullptr;
  int selection = public_only ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    ERR_clear_error();
    return Bad("unusable signing key");
  }
  Pkey key(raw);
  ossl::PkeyCtx check(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!check || (public_only ? EVP_PKEY_public_check(check.get()) : EVP_PKEY_pairwise_check(check.get())) != 1) {
    ERR_clear_error();
    return Bad("inconsistent signing key");
  }
  return ToDer(key.get(), public_only);
}

const char* CurveName(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP384: return "P-384";
    case KeyType::kEcdsaP521: return "P-521";
    default: return "P-256";
  }
}

size_t CurveBytes(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP384: return 48;
    case KeyType::kEcdsaP521: return 66;
    default: return 32;
  }
}

bool IsNull(const Json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null();
}

Result<SigningEntryKey> EcdsaFromEntry(KeyType type, const Json& e) {
  SB_ASSIGN_OR_RETURN(Bn x, BigField(e, "ec_x"));
  SB_ASSIGN_OR_RETURN(Bn y, BigField(e, "ec_y"));
  bool public_only = IsNull(e, "ec_d");
  Bn d;
  if (!public_only) {
    SB_ASSIGN_OR_RETURN(d, BigField(e, "ec_d"));
  }
  size_t n = CurveBytes(type);
  std::string point(1 + 2 * n, '\x04');  // uncompressed: 04 || X || Y
  auto* pt = reinterpret_cast<unsigned char*>(point.data());
  if (BN_bn2binpad(x.get(), pt + 1, static_cast<int>(n)) < 0 || BN_bn2binpad(y.get(), pt + 1 + n, static_cast<int>(n)) < 0)
    return Bad("malformed ec_x");
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, CurveName(type), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1 ||
      (d && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1))
    return Internal("transit: key decoding failed");
  return FromParams("EC", bld.get(), public_only);
}

// dp = d mod (p-1), dq = d mod (q-1), qinv = q^-1 mod p (Go recomputes them too).
Result<SigningEntryKey> RsaFromParts(const BIGNUM* n, const BIGNUM* e, const BIGNUM* d, const BIGNUM* p, const BIGNUM* q) {
  ossl::BnCtx bctx(BN_CTX_secure_new());
  Bn p1(BN_dup(p)), q1(BN_dup(q)), dp(BN_secure_new()), dq(BN_secure_new()), qinv(BN_secure_new());
  if (!bctx || !p1 || !q1 || !dp || !dq || !qinv || !BN_sub_word(p1.get(), 1) || !BN_sub_word(q1.get(), 1) ||
      !BN_mod(dp.get(), d, p1.get(), bctx.get()) || !BN_mod(dq.get(), d, q1.get(), bctx.get()) ||
      BN_mod_inverse(qinv.get(), q, p, bctx.get()) == nullptr) {
    ERR_clear_error();
    return Bad("inconsistent signing key");
  }
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  bool ok = bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()) == 1;
  if (!ok) return Internal("transit: key decoding failed");
  return FromParams("RSA", bld.get(), false);
}

size_t RsaBits(KeyType type) {
  switch (type) {
    case KeyType::kRsa3072: return 3072;
    case KeyType::kRsa4096: return 4096;
    default: return 2048;
  }
}

// Go's rsa.PublicKey {"N", "E"}: a version holding a public key alone.
Result<SigningEntryKey> RsaPublicFromEntry(KeyType type, const Json& k) {
  SB_ASSIGN_OR_RETURN(Bn n, BigField(k, "N"));
  SB_ASSIGN_OR_RETURN(Bn e, BigField(k, "E"));
  if (static_cast<size_t>(BN_num_bits(n.get())) != RsaBits(type)) return Bad("rsa_public_key of the wrong size");
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
    return Internal("transit: key decoding failed");
  return FromParams("RSA", bld.get(), true);
}

Result<SigningEntryKey> RsaFromEntry(KeyType type, const Json& e) {
  auto it = e.find("rsa_key");
  if (it == e.end() || !it->is_object()) {
    auto pub = e.find("rsa_public_key");
    if (pub != e.end() && pub->is_object()) return RsaPublicFromEntry(type, *pub);
    return Bad("missing rsa_key");
  }
  const Json& k = *it;
  SB_ASSIGN_OR_RETURN(Bn n, BigField(k, "N"));
  SB_ASSIGN_OR_RETURN(Bn pub_e, BigField(k, "E"));
  SB_ASSIGN_OR_RETURN(Bn d, BigField(k, "D"));
  auto primes = k.find("Primes");
  if (primes == k.end() || !primes->is_array() || primes->size() != 2) return Bad("rsa_key needs two primes");
  SB_ASSIGN_OR_RETURN(Bn p, BigField(Json{{"p", (*primes)[0]}}, "p"));
  SB_ASSIGN_OR_RETURN(Bn q, BigField(Json{{"q", (*primes)[1]}}, "q"));
  if (static_cast<size_t>(BN_num_bits(n.get())) != RsaBits(type)) return Bad("rsa_key of the wrong size");
  return RsaFromParts(n.get(), pub_e.get(), d.get(), p.get(), q.get());
}

Result<SigningEntryKey> Ed25519FromEntry(const Json& e) {
  auto it = e.find("key");
  if (it == e.end() || it->is_null()) {  // a public key alone: Vault's "public_key", base64
    auto pub = e.find("public_key");
    auto raw = pub != e.end() && pub->is_string() ? DecodeStdBase64(pub->get_ref<const std::string&>())
                                                  : Result<SecureBytes>(Bad("missing key"));
    if (!raw.ok() || raw->size() != kEd25519Half) return Bad("ed25519 public key of the wrong size");
    Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw->data(), kEd25519Half));
    return ToDer(key.get(), true);
  }
  if (!it->is_string()) return Bad("missing key");
  auto raw = DecodeStdBase64(it->get_ref<const std::string&>());
  if (!raw.ok() || raw->size() != 2 * kEd25519Half) return Bad("ed25519 key of the wrong size");
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw->data(), kEd25519Half));
  unsigned char pub[kEd25519Half];
  size_t pub_len = sizeof pub;
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub, &pub_len) != 1 ||
      CRYPTO_memcmp(pub, raw->data() + kEd25519Half, kEd25519Half) != 0)
    return Bad("inconsistent signing key");
  return ToDer(key.get());
}

Result<Json> RsaKeyJson(EVP_PKEY* key) {
  Json k = Json::object();
  SB_ASSIGN_OR_RETURN(k["N"], KeyParam(key, OSSL_PKEY_PARAM_RSA_N));
  SB_ASSIGN_OR_RETURN(k["E"], KeyParam(key, OSSL_PKEY_PARAM_RSA_E));
  SB_ASSIGN_OR_RETURN(k["D"], KeyParam(key, OSSL_PKEY_PARAM_RSA_D));
  Json primes = Json::array();
  SB_ASSIGN_OR_RETURN(primes.emplace_back(), KeyParam(key, OSSL_PKEY_PARAM_RSA_FACTOR1));
  SB_ASSIGN_OR_RETURN(primes.emplace_back(), KeyParam(key, OSSL_PKEY_PARAM_RSA_FACTOR2));
  k["Primes"] = std::move(primes);
  Json pre = Json::object();
  SB_ASSIGN_OR_RETURN(pre["Dp"], KeyParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT1));
  SB_ASSIGN_OR_RETURN(pre["Dq"], KeyParam(key, OSSL_PKEY_PARAM_RSA_EXPONENT2));
  SB_ASSIGN_OR_RETURN(pre["Qinv"], KeyParam(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
  pre["CRTValues"] = Json::array();
  k["Precomputed"] = std::move(pre);
  return k;
}

}  // namespace

Result<Json> SigningEntryFields(KeyType type, const SecureBytes& der, bool public_only) {
  SB_ASSIGN_OR_RETURN(Pkey key, Load(der));
  Json out{{"key", nullptr}, {"ec_x", nullptr}, {"ec_y", nullptr}, {"ec_d", nullptr},
           {"rsa_key", nullptr}, {"rsa_public_key", nullptr}, {"public_key", ""}};
  if (type == KeyType::kEd25519 && !public_only) {
    SecureBytes go_key(2 * kEd25519Half);
    size_t seed_len = kEd25519Half, pub_len = kEd25519Half;
    if (EVP_PKEY_get_raw_private_key(key.get(), go_key.data(), &seed_len) != 1 ||
        EVP_PKEY_get_raw_public_key(key.get(), go_key.data() + kEd25519Half, &pub_len) != 1)
      return Internal("transit: key encoding failed");
    out["key"] = crypto::Base64Encode(go_key.view());
  } else if (IsRsa(type)) {
    if (!public_only) {
      SB_ASSIGN_OR_RETURN(out["rsa_key"], RsaKeyJson(key.get()));
      return out;  // Vault keeps no formatted public key for RSA versions
    }
    Json pub = Json::object();
    SB_ASSIGN_OR_RETURN(pub["N"], KeyParam(key.get(), OSSL_PKEY_PARAM_RSA_N));
    SB_ASSIGN_OR_RETURN(pub["E"], KeyParam(key.get(), OSSL_PKEY_PARAM_RSA_E));
    out["rsa_public_key"] = std::move(pub);
  } else if (type != KeyType::kEd25519) {
    SB_ASSIGN_OR_RETURN(out["ec_x"], KeyParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_X));
    SB_ASSIGN_OR_RETURN(out["ec_y"], KeyParam(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
    if (!public_only) {
      SB_ASSIGN_OR_RETURN(out["ec_d"], KeyParam(key.get(), OSSL_PKEY_PARAM_PRIV_KEY));
    }
  }
  SB_ASSIGN_OR_RETURN(out["public_key"], PublicKeyText(type, der));
  return out;
}

Result<SigningEntryKey> SigningKeyFromEntry(KeyType type, const Json& entry) {
  if (type == KeyType::kEd25519) return Ed25519FromEntry(entry);
  if (IsRsa(type)) return RsaFromEntry(type, entry);
  return EcdsaFromEntry(type, entry);
}

bool EntryHasSigningKey(const Json& entry) {
  for (const char* f : {"key", "ec_d", "ec_x", "rsa_key", "rsa_public_key"}) {
    auto it = entry.find(f);
    if (it != entry.end() && !it->is_null()) return true;
  }
  auto pub = entry.find("public_key");  // an ed25519 public key alone
  return pub != entry.end() && pub->is_string() && !pub->get_ref<const std::string&>().empty();
}

std::string EmitBigNumbers(std::string_view json) {
  static constexpr std::string_view kTagged = "\"\\u0001";
  std::string out;
  out.reserve(json.size());
  size_t i = 0;
  while (i < json.size()) {
    size_t at = json.find(kTagged, i);
    if (at == std::string_view::npos) break;
    out.append(json.substr(i, at - i));
    size_t end = json.find('"', at + kTagged.size());  // digits only, then the closing quote
    if (end == std::string_view::npos) return std::string(json);  // not text this engine dumped
    out.append(json.substr(at + kTagged.size(), end - at - kTagged.size()));
    i = end + 1;
  }
  out.append(json.substr(i));
  return out;
}

std::string TagBigNumbers(std::string_view json) {
  constexpr size_t kMaxExactDigits = 15;  // what a double holds exactly
  std::string out;
  out.reserve(json.size());
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < json.size();) {
    char c = json[i];
    if (in_string) {
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
      out.push_back(c);
      ++i;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      in_string = c == '"';
      out.push_back(c);
      ++i;
      continue;
    }
    size_t end = i;
    while (end < json.size() && std::isdigit(static_cast<unsigned char>(json[end]))) ++end;
    // A whole integer value: after ':', '[' or ',' and not followed by a fraction or exponent.
    size_t before = out.find_last_not_of(" \t\r\n");
    bool starts_value = before != std::string::npos && std::string_view(":[,").find(out[before]) != std::string_view::npos;
    bool plain = starts_value && end - i > kMaxExactDigits &&
                 (end == json.size() || std::string_view(".eE").find(json[end]) == std::string_view::npos);
    if (plain) out.append("\"\\u0001");
    out.append(json.substr(i, end - i));
    if (plain) out.push_back('"');
    i = end;
  }
  return out;
}

}  // namespace sealbox::engines::transit
