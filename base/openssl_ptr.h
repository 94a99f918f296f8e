// Owning pointers to OpenSSL objects, each released by OpenSSL's own free
// function (SecretBn clears the number first: it holds key material).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

namespace sealbox::ossl {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
template <class T, auto Free>
using Ptr = std::unique_ptr<T, Deleter<Free>>;

using Pkey = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtx = Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using Bio = Ptr<BIO, BIO_free>;
using Cert = Ptr<X509, X509_free>;
using Bn = Ptr<BIGNUM, BN_free>;
using SecretBn = Ptr<BIGNUM, BN_clear_free>;
using BnCtx = Ptr<BN_CTX, BN_CTX_free>;
using ParamBld = Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Ptr<OSSL_PARAM, OSSL_PARAM_free>;
using EcdsaSig = Ptr<ECDSA_SIG, ECDSA_SIG_free>;

}  // namespace sealbox::ossl
