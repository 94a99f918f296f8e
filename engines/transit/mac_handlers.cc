// hmac, verify (HMACs; signatures in sign_handlers.cc), hash and random:
// Vault's answers and error words.
#include <charconv>

#include "base/crypto.h"
#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

using logical::Response;

namespace {

constexpr int64_t kMaxRandomBytes = 128 * 1024;

// The hash named by the URL (…/sha2-512), else `hash_algorithm`, else the
// older `algorithm` field (Vault's order).
Result<HashAlgo> Algorithm(const logical::FieldData& fd) {
  std::string name = fd.Get("urlalgorithm").is_string() ? fd.Get("urlalgorithm").get<std::string>() : "";
  if (name.empty() && fd.Has("hash_algorithm")) {
    SB_ASSIGN_OR_RETURN(name, fd.GetString("hash_algorithm"));
  }
  if (name.empty()) {
    SB_ASSIGN_OR_RETURN(name, fd.GetString("algorithm"));
  }
  auto algo = ParseHashAlgo(name);
  if (!algo) return InvalidArgument("unsupported algorithm " + name);
  return *algo;
}

Result<SecureBytes> Input(const Json& item) {
  auto in = fields::ItemBase64(item, "input");
  if (!in.ok()) return InvalidArgument("unable to decode input as base64: " + in.status().message());
  return in;
}

// The version an HMAC is made with (Vault's path_hmac checks).
Result<int> HmacVersion(const KeyPolicy& p, int64_t requested) {
  if (requested == 0) return p.latest_version;
  if (requested < 0) return InvalidArgument("key version does not exist (cannot be negative)");
  if (requested > p.latest_version)
    return InvalidArgument("key version does not exist; latest key version is " + std::to_string(p.latest_version));
  if (requested != p.latest_version && p.min_encryption_version > 0 && requested < p.min_encryption_version)
    return InvalidArgument("cannot generate HMAC: version is too old (disallowed by policy)");
  return static_cast<int>(requested);
}

// Checks an item's "vault:vN:base64" HMAC against the input.
Result<Json> VerifyOne(const KeyPolicy& p, HashAlgo algo, const Json& item) {
  SB_ASSIGN_OR_RETURN(SecureBytes input, Input(item));
  SB_ASSIGN_OR_RETURN(std::string hmac, fields::ItemString(item, "hmac"));
  SB_ASSIGN_OR_RETURN(VersionedValue parts, ParseVersioned(hmac, "invalid HMAC", "invalid HMAC to verify"));
  auto given = DecodeStdBase64(parts.payload);
  if (!given.ok())
    return InvalidArgument("unable to decode verification HMAC as base64: " + given.status().message());
  if (parts.version > p.latest_version) return InvalidArgument("invalid HMAC: version is too new");
  if (p.min_decryption_version > 0 && parts.version < p.min_decryption_version)
    return InvalidArgument("cannot verify HMAC: version is too old (disallowed by policy)");
  const KeyVersion* v = p.Version(parts.version);
  if (v == nullptr) return InvalidArgument("no such key version");
  std::string mac = Hmac(algo, MacKey(p, *v), input.view());
  return Json{{"valid", crypto::ConstantTimeEquals(mac, given->view())}};
}

Result<std::string> Encoded(std::string_view bytes, const std::string& format) {
  if (format == "hex") return crypto::HexEncode(bytes);
  return crypto::Base64Encode(bytes);
}

}  // namespace

namespace fields {

Result<Response> AnswerItems(const logical::FieldData& fd, const Json& items,
                             const std::function<Result<Json>(const Json&)>& fn) {
  if (!fd.Has("batch_input")) {
    SB_ASSIGN_OR_RETURN(Json out, fn(items[0]));
    return Response::WithData(std::move(out));
  }
  Json results = Json::array();
  for (const Json& item : items) {
    auto r = fn(item);
    Json out = r.ok() ? std::move(*r) : Json{{"error", r.status().message()}};
    auto reference = ItemString(item, "reference");
    out["reference"] = reference.ok() ? *reference : "";
    results.push_back(std::move(out));
  }
  return Response::WithData(Json{{"batch_results", std::move(results)}});
}

}  // namespace fields

Result<Response> TransitBackend::HmacInput(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "encryption key not found"));
  SB_ASSIGN_OR_RETURN(HashAlgo algo, Algorithm(fd));
  SB_ASSIGN_OR_RETURN(int64_t requested, fd.GetInt("key_version"));
  SB_ASSIGN_OR_RETURN(int version, HmacVersion(*p, requested));
  const KeyVersion* v = p->Version(version);
  if (v == nullptr) return InvalidArgument("no such key version");
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  if (!fd.Has("batch_input") && !fd.Has("input")) return InvalidArgument("missing input for HMAC");
  return fields::AnswerItems(fd, items, [&](const Json& item) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(SecureBytes input, Input(item));
    std::string mac = Hmac(algo, MacKey(*p, *v), input.view());
    return Json{{"hmac", VersionPrefix(version) + crypto::Base64Encode(mac)}};
  });
}

Result<Response> TransitBackend::Verify(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "encryption key not found"));
  SB_ASSIGN_OR_RETURN(HashAlgo algo, Algorithm(fd));
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  if (!fd.Has("batch_input")) {
    if (fd.Has("signature") && !IsSigning(p->type))
      return InvalidArgument("key type " + std::string(KeyTypeName(p->type)) + " does not support verification");
    if (!fd.Has("hmac") && !fd.Has("signature"))
      return InvalidArgument("neither a 'signature' nor an 'hmac' were given to verify");
  }
  return fields::AnswerItems(fd, items, [&](const Json& item) -> Result<Json> {
    if (!item.contains("signature")) return VerifyOne(*p, algo, item);
    auto r = VerifySignatureItem(*p, fd, item);
    // A batch item's signature failure still says it is not valid (Vault's shape).
    if (!r.ok() && fd.Has("batch_input")) return Json{{"valid", false}, {"error", r.status().message()}};
    return r;
  });
}

Result<Response> TransitBackend::Hash(Req&, Fd& fd) {
  if (!fd.Has("input")) return InvalidArgument("input missing");
  SB_ASSIGN_OR_RETURN(SecureBytes input, Input(fd.raw()));
  SB_ASSIGN_OR_RETURN(std::string format, fd.GetString("format"));
  if (format != "hex" && format != "base64")
    return InvalidArgument("unsupported encoding format " + format + "; must be \"hex\" or \"base64\"");
  SB_ASSIGN_OR_RETURN(HashAlgo algo, Algorithm(fd));
  SB_ASSIGN_OR_RETURN(std::string sum, Encoded(Digest(algo, input.view()), format));
  return Response::WithData(Json{{"sum", std::move(sum)}});
}

Result<Response> TransitBackend::Random(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(int64_t bytes, fd.GetInt("bytes"));
  if (fd.Get("urlbytes").is_string()) {
    const std::string& url = fd.Get("urlbytes").get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(url.data(), url.data() + url.size(), bytes);
    if (ec != std::errc() || end != url.data() + url.size())
      return InvalidArgument("error parsing url-set byte count: strconv.Atoi: parsing \"" + url +
                             "\": invalid syntax");
  }
  SB_ASSIGN_OR_RETURN(std::string format, fd.GetString("format"));
  SB_ASSIGN_OR_RETURN(std::string source, fd.GetString("source"));
  if (!source.empty() && source != "platform" && source != "seal" && source != "all")
    return InvalidArgument("unsupported entropy source \"" + source + "\"; must be \"platform\" or \"seal\", or \"all\"");
  if (format != "hex" && format != "base64")
    return InvalidArgument("unsupported encoding format \"" + format + "\"; must be \"hex\" or \"base64\"");
  if (bytes < 1) return InvalidArgument("'bytes' cannot be less than 1");
  if (bytes > kMaxRandomBytes) return InvalidArgument("'bytes' should be less than " + std::to_string(kMaxRandomBytes));
  // Every source is the platform CSPRNG: this server has no seal device to draw from.
  SecureBytes random = crypto::RandomBytes(static_cast<size_t>(bytes));
  SB_ASSIGN_OR_RETURN(std::string out, Encoded(random.view(), format));
  return Response::WithData(Json{{"random_bytes", std::move(out)}});
}

}  // namespace sealbox::engines::transit
