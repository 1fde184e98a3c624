#include "tls/default_certificate.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tls/server_settings.h"

namespace pier::dataplane::tls {

namespace {

// Long enough that a dataplane never outlives it; browsers reject it anyway (self-signed).
constexpr long kDefaultValiditySeconds = 365L * 24 * 3600;
constexpr int kSerialBytes = 16;

template <class T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

std::string Drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace

Result<PemKeyPair> GenerateDefaultCertificate() {
  OpenSslPtr<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  OpenSslPtr<X509, X509_free> cert(X509_new());
  if (!key || !cert) return Fail("default certificate: key generation failed");
  unsigned char serial_bytes[kSerialBytes];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return Fail("default certificate: no randomness");
  serial_bytes[0] &= 0x7f;  // a positive serial number
  OpenSslPtr<BIGNUM, BN_free> serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  X509_set_version(cert.get(), 2);
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Fail("default certificate: serial number");
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kDefaultValiditySeconds);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(kDefaultCommonName), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Fail("default certificate: signing failed");

  OpenSslPtr<BIO, BIO_free_all> cert_bio(BIO_new(BIO_s_mem()));
  OpenSslPtr<BIO, BIO_free_all> key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Fail("default certificate: PEM encoding failed");
  }
  return PemKeyPair{Drain(cert_bio.get()), Drain(key_bio.get())};
}

Result<std::shared_ptr<const ServerCertificate>> MakeDefaultServerCertificate() {
  auto pair = GenerateDefaultCertificate();
  if (!pair) return Fail(pair.error());
  auto context = MakeServerContext(pair->chain_pem, pair->key_pem);
  if (!context) return Fail("default certificate: " + context.error());
  auto certificate = std::make_shared<ServerCertificate>();
  certificate->context = std::move(*context);
  certificate->not_after = LeafNotAfter(pair->chain_pem);
  return std::shared_ptr<const ServerCertificate>(std::move(certificate));
}

}  // namespace pier::dataplane::tls
