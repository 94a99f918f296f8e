// Wiping passwords held in std::string once they are no longer needed (the
// engine's new passwords, a plugin's statements and verifiers).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <openssl/crypto.h>

namespace sealbox::engines::database {

inline void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// Wipes the listed strings when the scope ends.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::initializer_list<std::string*> secrets) : secrets_(secrets) {}
  ~WipeOnExit() {
    for (auto* s : secrets_) Wipe(*s);
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::vector<std::string*> secrets_;
};

}  // namespace sealbox::engines::database
