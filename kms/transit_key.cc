#include "kms/transit_key.h"

#include <charconv>

#include "base/crypto.h"

namespace sealbox::kms {
namespace {

std::string FirstError(const Json& body) {
  if (body.is_object() && body.contains("errors") && body["errors"].is_array() && !body["errors"].empty() &&
      body["errors"][0].is_string())
    return body["errors"][0].get<std::string>();
  return "";
}

// data.<field> as a string, or an error naming the field.
Result<std::string> DataString(const cli::Reply& r, const char* field) {
  const Json& b = r.body;
  if (!b.is_object() || !b.contains("data") || !b["data"].is_object() || !b["data"].contains(field) ||
      !b["data"][field].is_string())
    return Internal(std::string("Sealbox's reply has no data.") + field);
  return b["data"][field].get<std::string>();
}

}  // namespace

void Session::SetToken(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  conn_.token = std::move(token);
}

bool Session::HasToken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !conn_.token.empty();
}

Result<cli::Reply> Session::Call(const std::string& method, const std::string& path, const Json& body) const {
  cli::Connection c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c = conn_;
  }
  return cli::Call(c, method, path, body);
}

Status ReplyError(const cli::Reply& r, std::string_view what) {
  std::string message = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (std::string e = FirstError(r.body); !e.empty()) message += ": " + e;
  switch (r.status) {
    case 503: return message.find("sealed") != std::string::npos ? Status{StatusCode::kSealed, message}
                                                                  : Unavailable(message);
    case 403: return PermissionDenied(message);
    case 400: return InvalidArgument(message);
    case 404: return NotFound(message);
    default: return Unavailable(message);
  }
}

Result<std::string> TransitKey::Encrypt(std::string_view plaintext) const {
  SB_ASSIGN_OR_RETURN(cli::Reply r,
                      session_->Call("POST", mount_ + "/encrypt/" + name_, Json{{"plaintext", crypto::Base64Encode(plaintext)}}));
  if (r.status != 200) return ReplyError(r, "transit encrypt");
  SB_ASSIGN_OR_RETURN(std::string ct, DataString(r, "ciphertext"));
  if (!VersionOf(ct)) return Internal("Sealbox's ciphertext has no version prefix");
  return ct;
}

Result<SecureBytes> TransitKey::Decrypt(std::string_view ciphertext) const {
  SB_ASSIGN_OR_RETURN(cli::Reply r,
                      session_->Call("POST", mount_ + "/decrypt/" + name_, Json{{"ciphertext", std::string(ciphertext)}}));
  if (r.status != 200) return ReplyError(r, "transit decrypt");
  SB_ASSIGN_OR_RETURN(std::string b64, DataString(r, "plaintext"));
  return crypto::Base64Decode(b64);
}

Result<int64_t> TransitKey::LatestVersion() const {
  SB_ASSIGN_OR_RETURN(cli::Reply r, session_->Call("GET", mount_ + "/keys/" + name_));
  if (r.status != 200) return ReplyError(r, "transit key read");
  const Json& d = r.body.is_object() && r.body.contains("data") ? r.body["data"] : Json();
  if (!d.is_object() || !d.contains("latest_version") || !d["latest_version"].is_number_integer())
    return Internal("Sealbox's key reply has no latest_version");
  if (d.value("supports_encryption", false) != true || d.value("supports_decryption", false) != true)
    return InvalidArgument("transit key " + name_ + " cannot encrypt and decrypt (type " +
                           d.value("type", std::string("?")) + ")");
  return d["latest_version"].get<int64_t>();
}

std::string TransitKey::KeyId(int64_t version) const {
  return "sealbox:" + mount_ + "/" + name_ + ":v" + std::to_string(version);
}

std::optional<int64_t> TransitKey::VersionOf(std::string_view ct) {
  constexpr std::string_view kPrefix = "vault:v";
  if (ct.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  ct.remove_prefix(kPrefix.size());
  int64_t v = 0;
  auto [p, ec] = std::from_chars(ct.data(), ct.data() + ct.size(), v);
  if (ec != std::errc() || v < 1 || p == ct.data() + ct.size() || *p != ':') return std::nullopt;
  return v;
}

}  // namespace sealbox::kms
