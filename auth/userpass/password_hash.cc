#include "auth/userpass/password_hash.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <condition_variable>
#include <mutex>
#include <vector>

namespace sealbox::auth::userpass {
namespace {

// OWASP's first Argon2id setting (19 MiB, 2 passes, 1 lane): about as costly
// as bcrypt at cost 10, Vault's userpass default, for a guesser, far more for
// one with GPUs.
constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

// A counting semaphore for the hashes in flight.
class HashSlots {
 public:
  void Acquire() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return in_use_ < kConcurrentHashes; });
    ++in_use_;
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      --in_use_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int in_use_ = 0;
};

HashSlots& Slots() {
  static HashSlots slots;
  return slots;
}

struct SlotGuard {
  SlotGuard() { Slots().Acquire(); }
  ~SlotGuard() { Slots().Release(); }
};

// A fixed hash nobody's password is: made once, on the first unknown user.
const std::string& DecoyHash() {
  static const std::string decoy = [] {
    auto h = HashPassword("sealbox-userpass-decoy");
    return h.ok() ? *h : std::string();
  }();
  return decoy;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return InvalidArgument("password too long");
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return Internal("no randomness for a salt");
  const size_t len = argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(len);
  int rc;
  {
    SlotGuard slot;
    rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, password.data(), password.size(), salt, sizeof(salt),
                               kHashBytes, encoded.data(), encoded.size());
  }
  if (rc != ARGON2_OK) return Internal(std::string("password hashing failed: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (encoded.empty() || password.size() > kMaxPasswordBytes) return false;
  SlotGuard slot;
  // libargon2 derives the hash with the stored parameters and compares in
  // constant time.
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void VerifyAgainstNothing(std::string_view password) {
  const std::string& decoy = DecoyHash();
  if (!decoy.empty()) (void)VerifyPassword(decoy, password.substr(0, kMaxPasswordBytes));
}

}  // namespace sealbox::auth::userpass
