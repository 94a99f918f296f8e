// encrypt, decrypt, rewrap and datakey: one item or a batch_input of items,
// each answered on its own (Vault's batch results, `reference` echoed).
#include <optional>

#include "base/crypto.h"
#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

using logical::Response;

namespace {

// The inputs every cipher item may carry.
struct ItemInputs {
  SecureBytes context;
  SecureBytes aad;
};

Result<ItemInputs> CommonInputs(const Json& item) {
  ItemInputs in;
  SB_ASSIGN_OR_RETURN(in.context, fields::ItemBase64(item, "context"));
  SB_ASSIGN_OR_RETURN(in.aad, fields::ItemBase64(item, "associated_data"));
  return in;
}

// Vault refuses associated data, item by item, for a key that is no AEAD.
std::optional<std::string> AadRefusal(const KeyPolicy& p, const Json& items, const Json& item, const ItemInputs& in) {
  if (in.aad.empty() || IsAead(p.type)) return std::nullopt;
  size_t i = 0;
  while (i < items.size() && &items[i] != &item) ++i;
  return "'[" + std::to_string(i) + "].associated_data' provided for non-AEAD cipher suite " +
         std::string(KeyTypeName(p.type));
}

// The answer to an item refused for its associated data: the request's error
// when it is the only item; in a batch, the item's error beside `result`,
// not counted as a failure (Vault's batch then still answers 200).
Result<Json> RefuseAad(const logical::FieldData& fd, std::string refusal, Json result) {
  if (!fd.Has("batch_input")) return InvalidArgument(refusal);
  result["error"] = std::move(refusal);
  return result;
}

// Decrypts one item's `ciphertext` with its context and associated data.
Result<Decrypted> DecryptItem(const KeyPolicy& p, const Json& item, const ItemInputs& in) {
  SB_ASSIGN_OR_RETURN(std::string ct, fields::ItemString(item, "ciphertext"));
  return DecryptValue(p, in.context.view(), ct, in.aad.view());
}

// Either every item of a batch has a context or none has (Vault refuses a
// mix: it decides from the first item whether a new key is derived).
Status SameContextUse(const Json& items) {
  auto has_context = [](const Json& item) {
    auto it = item.find("context");
    return it != item.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
  };
  bool first = has_context(items[0]);
  for (const Json& item : items)
    if (has_context(item) != first)
      return InvalidArgument("context should be set either in all the request blocks or in none");
  return Status::Ok();
}

// One item's result object (with the error in place of the result) plus
// whether it failed.
using ItemFn = std::function<Result<Json>(const Json& item)>;

struct BatchRun {
  Json results = Json::array();
  bool any_failed = false;
};

BatchRun RunItems(const Json& items, const ItemFn& fn, const Json& error_extra) {
  BatchRun run;
  for (const Json& item : items) {
    auto reference = fields::ItemString(item, "reference");
    Json out;
    auto r = fn(item);
    if (r.ok()) {
      out = std::move(*r);
    } else {
      out = error_extra;
      out["error"] = r.status().message();
      run.any_failed = true;
    }
    out["reference"] = reference.ok() ? *reference : "";
    run.results.push_back(std::move(out));
  }
  return run;
}

// The answer to a request: the single item's result or error, or the batch
// results (failing the request with `fail_status` when an item failed and the
// operation reports it, as encrypt and decrypt do).
Result<Response> Answer(const logical::FieldData& fd, const Json& items, const ItemFn& fn, bool batch_fails,
                        const Json& error_extra = Json::object()) {
  if (!fd.Has("batch_input")) {
    SB_ASSIGN_OR_RETURN(Json out, fn(items[0]));
    return Response::WithData(std::move(out));
  }
  BatchRun run = RunItems(items, fn, error_extra);
  Response resp = Response::WithData(Json{{"batch_results", std::move(run.results)}});
  if (batch_fails && run.any_failed) {
    auto code = fd.Has("partial_failure_response_code") ? fd.GetInt("partial_failure_response_code") : Result<int64_t>(0);
    resp.http_status = code.ok() && *code >= 200 && *code < 600 && *code != 0 ? static_cast<int>(*code) : 400;
  }
  return resp;
}

}  // namespace

Result<PolicyPtr> TransitBackend::KeyForEncrypt(const std::string& name, Fd& fd, const Json& items) {
  SB_ASSIGN_OR_RETURN(PolicyPtr p, keys_.Get(name));
  if (p) return p;
  // Vault's upsert: the first encryption creates the key.
  KeyPolicy fresh;
  fresh.name = name;
  std::string type_name = fd.Get("type").is_string() ? fd.Get("type").get<std::string>() : "aes256-gcm96";
  auto type = ParseKeyType(type_name);
  if (!type || !IsAead(*type)) return InvalidArgument("unknown key type " + type_name);
  fresh.type = *type;
  SB_ASSIGN_OR_RETURN(std::string first_context, fields::ItemString(items[0], "context"));
  fresh.derived = !first_context.empty();
  if (fd.Has("convergent_encryption")) {
    SB_ASSIGN_OR_RETURN(fresh.convergent, fd.GetBool("convergent_encryption"));
  }
  if (fresh.convergent && !fresh.derived)
    return InvalidArgument("convergent encryption requires derivation to be enabled, so context is required");
  fresh.Rotate(NowSeconds());
  return keys_.CreateIfAbsent(std::move(fresh));
}

Result<Response> TransitBackend::Encrypt(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  if (!fd.Has("batch_input") && !fd.Has("plaintext")) return InvalidArgument("missing plaintext to encrypt");
  SB_RETURN_IF_ERROR(SameContextUse(items));
  SB_ASSIGN_OR_RETURN(PolicyPtr p, KeyForEncrypt(name, fd, items));
  return Answer(fd, items, [&](const Json& item) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(SecureBytes plaintext, fields::ItemBase64(item, "plaintext"));
    SB_ASSIGN_OR_RETURN(ItemInputs in, CommonInputs(item));
    if (auto refusal = AadRefusal(*p, items, item, in)) return RefuseAad(fd, std::move(*refusal), Json::object());
    SB_ASSIGN_OR_RETURN(int64_t requested, fields::ItemInt(item, "key_version"));
    SB_ASSIGN_OR_RETURN(int version, EncryptionVersion(*p, requested));
    SB_ASSIGN_OR_RETURN(std::string ct, EncryptValue(*p, version, in.context.view(), plaintext.view(), in.aad.view()));
    return Json{{"ciphertext", std::move(ct)}, {"key_version", version}};
  }, true);
}

Result<Response> TransitBackend::Decrypt(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  if (!fd.Has("batch_input") && !fd.Has("ciphertext")) return InvalidArgument("missing ciphertext to decrypt");
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "encryption key not found"));
  return Answer(fd, items, [&](const Json& item) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(ItemInputs in, CommonInputs(item));
    if (auto refusal = AadRefusal(*p, items, item, in)) return RefuseAad(fd, std::move(*refusal), {{"plaintext", ""}});
    SB_ASSIGN_OR_RETURN(Decrypted d, DecryptItem(*p, item, in));
    return Json{{"plaintext", crypto::Base64Encode(d.plaintext.view())}};
  }, true, Json{{"plaintext", ""}});
}

Result<Response> TransitBackend::Rewrap(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(Json items, fields::BatchItems(fd));
  if (!fd.Has("batch_input") && !fd.Has("ciphertext")) return InvalidArgument("missing ciphertext to decrypt");
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "encryption key not found"));
  return Answer(fd, items, [&](const Json& item) -> Result<Json> {
    SB_ASSIGN_OR_RETURN(ItemInputs in, CommonInputs(item));  // associated data: no refusal here, as Vault
    SB_ASSIGN_OR_RETURN(Decrypted d, DecryptItem(*p, item, in));
    SB_ASSIGN_OR_RETURN(int64_t requested, fields::ItemInt(item, "key_version"));
    SB_ASSIGN_OR_RETURN(int version, EncryptionVersion(*p, requested));
    SB_ASSIGN_OR_RETURN(std::string out, EncryptValue(*p, version, in.context.view(), d.plaintext.view(), in.aad.view()));
    return Json{{"ciphertext", std::move(out)}, {"key_version", version}};
  }, false);
}

Result<Response> TransitBackend::DataKey(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fields::KeyName(fd));
  SB_ASSIGN_OR_RETURN(std::string mode, fd.GetString("plaintext"));
  if (mode != "plaintext" && mode != "wrapped") return InvalidArgument("Invalid path, must be 'plaintext' or 'wrapped'");
  SB_ASSIGN_OR_RETURN(PolicyPtr p, MustGet(name, "encryption key not found"));
  SB_ASSIGN_OR_RETURN(int64_t bits, fd.GetInt("bits"));
  if (bits != 128 && bits != 256 && bits != 512) return InvalidArgument("invalid bit length");
  SB_ASSIGN_OR_RETURN(ItemInputs in, CommonInputs(fd.raw()));
  SB_ASSIGN_OR_RETURN(int64_t requested, fd.GetInt("key_version"));
  SB_ASSIGN_OR_RETURN(int version, EncryptionVersion(*p, requested));
  SecureBytes datakey = crypto::RandomBytes(static_cast<size_t>(bits / 8));
  SB_ASSIGN_OR_RETURN(std::string ct, EncryptValue(*p, version, in.context.view(), datakey.view(), in.aad.view()));
  Json data{{"ciphertext", std::move(ct)}, {"key_version", version}};
  if (mode == "plaintext") data["plaintext"] = crypto::Base64Encode(datakey.view());
  return Response::WithData(std::move(data));
}

}  // namespace sealbox::engines::transit
