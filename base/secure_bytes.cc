#include "base/secure_bytes.h"

#include <openssl/crypto.h>

namespace sealbox {

SecureBytes& SecureBytes::operator=(const SecureBytes& o) {
  if (this != &o) {
    Wipe();
    b_ = o.b_;
  }
  return *this;
}

SecureBytes& SecureBytes::operator=(SecureBytes&& o) noexcept {
  if (this != &o) {
    Wipe();
    b_ = std::move(o.b_);
    o.b_.clear();
  }
  return *this;
}

void SecureBytes::Append(const uint8_t* p, size_t n) {
  // Grow by copy so a reallocation never leaves an unwiped old block behind.
  std::vector<uint8_t> grown;
  grown.reserve(b_.size() + n);
  grown.insert(grown.end(), b_.begin(), b_.end());
  grown.insert(grown.end(), p, p + n);
  Wipe();
  b_ = std::move(grown);
}

void SecureBytes::Wipe() {
  if (!b_.empty()) OPENSSL_cleanse(b_.data(), b_.size());
  b_.clear();
}

bool SecureBytes::Equals(const SecureBytes& o) const {
  if (b_.size() != o.b_.size()) return false;
  if (b_.empty()) return true;
  return CRYPTO_memcmp(b_.data(), o.b_.data(), b_.size()) == 0;
}

}  // namespace sealbox
