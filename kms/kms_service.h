// The KMS v2 gRPC service over a Transit key: Encrypt and Decrypt are one
// Transit call each; Status reads the key, so it is "ok" only while Sealbox
// is reachable, unsealed, the token accepted and the key able to encrypt,
// and its key_id names the key's latest version.
#pragma once

#include <memory>

#include "kms/transit_key.h"

namespace grpc {
class Service;
}

namespace sealbox::kms {

// Largest plaintext accepted: kube-apiserver sends a 32-byte DEK or seed.
inline constexpr size_t kMaxPlaintext = 64 * 1024;

std::unique_ptr<grpc::Service> NewKmsService(const TransitKey* key);

}  // namespace sealbox::kms
