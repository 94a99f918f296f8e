#include "engines/transit/rsa_encryption.h"

#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base/openssl_ptr.h"
#include "engines/transit/asymmetric.h"

namespace sealbox::engines::transit {

namespace {

using Ctx = ossl::PkeyCtx;

constexpr size_t kSha256Size = 32;

// An OAEP(SHA-256) context over the key, for encryption or decryption.
Result<Ctx> OaepCtx(const SecureBytes& der, bool encrypt, const EVP_MD* md) {
  SB_ASSIGN_OR_RETURN(EVP_PKEY * raw, LoadKeyDer(der));  // encryption needs only the public half
  ossl::Pkey key(raw);
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return Corruption("transit: unreadable RSA key");
  Ctx ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  bool ok = ctx && (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1;
  if (!ok) return Internal("transit: RSA set-up failed");
  return ctx;
}

// The modulus size in bytes of the context's key.
size_t ModulusBytes(EVP_PKEY_CTX* ctx) { return static_cast<size_t>(EVP_PKEY_get_size(EVP_PKEY_CTX_get0_pkey(ctx))); }

}  // namespace

Result<std::string> RsaOaepEncrypt(const SecureBytes& private_der, std::string_view plaintext) {
  SB_ASSIGN_OR_RETURN(Ctx ctx, OaepCtx(private_der, true, EVP_sha256()));
  size_t k = ModulusBytes(ctx.get());
  if (plaintext.size() + 2 * kSha256Size + 2 > k)
    return InvalidArgument("failed to RSA encrypt the plaintext: crypto/rsa: message too long for RSA key size");
  std::string out(k, '\0');
  size_t len = k;
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size()) != 1)
    return Internal("failed to RSA encrypt the plaintext");
  out.resize(len);
  return out;
}

Result<SecureBytes> RsaOaepDecrypt(const SecureBytes& private_der, std::string_view ciphertext, const EVP_MD* md) {
  SB_ASSIGN_OR_RETURN(Ctx ctx, OaepCtx(private_der, false, md ? md : EVP_sha256()));
  size_t k = ModulusBytes(ctx.get());
  SecureBytes buf(k);
  size_t len = k;
  // Go refuses a ciphertext longer than the modulus before any arithmetic.
  if (ciphertext.size() > k ||
      EVP_PKEY_decrypt(ctx.get(), buf.data(), &len, reinterpret_cast<const unsigned char*>(ciphertext.data()),
                       ciphertext.size()) != 1) {
    ERR_clear_error();  // the reason stays unsaid (no padding oracle in the answer)
    return InvalidArgument("failed to RSA decrypt the ciphertext: crypto/rsa: decryption error");
  }
  return SecureBytes(buf.data(), len);
}

}  // namespace sealbox::engines::transit
