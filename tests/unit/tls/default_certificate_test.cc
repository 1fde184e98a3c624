// The dataplane's generated default certificate and the server TLS policy.
#include "tls/default_certificate.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "tls/server_settings.h"

namespace pier::dataplane::tls {
namespace {

std::unique_ptr<X509, decltype(&X509_free)> ParseCertificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return {PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free};
}

TEST(DefaultCertificateTest, SelfSignedP256WithTheDocumentedName) {
  auto pair = GenerateDefaultCertificate();
  ASSERT_TRUE(pair) << pair.error();
  auto cert = ParseCertificate(pair->chain_pem);
  ASSERT_NE(cert, nullptr);
  char common_name[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, common_name, sizeof(common_name));
  EXPECT_STREQ(common_name, kDefaultCommonName);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);

  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[64] = {};
  std::size_t group_size = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &group_size), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_verify(cert.get(), key), 1);  // signed by its own key
}

TEST(DefaultCertificateTest, TwoStartsGetDifferentKeys) {
  auto first = GenerateDefaultCertificate();
  auto second = GenerateDefaultCertificate();
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->key_pem, second->key_pem);
  EXPECT_NE(first->chain_pem, second->chain_pem);
}

TEST(DefaultCertificateTest, ServerCertificateCoversNoHostAndHasAnExpiry) {
  auto certificate = MakeDefaultServerCertificate();
  ASSERT_TRUE(certificate) << certificate.error();
  EXPECT_EQ((*certificate)->name, "");
  EXPECT_FALSE((*certificate)->Covers("example.com"));
  EXPECT_TRUE((*certificate)->not_after.has_value());
  ASSERT_NE((*certificate)->context, nullptr);
}

TEST(ServerSettingsTest, OnlyTls12AndTls13) {
  auto pair = GenerateDefaultCertificate();
  ASSERT_TRUE(pair);
  auto context = MakeServerContext(pair->chain_pem, pair->key_pem);
  ASSERT_TRUE(context) << context.error();
  SSL_CTX* ctx = (*context)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION, 0u);
}

}  // namespace
}  // namespace pier::dataplane::tls
