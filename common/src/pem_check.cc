#include "pier/common/pem_check.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

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

struct CrlFree {
  void operator()(X509_CRL* crl) const noexcept { X509_CRL_free(crl); }
};
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
struct StoreFree {
  void operator()(X509_STORE* store) const noexcept { X509_STORE_free(store); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

// BIO_new_mem_buf takes an int length; real chains, bundles and CRLs are far smaller.
constexpr std::size_t kMaxPemBytes = 1u << 24;

BioPtr MemoryBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// A PEM read loop ends when no further block starts; any other error is a broken block.
bool AtEndOfPem() {
  const unsigned long code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
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

Result<bool> UseKeyPair(SSL_CTX* context, std::string_view certificate_chain_pem, std::string_view private_key_pem) {
  if (context == nullptr) return Fail("no TLS context to install the certificate in");
  if (certificate_chain_pem.size() > kMaxPemBytes || private_key_pem.size() > kMaxPemBytes) {
    return Fail("PEM data larger than 16 MiB");
  }
  ERR_clear_error();
  BioPtr chain_bio = MemoryBio(certificate_chain_pem);
  if (!chain_bio) return Fail("out of memory reading the certificate chain");
  // The leaf with its trust data, as nginx and asio read a served certificate: bytes after the
  // certificate's DER inside its PEM block (which PEM_read_bio_X509 ignores) are refused.
  X509Ptr leaf(PEM_read_bio_X509_AUX(chain_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!leaf) return Fail("certificate chain holds no PEM certificate that decodes cleanly: " + TakeOpenSslError());
  std::vector<X509Ptr> intermediates;
  for (int index = 2;; ++index) {
    X509Ptr next(PEM_read_bio_X509(chain_bio.get(), nullptr, NoPassphrase, nullptr));
    if (next) {
      intermediates.push_back(std::move(next));
      continue;
    }
    // Running out of input is how the loop ends; anything else is a broken block.
    if (!AtEndOfPem()) {
      return Fail("certificate " + std::to_string(index) + " of the chain does not parse: " + TakeOpenSslError());
    }
    ERR_clear_error();
    break;
  }

  BioPtr key_bio = MemoryBio(private_key_pem);
  if (!key_bio) return Fail("out of memory reading the private key");
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) return Fail("private key does not parse: " + TakeOpenSslError());
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    return Fail("private key does not match the leaf certificate: " + TakeOpenSslError());
  }
  // Installing does more than parsing: it decodes the leaf's extensions and applies the security
  // level (key sizes, signature digests) to the leaf and to every certificate of the chain. An
  // extension that does not decode leaves an error queued even when the call succeeds.
  ERR_clear_error();
  if (SSL_CTX_use_certificate(context, leaf.get()) != 1 || ERR_peek_error() != 0 ||
      (X509_get_extension_flags(leaf.get()) & EXFLAG_INVALID) != 0) {
    return Fail("the leaf certificate cannot serve TLS: " + TakeOpenSslError());
  }
  if (SSL_CTX_clear_chain_certs(context) != 1) return Fail("cannot reset the chain: " + TakeOpenSslError());
  for (std::size_t i = 0; i < intermediates.size(); ++i) {
    // add0 takes the reference on success only.
    if (SSL_CTX_add0_chain_cert(context, intermediates[i].get()) != 1) {
      return Fail("certificate " + std::to_string(i + 2) + " of the chain cannot be used: " + TakeOpenSslError());
    }
    static_cast<void>(intermediates[i].release());
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    return Fail("the private key cannot serve TLS: " + TakeOpenSslError());
  }
  ERR_clear_error();
  return true;
}

Result<bool> CheckKeyPair(const std::string& certificate_chain_pem, const std::string& private_key_pem) {
  ContextPtr context(SSL_CTX_new(TLS_server_method()));
  if (!context) return Fail("out of memory checking the certificate: " + TakeOpenSslError());
  return UseKeyPair(context.get(), certificate_chain_pem, private_key_pem);
}

namespace {

// Reads every PEM block of a bundle that goes into `store` with `read` (PEM_read_bio_X509 or
// PEM_read_bio_X509_CRL) and hands each to `add` with its number (from 1), which may refuse it.
// The bundle must hold at least one block of the kind (`kind`: "certificate", "CRL") and
// nothing that fails to parse; `what` names it in errors. The error queue is left empty.
template <class Object, class Free, class Add>
Result<bool> ReadBundle(X509_STORE* store, std::string_view pem, const std::string& what, const std::string& kind,
                        Object* (*read)(BIO*, Object**, pem_password_cb*, void*), Add&& add) {
  if (store == nullptr) return Fail(what + ": no store to add to");
  if (pem.size() > kMaxPemBytes) return Fail(what + " is larger than 16 MiB");
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  if (!bio) return Fail(what + ": out of memory");
  int count = 0;
  for (;;) {
    std::unique_ptr<Object, Free> object(read(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!object) break;
    ++count;
    if (auto added = add(*object, kind + " " + std::to_string(count) + " of " + what); !added) {
      ERR_clear_error();
      return Fail(added.error());
    }
  }
  const bool clean_end = AtEndOfPem();
  ERR_clear_error();  // OpenSSL's reason for a broken block ("wrong tag") tells a reader nothing more
  if (!clean_end) return Fail(kind + " " + std::to_string(count + 1) + " of " + what + " does not parse");
  if (count == 0) return Fail(what + " holds no PEM " + kind);
  return true;
}

}  // namespace

Result<bool> AddCertificates(X509_STORE* store, std::string_view pem, STACK_OF(X509_NAME) * names,
                             const std::string& what) {
  auto add = [&](X509& certificate, const std::string& which) -> Result<bool> {
    if (X509_STORE_add_cert(store, &certificate) != 1) return Fail(which + " cannot be used: " + TakeOpenSslError());
    if (names == nullptr) return true;
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(&certificate));
    if (name == nullptr || sk_X509_NAME_push(names, name) == 0) {
      X509_NAME_free(name);
      return Fail(which + ": out of memory");
    }
    return true;
  };
  return ReadBundle<X509, X509Free>(store, pem, what, "certificate", PEM_read_bio_X509, add);
}

Result<bool> AddCrls(X509_STORE* store, std::string_view pem, std::optional<int64_t>* earliest_next_update,
                     const std::string& what) {
  auto add = [&](X509_CRL& crl, const std::string& which) -> Result<bool> {
    std::tm parts{};
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(&crl);
    if (earliest_next_update != nullptr && next != nullptr && ASN1_TIME_to_tm(next, &parts) == 1) {
      const int64_t when = static_cast<int64_t>(timegm(&parts));
      if (!*earliest_next_update || when < **earliest_next_update) *earliest_next_update = when;
    }
    if (X509_STORE_add_crl(store, &crl) != 1) return Fail(which + " cannot be used: " + TakeOpenSslError());
    return true;
  };
  return ReadBundle<X509_CRL, CrlFree>(store, pem, what, "CRL", PEM_read_bio_X509_CRL, add);
}

Result<bool> CheckCertificateBundle(std::string_view pem, const std::string& what) {
  StorePtr store(X509_STORE_new());
  if (!store) return Fail(what + ": out of memory");
  return AddCertificates(store.get(), pem, nullptr, what);
}

Result<bool> CheckCrlBundle(std::string_view pem, const std::string& what) {
  StorePtr store(X509_STORE_new());
  if (!store) return Fail(what + ": out of memory");
  return AddCrls(store.get(), pem, nullptr, what);
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
