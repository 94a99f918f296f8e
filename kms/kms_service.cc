#include "kms/kms_service.h"

#include <grpcpp/grpcpp.h>

#include <mutex>

#include "base/log.h"
#include "kms/proto/kms_v2.grpc.pb.h"

namespace sealbox::kms {
namespace {

grpc::Status ToGrpc(const Status& s) {
  switch (s.code()) {
    case StatusCode::kSealed:
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, s.message()};
    case StatusCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, s.message()};
    case StatusCode::kPermissionDenied: return {grpc::StatusCode::PERMISSION_DENIED, s.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::FAILED_PRECONDITION, s.message()};
    default: return {grpc::StatusCode::INTERNAL, s.message()};
  }
}

class KmsService final : public v2::KeyManagementService::Service {
 public:
  explicit KmsService(const TransitKey* key) : key_(key) {}

  grpc::Status Status(grpc::ServerContext*, const v2::StatusRequest*, v2::StatusResponse* out) override {
    out->set_version("v2");
    auto version = key_->LatestVersion();
    std::lock_guard<std::mutex> lock(mu_);
    if (version.ok()) {
      last_key_id_ = key_->KeyId(*version);
      out->set_healthz("ok");
    } else {
      // Not ok, with the reason; the last key_id stays, so a seal is not
      // taken for a rotation.
      out->set_healthz("sealbox: " + version.status().message());
    }
    out->set_key_id(last_key_id_.empty() ? "unknown" : last_key_id_);
    return grpc::Status::OK;
  }

  grpc::Status Encrypt(grpc::ServerContext*, const v2::EncryptRequest* in, v2::EncryptResponse* out) override {
    if (in->plaintext().empty() || in->plaintext().size() > kMaxPlaintext)
      return {grpc::StatusCode::INVALID_ARGUMENT, "plaintext must be 1 to 65536 bytes"};
    auto ct = key_->Encrypt(in->plaintext());
    if (!ct.ok()) {
      log::Warn("kms-plugin: Encrypt (uid " + in->uid().substr(0, 64) + ") failed: " + ct.status().message());
      return ToGrpc(ct.status());
    }
    out->set_key_id(key_->KeyId(*TransitKey::VersionOf(*ct)));
    out->set_ciphertext(std::move(ct).value());
    return grpc::Status::OK;
  }

  grpc::Status Decrypt(grpc::ServerContext*, const v2::DecryptRequest* in, v2::DecryptResponse* out) override {
    if (!TransitKey::VersionOf(in->ciphertext()) || in->ciphertext().size() > 2 * kMaxPlaintext)
      return {grpc::StatusCode::INVALID_ARGUMENT, "not a Sealbox Transit ciphertext"};
    auto pt = key_->Decrypt(in->ciphertext());
    if (!pt.ok()) {
      log::Warn("kms-plugin: Decrypt (uid " + in->uid().substr(0, 64) + ") failed: " + pt.status().message());
      return ToGrpc(pt.status());
    }
    out->set_plaintext(pt->data(), pt->size());
    return grpc::Status::OK;
  }

 private:
  const TransitKey* key_;
  std::mutex mu_;
  std::string last_key_id_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewKmsService(const TransitKey* key) { return std::make_unique<KmsService>(key); }

}  // namespace sealbox::kms
