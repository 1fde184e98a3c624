#include "pier/common/pem_check.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace pier::tls {
namespace {

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
struct ContextFree {
  void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
using ContextPtr = std::unique_ptr<SSL_CTX, ContextFree>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// OpenSSL reports through a thread-local error queue; leaving entries behind would make a later,
// unrelated OpenSSL call on this thread report our failure.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

// Without a callback OpenSSL asks for an encrypted key's passphrase on the terminal, which would
// block the config thread forever; an encrypted key is simply refused.
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

Result<bool> CheckKeyPair(const std::string& certificate_chain_pem, const std::string& private_key_pem) {
  // BIO_new_mem_buf takes an int length.
  constexpr std::size_t kMaxPemBytes = 1u << 24;
  if (certificate_chain_pem.size() > kMaxPemBytes ||
      private_key_pem.size() > kMaxPemBytes) {
    return Fail("PEM data larger than 16 MiB");
  }
  ERR_clear_error();
  BioPtr chain_bio = MemoryBio(certificate_chain_pem);
  if (!chain_bio) return Fail("out of memory reading the certificate chain");
  // The leaf is read as the dataplane reads it (asio's use_certificate_chain): with its trust
  // data, so bytes after the certificate's DER inside its PEM block (which PEM_read_bio_X509
  // ignores) are refused here as they are there.
  X509Ptr leaf(PEM_read_bio_X509_AUX(chain_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!leaf) return Fail("certificate chain holds no PEM certificate that decodes cleanly: " + TakeOpenSslError());
  for (int index = 2;; ++index) {
    X509Ptr next(PEM_read_bio_X509(chain_bio.get(), nullptr, NoPassphrase, nullptr));
    if (next) continue;
    // Running out of input is how the loop ends; anything else is a broken block.
    const unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
      ERR_clear_error();
      break;
    }
    return Fail("certificate " + std::to_string(index) + " of the chain does not parse: " + TakeOpenSslError());
  }

  BioPtr key_bio = MemoryBio(private_key_pem);
  if (!key_bio) return Fail("out of memory reading the private key");
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) return Fail("private key does not parse: " + TakeOpenSslError());
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    return Fail("private key does not match the leaf certificate: " + TakeOpenSslError());
  }
  // Parsing is not all a server context asks of a certificate: installing it also decodes its
  // extensions and applies the security level (key size, signature digest). A certificate that
  // parses but fails there would pass this check and then make the dataplane refuse the whole
  // snapshot, so the pair is installed the way the dataplane installs it.
  ContextPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context) return Fail("out of memory checking the certificate");
  // An extension that does not decode leaves an error queued even when the call succeeds, and
  // the dataplane (asio's use_certificate_chain) counts a queued error as failure.
  ERR_clear_error();
  if (SSL_CTX_use_certificate(context.get(), leaf.get()) != 1 || ERR_peek_error() != 0 ||
      (X509_get_extension_flags(leaf.get()) & EXFLAG_INVALID) != 0) {
    return Fail("the leaf certificate cannot serve TLS: " + TakeOpenSslError());
  }
  if (SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1 || SSL_CTX_check_private_key(context.get()) != 1) {
    return Fail("the private key cannot serve TLS: " + TakeOpenSslError());
  }
  return true;
}

Result<bool> CheckCipherList(const std::string& ciphers) {
  constexpr std::size_t kMaxCipherListBytes = 4096;
  if (ciphers.empty()) return Fail("the cipher list is empty");
  if (ciphers.size() > kMaxCipherListBytes) return Fail("the cipher list is longer than 4096 bytes");
  for (const char c : ciphers) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                         c == '-' || c == '_' || c == '.' || c == '+' || c == '!' || c == '@' || c == '=' ||
                         c == ':' || c == ',' || c == ' ';
    if (!allowed) return Fail("the cipher list holds a character other than letters, digits and -_.+!@=:, ");
  }
  ContextPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context) return Fail("cipher list: " + TakeOpenSslError());
  if (SSL_CTX_set_cipher_list(context.get(), ciphers.c_str()) != 1) {
    ERR_clear_error();
    return Fail("the cipher list selects no cipher OpenSSL has");
  }
  return true;
}

}  // namespace pier::tls
