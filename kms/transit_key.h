// The plugin's side of Sealbox: one Transit key reached over Sealbox's HTTP
// API with the CLI's client (cli/client.h), and the session (address, TLS,
// current token) that every call and the token keeper share. No gRPC here.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "cli/client.h"

namespace sealbox::kms {

// The connection and its token; the token keeper replaces the token while
// calls run. Thread-safe.
class Session {
 public:
  explicit Session(cli::Connection conn) : conn_(std::move(conn)) {}
  void SetToken(std::string token);
  bool HasToken() const;
  // A call as the current token. Errors: the network (kUnavailable); any
  // HTTP status is a Reply.
  Result<cli::Reply> Call(const std::string& method, const std::string& path, const Json& body = nullptr) const;

 private:
  mutable std::mutex mu_;
  cli::Connection conn_;
};

// A non-2xx reply as a Status: 503 sealed → kSealed, 403 → kPermissionDenied,
// 400 → kInvalidArgument, 404 → kNotFound, else kUnavailable; the message is
// Sealbox's first error text (which never holds request data).
Status ReplyError(const cli::Reply& r, std::string_view what);

class TransitKey {
 public:
  TransitKey(const Session* session, std::string mount, std::string name)
      : session_(session), mount_(std::move(mount)), name_(std::move(name)) {}

  // transit/encrypt: Transit's ciphertext text, "vault:v<N>:<base64>".
  Result<std::string> Encrypt(std::string_view plaintext) const;
  // transit/decrypt of such a text.
  Result<SecureBytes> Decrypt(std::string_view ciphertext) const;
  // The key's latest version, read from transit/keys/<name>: fails while
  // Sealbox is unreachable or sealed, the token is refused, or the key
  // cannot both encrypt and decrypt (kInvalidArgument).
  Result<int64_t> LatestVersion() const;

  // The KMS key_id for a version: "sealbox:<mount>/<name>:v<N>". It moves
  // with every rotation, so kube-apiserver makes a new DEK.
  std::string KeyId(int64_t version) const;
  const std::string& name() const { return name_; }

  // N of "vault:v<N>:..."; nullopt for anything else.
  static std::optional<int64_t> VersionOf(std::string_view ciphertext);

 private:
  const Session* session_;
  std::string mount_;
  std::string name_;
};

}  // namespace sealbox::kms
