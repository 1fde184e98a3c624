#include "pier/common/pem_check.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// A CA certificate for `key` named `cn`, signed by `issuer_key` as `issuer` (self-signed
// without one).
X509Ptr Issue(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  X509Ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  if (ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  return cert;
}

std::string Pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  return ReadAll(bio.get());
}

std::string KeyPem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  char passphrase[] = "secret";
  PEM_write_bio_PrivateKey(bio.get(), key, cipher, nullptr, 0, nullptr, cipher != nullptr ? passphrase : nullptr);
  return ReadAll(bio.get());
}

// A leaf under an intermediate under a root: the chain a Secret's tls.crt usually carries.
struct Chain {
  KeyPtr root_key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  KeyPtr intermediate_key{nullptr, EVP_PKEY_free};
  KeyPtr leaf_key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  X509Ptr root{nullptr, X509_free};
  X509Ptr intermediate{nullptr, X509_free};
  X509Ptr leaf{nullptr, X509_free};

  explicit Chain(EVP_PKEY* intermediate_key_in) : intermediate_key(intermediate_key_in, EVP_PKEY_free) {
    root = Issue(root_key.get(), "root", nullptr, nullptr, true);
    intermediate = Issue(intermediate_key.get(), "intermediate", root.get(), root_key.get(), true);
    leaf = Issue(leaf_key.get(), "app.example.com", intermediate.get(), intermediate_key.get(), false);
  }
  std::string chain_pem() const { return Pem(leaf.get()) + Pem(intermediate.get()); }
};

// The dataplane installs the intermediates too, and OpenSSL applies the security level to each
// of them: a chain whose intermediate has a 1024-bit key passed a check that looked at the leaf
// only, and the dataplane then refused the whole snapshot.
TEST(CheckKeyPair, AChainCertificateBelowTheSecurityLevelFails) {
  const Chain weak(EVP_RSA_gen(1024));
  const auto checked = CheckKeyPair(weak.chain_pem(), KeyPem(weak.leaf_key.get()));
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("certificate 2 of the chain cannot be used"), std::string::npos) << checked.error();

  const Chain strong(EVP_EC_gen("P-256"));
  const auto good = CheckKeyPair(strong.chain_pem(), KeyPem(strong.leaf_key.get()));
  EXPECT_TRUE(good) << good.error();
}

TEST(UseKeyPair, InstallsTheLeafAndItsChain) {
  const Chain chain(EVP_EC_gen("P-256"));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  const auto used = UseKeyPair(context.get(), chain.chain_pem(), KeyPem(chain.leaf_key.get()));
  ASSERT_TRUE(used) << used.error();
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate(context.get()), chain.leaf.get()), 0);
  STACK_OF(X509)* extra = nullptr;
  ASSERT_EQ(SSL_CTX_get0_chain_certs(context.get(), &extra), 1);
  ASSERT_EQ(sk_X509_num(extra), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(extra, 0), chain.intermediate.get()), 0);
  EXPECT_EQ(ERR_peek_error(), 0u) << "the error queue is left empty";
}

// An encrypted key is refused at once; nothing asks for a passphrase on a terminal.
TEST(CheckKeyPair, AnEncryptedKeyFails) {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  const Pair pair = MakeCertificate(key.get(), Flaw::kNone);
  const auto checked = CheckKeyPair(pair.chain_pem, KeyPem(key.get(), EVP_aes_128_cbc()));
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("private key does not parse"), std::string::npos) << checked.error();
}

TEST(CertificateBundle, EveryBlockMustParseAndOneMustBeThere) {
  const Chain chain(EVP_EC_gen("P-256"));
  const std::string two = Pem(chain.root.get()) + Pem(chain.intermediate.get());
  EXPECT_TRUE(CheckCertificateBundle(two, "ca.crt"));
  EXPECT_TRUE(CheckCertificateBundle("# a comment line\n" + two + "trailing text\n", "ca.crt"))
      << "text outside PEM blocks is skipped, as OpenSSL skips it everywhere";
  const auto broken = CheckCertificateBundle(two + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "ca.crt");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error(), "certificate 3 of ca.crt does not parse");
  const auto none = CheckCertificateBundle("garbage", "ca.crt");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "ca.crt holds no PEM certificate");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(CertificateBundle, NamesAreCollectedInOrder) {
  const Chain chain(EVP_EC_gen("P-256"));
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  ASSERT_TRUE(AddCertificates(store.get(), Pem(chain.root.get()) + Pem(chain.intermediate.get()), names, "ca.crt"));
  ASSERT_EQ(sk_X509_NAME_num(names), 2);
  EXPECT_EQ(X509_NAME_cmp(sk_X509_NAME_value(names, 0), X509_get_subject_name(chain.root.get())), 0);
  EXPECT_EQ(X509_NAME_cmp(sk_X509_NAME_value(names, 1), X509_get_subject_name(chain.intermediate.get())), 0);
  sk_X509_NAME_pop_free(names, X509_NAME_free);
}

TEST(CrlBundle, GarbageAndBrokenBlocksFail) {
  const auto none = CheckCrlBundle("garbage", "ca.crl");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "ca.crl holds no PEM CRL");
  const auto broken = CheckCrlBundle("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", "ca.crl");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error(), "CRL 1 of ca.crl does not parse");
}

TEST(CheckKeyPair, GarbageFailsWithAReason) {
  const auto checked = CheckKeyPair("not pem", "not pem either");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("no PEM certificate"), std::string::npos) << checked.error();
}

}  // namespace
}  // namespace pier::tls
