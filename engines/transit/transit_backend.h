// TransitBackend: Vault's Transit secrets engine (`secrets enable transit`),
// encryption as a service. Routes as data (the table in transit_backend.cc):
//   keys, keys/<name>[/config|/rotate|/trim]      key_handlers.cc
//   encrypt, decrypt, rewrap, datakey             cipher_handlers.cc
//   hmac, verify, hash, random                    mac_handlers.cc
//   sign (and verify of signatures)               sign_handlers.cc
//   export/<type>/<name>[/<version>], backup/<name>, restore[/<name>]
//                                                 key_handlers.cc (backup.h)
//   wrapping_key, keys/<name>/import[_version]    import_handlers.cc (key_import.h)
// Key types: aes128-gcm96, aes256-gcm96, chacha20-poly1305, hmac, ed25519,
// ecdsa-p256/p384/p521, rsa-2048/3072/4096; docs/transit.md lists what is served.
//
// Thread-safety: handlers run concurrently; key state is in the KeyStore.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "base/secure_bytes.h"
#include "engines/transit/key_store.h"
#include "logical/routed_backend.h"

namespace sealbox::engines::transit {

class TransitBackend final : public logical::RoutedBackend {
 public:
  // `config.storage` must outlive the backend; `config.clock` may be null.
  // A background thread rotates keys whose auto_rotate_period has passed,
  // checking once a minute as Vault's periodic function does.
  explicit TransitBackend(const logical::BackendConfig& config);
  ~TransitBackend() override;
  void Cleanup() override { keys_.Clear(); }

  // Rotates every key whose auto_rotate_period has passed since its latest
  // version (key_handlers.cc). Fails while the storage does (sealed).
  Status RotateDueKeys();

 private:
  using Req = logical::Request;
  using Fd = logical::FieldData;
  using Resp = Result<logical::Response>;

  // Keys (key_handlers.cc).
  Resp CreateKey(Req& req, Fd& fd);
  Resp ReadKey(Req& req, Fd& fd);
  Resp ListKeys(Req& req, Fd& fd);
  Resp DeleteKey(Req& req, Fd& fd);
  Resp ConfigKey(Req& req, Fd& fd);
  Resp RotateKey(Req& req, Fd& fd);
  Resp TrimKey(Req& req, Fd& fd);
  Resp ExportKey(Req& req, Fd& fd);
  Resp BackupKey(Req& req, Fd& fd);
  Resp RestoreKey(Req& req, Fd& fd);
  // Key import, BYOK (import_handlers.cc).
  Resp WrappingKey(Req& req, Fd& fd);
  Resp ImportKey(Req& req, Fd& fd);
  Resp ImportKeyVersion(Req& req, Fd& fd);
  // The mount's RSA-4096 wrapping key, made on first use.
  Result<PolicyPtr> WrappingKeyPolicy();

  // Encryption (cipher_handlers.cc).
  Resp Encrypt(Req& req, Fd& fd);
  Resp Decrypt(Req& req, Fd& fd);
  Resp Rewrap(Req& req, Fd& fd);
  Resp DataKey(Req& req, Fd& fd);
  // The key to encrypt with, created (Vault's upsert) when absent.
  Result<PolicyPtr> KeyForEncrypt(const std::string& name, Fd& fd, const Json& items);

  // MACs, digests and randomness (mac_handlers.cc).
  Resp HmacInput(Req& req, Fd& fd);
  Resp Verify(Req& req, Fd& fd);
  Resp Hash(Req& req, Fd& fd);
  Resp Random(Req& req, Fd& fd);
  // Signatures (sign_handlers.cc); verify/ dispatches items with a signature.
  Resp SignInput(Req& req, Fd& fd);
  static Result<Json> VerifySignatureItem(const KeyPolicy& p, const Fd& fd, const Json& item);

  // The named key; InvalidArgument `missing` when there is none.
  Result<PolicyPtr> MustGet(const std::string& name, const std::string& missing);
  int64_t NowSeconds() const;

  void RotateLoop();

  logical::BackendConfig config_;
  KeyStore keys_;
  std::mutex rotate_mu_;
  std::condition_variable rotate_cv_;
  bool stopping_ = false;
  std::thread rotator_;  // last: started once the rest is built
};

// Request-field helpers shared by the handler files.
namespace fields {
// The valid key name of a route capture (Vault's name pattern: word
// characters, '-' and '.', starting and ending with a word character).
bool ValidKeyName(const std::string& name);
// The route's `name` capture; NotFound "unsupported path" when not a valid
// key name (Vault's pattern would not have matched).
Result<std::string> KeyName(const logical::FieldData& fd);
// The items of `batch_input`, or, without one, the request itself as the only
// item; InvalidArgument when batch_input is not a non-empty array of objects.
Result<Json> BatchItems(const logical::FieldData& fd);
// A string field of one item ("" when absent); weakly typed as Vault.
Result<std::string> ItemString(const Json& item, const char* key);
Result<int64_t> ItemInt(const Json& item, const char* key);
// The base64 field decoded with Go's strict decoder; "" when absent.
Result<SecureBytes> ItemBase64(const Json& item, const char* key);
// The single item's answer (its error fails the request), or every item's
// result (or error) with its reference under batch_results, answered 200.
Result<logical::Response> AnswerItems(const logical::FieldData& fd, const Json& items,
                                      const std::function<Result<Json>(const Json&)>& fn);
}  // namespace fields

}  // namespace sealbox::engines::transit
