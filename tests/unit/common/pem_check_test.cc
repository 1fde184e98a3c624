#include "pier/common/pem_check.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pier::tls {
namespace {

struct Pair {
  std::string chain_pem;
  std::string key_pem;
};

std::string ReadAll(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

enum class Flaw { kNone, kUndecodableExtension };

// A self-signed certificate made at test time (no key material is checked in).
Pair MakeCertificate(EVP_PKEY* key, Flaw flaw) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("app.example.com"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (flaw == Flaw::kUndecodableExtension) {
    // A subjectKeyIdentifier whose value is not the DER OCTET STRING it must be: the
    // certificate still parses, its extensions do not.
    std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> value(ASN1_OCTET_STRING_new(),
                                                                               ASN1_OCTET_STRING_free);
    const unsigned char garbage[] = {0x04, 0x7f, 0x01};
    ASN1_OCTET_STRING_set(value.get(), garbage, sizeof garbage);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, NID_subject_key_identifier, 0, value.get());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return Pair{ReadAll(cert_bio.get()), ReadAll(key_bio.get())};
}

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

TEST(CheckKeyPair, AGoodPairPasses) {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  const Pair pair = MakeCertificate(key.get(), Flaw::kNone);
  const auto checked = CheckKeyPair(pair.chain_pem, pair.key_pem);
  EXPECT_TRUE(checked) << checked.error();
}

TEST(CheckKeyPair, AKeyOfAnotherCertificateFails) {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  KeyPtr other(EVP_EC_gen("P-256"), EVP_PKEY_free);
  const Pair pair = MakeCertificate(key.get(), Flaw::kNone);
  const Pair stranger = MakeCertificate(other.get(), Flaw::kNone);
  const auto checked = CheckKeyPair(pair.chain_pem, stranger.key_pem);
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("does not match"), std::string::npos) << checked.error();
}

// Found by the manifest pipeline fuzzer: a certificate that parses but whose extension does not
// decode passed the controller's check, and the dataplane refused the whole snapshot for it.
TEST(CheckKeyPair, ACertificateWhoseExtensionDoesNotDecodeFails) {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  const Pair pair = MakeCertificate(key.get(), Flaw::kUndecodableExtension);
  const auto checked = CheckKeyPair(pair.chain_pem, pair.key_pem);
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("cannot serve TLS"), std::string::npos) << checked.error();
}

// OpenSSL's default security level refuses a 1024-bit RSA key in a server context.
TEST(CheckKeyPair, AKeyBelowTheSecurityLevelFails) {
  KeyPtr key(EVP_RSA_gen(1024), EVP_PKEY_free);
  const Pair pair = MakeCertificate(key.get(), Flaw::kNone);
  const auto checked = CheckKeyPair(pair.chain_pem, pair.key_pem);
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("cannot serve TLS"), std::string::npos) << checked.error();
}

TEST(CheckKeyPair, GarbageFailsWithAReason) {
  const auto checked = CheckKeyPair("not pem", "not pem either");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("no PEM certificate"), std::string::npos) << checked.error();
}

}  // namespace
}  // namespace pier::tls
