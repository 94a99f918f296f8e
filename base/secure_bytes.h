// SecureBytes: an owned byte buffer for key material.
//
// Security invariant: the contents are wiped with OPENSSL_cleanse whenever the
// buffer is destroyed, cleared, resized down or moved from. Never put key
// material in a std::string. Not thread-safe (a value type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace sealbox {

class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(size_t n) : b_(n, 0) {}
  SecureBytes(const uint8_t* p, size_t n) : b_(p, p + n) {}
  explicit SecureBytes(std::string_view s)
      : b_(reinterpret_cast<const uint8_t*>(s.data()), reinterpret_cast<const uint8_t*>(s.data()) + s.size()) {}
  SecureBytes(std::initializer_list<uint8_t> il) : b_(il) {}
  SecureBytes(const SecureBytes& o) : b_(o.b_) {}
  SecureBytes(SecureBytes&& o) noexcept : b_(std::move(o.b_)) { o.b_.clear(); }
  SecureBytes& operator=(const SecureBytes& o);
  SecureBytes& operator=(SecureBytes&& o) noexcept;
  ~SecureBytes() { Wipe(); }

  uint8_t* data() { return b_.data(); }
  const uint8_t* data() const { return b_.data(); }
  size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }
  uint8_t& operator[](size_t i) { return b_[i]; }
  uint8_t operator[](size_t i) const { return b_[i]; }
  const uint8_t* begin() const { return b_.data(); }
  const uint8_t* end() const { return b_.data() + b_.size(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(b_.data()), b_.size()}; }

  void Append(const uint8_t* p, size_t n);
  // Wipes and empties the buffer.
  void Wipe();

  // Constant-time equality (length is not secret).
  bool Equals(const SecureBytes& o) const;

 private:
  std::vector<uint8_t> b_;
};

}  // namespace sealbox
