// The plain SHA-256 state (deprecated in OpenSSL 3, still supported) is what
// makes a precomputed HMAC key cheap to copy; see HmacSha256Key.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "base/openssl_ptr.h"

namespace sealbox::crypto {
namespace {

using CipherCtx = ossl::CipherCtx;

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Algorithms fetched once: OpenSSL 3 otherwise looks the implementation up
// (name map, locks) on every EVP_aes_256_gcm()/EVP_sha256()/HMAC() call, which
// measured as a third of the cost of decrypting a 1 KiB entry.
const EVP_CIPHER* AesGcm() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (c == nullptr) std::abort();
  return c;
}

const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) std::abort();
  return md;
}

// Request ids and AEAD nonces are drawn many thousands of times a second;
// one RAND_bytes call per 12 or 16 bytes cost more than the rest of the id
// (or half of sealing a 1 KiB entry). Each thread draws a block at once and
// hands it out; used bytes are wiped.
constexpr size_t kPool = 512;
thread_local uint8_t random_pool[kPool];
thread_local size_t random_left = 0;

// A forked child must never hand out what its parent may still hand out
// (two processes, one nonce). Only the forking thread lives on in the child.
void ForgetPoolInChild() {
  OPENSSL_cleanse(random_pool, kPool);
  random_left = 0;
}
[[maybe_unused]] const int kForkHandler = pthread_atfork(nullptr, nullptr, ForgetPoolInChild);

void PooledRandom(uint8_t* out, size_t n) {
  if (n > kPool) return RandomFill(out, n);
  if (random_left < n) {
    RandomFill(random_pool, kPool);
    random_left = kPool;
  }
  uint8_t* p = random_pool + (kPool - random_left);
  std::memcpy(out, p, n);
  OPENSSL_cleanse(p, n);
  random_left -= n;
}

}  // namespace

void RandomFill(uint8_t* out, size_t n) {
  if (n == 0) return;
  // A failing CSPRNG leaves no safe way to continue: keys would be predictable.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

SecureBytes RandomBytes(size_t n) {
  SecureBytes b(n);
  RandomFill(b.data(), n);
  return b;
}

std::string RandomBase62(size_t n) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  out.reserve(n);
  uint8_t buf[64];
  while (out.size() < n) {
    RandomFill(buf, sizeof buf);
    for (uint8_t c : buf) {
      if (c >= 248) continue;  // 248 = 62*4: keep the distribution uniform
      out.push_back(kAlphabet[c % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

std::string Uuid() {
  uint8_t b[16];
  PooledRandom(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string h = HexEncode(std::string_view(reinterpret_cast<char*>(b), 16));
  for (size_t dash : {8, 13, 18, 23}) h.insert(dash, 1, '-');
  return h;
}

Result<std::string> AeadSeal(const SecureBytes& key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != kAesKeySize) return Internal("bad key size");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal();
  std::string out(kGcmNonceSize + plaintext.size() + kGcmTagSize, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  PooledRandom(o, kGcmNonceSize);
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), AesGcm(), nullptr, key.data(), o) != 1) return Internal();
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1)
    return Internal();
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), o + kGcmNonceSize, &len, U8(plaintext), static_cast<int>(plaintext.size())) != 1)
    return Internal();
  if (EVP_EncryptFinal_ex(ctx.get(), o + kGcmNonceSize + plaintext.size(), &len) != 1) return Internal();
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, o + kGcmNonceSize + plaintext.size()) != 1)
    return Internal();
  return out;
}

Result<SecureBytes> AeadOpen(const SecureBytes& key, std::string_view sealed, std::string_view aad) {
  if (key.size() != kAesKeySize) return Internal("bad key size");
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) return Corruption("ciphertext too short");
  const size_t ct_len = sealed.size() - kGcmNonceSize - kGcmTagSize;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Internal();
  const uint8_t* s = U8(sealed);
  SecureBytes out(ct_len);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), AesGcm(), nullptr, key.data(), s) != 1) return Internal();
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1)
    return Corruption("decrypt failed");
  if (ct_len > 0 &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, s + kGcmNonceSize, static_cast<int>(ct_len)) != 1)
    return Corruption("decrypt failed");
  uint8_t tag[kGcmTagSize];
  std::memcpy(tag, s + kGcmNonceSize + ct_len, kGcmTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1) return Internal();
  uint8_t dummy[16];
  if (EVP_DecryptFinal_ex(ctx.get(), dummy, &len) != 1) return Corruption("message authentication failed");
  return out;
}

// RFC 2104 with the padded key absorbed once: each signature copies the two
// SHA-256 states (a plain struct copy) and runs two compressions for a short
// message. The EVP interface costs an allocation and a provider context
// duplicate per copy, which was most of an audit leaf hash. Checked against
// OpenSSL's HMAC() and RFC 4231 in the unit tests.
struct HmacSha256Key::States {
  SHA256_CTX inner, outer;
};

HmacSha256Key::HmacSha256Key(std::string_view key) : s_(std::make_unique<States>()) {
  uint8_t block[64] = {};
  if (key.size() > sizeof block) {
    SHA256(U8(key), key.size(), block);
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[64];
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x36;
  if (SHA256_Init(&s_->inner) != 1 || SHA256_Update(&s_->inner, pad, sizeof pad) != 1) std::abort();
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x5c;
  if (SHA256_Init(&s_->outer) != 1 || SHA256_Update(&s_->outer, pad, sizeof pad) != 1) std::abort();
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(block, sizeof block);
}

HmacSha256Key::~HmacSha256Key() { OPENSSL_cleanse(s_.get(), sizeof *s_); }

void HmacSha256Key::SignParts(std::initializer_list<std::string_view> parts, uint8_t (&out)[kSize]) const {
  SHA256_CTX c = s_->inner;
  for (std::string_view p : parts) SHA256_Update(&c, p.data(), p.size());
  uint8_t ih[kSize];
  SHA256_Final(ih, &c);
  c = s_->outer;
  SHA256_Update(&c, ih, sizeof ih);
  SHA256_Final(out, &c);
  OPENSSL_cleanse(ih, sizeof ih);
  OPENSSL_cleanse(&c, sizeof c);
}

std::string HmacSha256Key::Sign(std::string_view msg) const {
  uint8_t mac[kSize];
  SignParts({msg}, mac);
  return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

std::string HmacSha256(std::string_view key, std::string_view msg) { return HmacSha256Key(key).Sign(msg); }

std::string Sha256(std::string_view msg) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  if (EVP_Digest(msg.data(), msg.size(), out, &len, Sha256Md(), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

struct Sha256Stream::Ctx {
  ossl::MdCtx md{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), Sha256Md(), nullptr) != 1) std::abort();
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view piece) {
  if (EVP_DigestUpdate(ctx_->md.get(), piece.data(), piece.size()) != 1) std::abort();
}

std::string Sha256Stream::Finish() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), out, &len) != 1) std::abort();
  if (EVP_DigestInit_ex(ctx_->md.get(), Sha256Md(), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void AppendHex(std::string& out, const uint8_t* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + n * 2);
  for (size_t i = 0; i < n; ++i) {
    out[at + 2 * i] = kHex[bytes[i] >> 4];
    out[at + 2 * i + 1] = kHex[bytes[i] & 15];
  }
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  AppendHex(out, U8(bytes), bytes.size());
  return out;
}

namespace {
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<SecureBytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgument("invalid hex");
  SecureBytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("invalid hex");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string B64Enc(std::string_view in, const char* alpha, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto u = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8 | u(i + 2);
    out += alpha[v >> 18 & 63];
    out += alpha[v >> 12 & 63];
    out += alpha[v >> 6 & 63];
    out += alpha[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = u(i) << 16;
    out += alpha[v >> 18 & 63];
    out += alpha[v >> 12 & 63];
    if (pad) out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = u(i) << 16 | u(i + 1) << 8;
    out += alpha[v >> 18 & 63];
    out += alpha[v >> 12 & 63];
    out += alpha[v >> 6 & 63];
    if (pad) out += "=";
  }
  return out;
}

Result<SecureBytes> B64Dec(std::string_view in, const char* alpha) {
  int8_t rev[256];
  std::memset(rev, -1, sizeof rev);
  for (int k = 0; k < 64; ++k) rev[static_cast<uint8_t>(alpha[k])] = static_cast<int8_t>(k);
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return InvalidArgument("invalid base64");
  SecureBytes out(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (char c : in) {
    int v = rev[static_cast<uint8_t>(c)];
    if (v < 0) return InvalidArgument("invalid base64");
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<uint8_t>(acc >> bits & 0xff);
    }
  }
  return out;
}
}  // namespace

std::string Base64Encode(std::string_view bytes) { return B64Enc(bytes, kB64, true); }
Result<SecureBytes> Base64Decode(std::string_view b64) { return B64Dec(b64, kB64); }
std::string Base64UrlEncode(std::string_view bytes) { return B64Enc(bytes, kB64Url, false); }
Result<SecureBytes> Base64UrlDecode(std::string_view b64) { return B64Dec(b64, kB64Url); }

}  // namespace sealbox::crypto
