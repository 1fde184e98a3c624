// backend-protocol HTTPS: the client context made for a cluster, and the client certificate
// (proxy-ssl-secret's tls.crt and tls.key) it presents.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <functional>
#include <string>

#include "pier/common/pem_check.h"
#include "test_certificate.h"
#include "tls/upstream_context.h"

namespace pier::dataplane::tls {
namespace {

using ::testing::HasSubstr;

pier::v1::BackendTls Https() {
  pier::v1::BackendTls backend;
  backend.set_enabled(true);
  return backend;
}

TEST(UpstreamTls, OffMakesNoContext) {
  auto tls = MakeUpstreamTls(pier::v1::BackendTls(), "ns", "app");
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_EQ(tls->context, nullptr);
}

TEST(UpstreamTls, TheDefaultNameIsTheServicesAndNoCertificateIsPresented) {
  auto tls = MakeUpstreamTls(Https(), "ns", "app");
  ASSERT_TRUE(tls.ok()) << tls.error();
  ASSERT_NE(tls->context, nullptr);
  EXPECT_EQ(tls->server_name, "app.ns.svc");
  EXPECT_FALSE(tls->verify);
  EXPECT_EQ(SSL_CTX_get0_certificate(tls->context->native_handle()), nullptr);
}

TEST(UpstreamTls, AClientCertificateIsLoadedWithItsKey) {
  const testing::TestCertificate client = testing::MakeSelfSigned("pier-client");
  pier::v1::BackendTls backend = Https();
  backend.set_client_certificate_chain_pem(client.chain_pem);
  backend.set_client_private_key_pem(client.key_pem);
  auto tls = MakeUpstreamTls(backend, "ns", "app");
  ASSERT_TRUE(tls.ok()) << tls.error();
  X509* loaded = SSL_CTX_get0_certificate(tls->context->native_handle());
  ASSERT_NE(loaded, nullptr);
  char name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(loaded), NID_commonName, name, sizeof(name));
  EXPECT_STREQ(name, "pier-client");
  EXPECT_EQ(SSL_CTX_check_private_key(tls->context->native_handle()), 1);
}

TEST(UpstreamTls, VersionsCiphersDepthAndSni) {
  auto defaults = MakeUpstreamTls(Https(), "ns", "app");
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(defaults->context->native_handle()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(defaults->context->native_handle()), TLS1_3_VERSION);
  EXPECT_TRUE(defaults->send_server_name);

  pier::v1::BackendTls backend = Https();
  backend.set_min_protocol(TLS1_3_VERSION);
  backend.set_max_protocol(TLS1_3_VERSION);
  backend.set_no_server_name(true);
  backend.set_verify(true);
  backend.set_verify_depth(3);
  backend.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256");
  auto tuned = MakeUpstreamTls(backend, "ns", "app");
  ASSERT_TRUE(tuned.ok()) << tuned.error();
  SSL_CTX* ctx = tuned->context->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_depth(ctx), 3);
  EXPECT_FALSE(tuned->send_server_name);
  EXPECT_EQ(tuned->server_name, "app.ns.svc") << "still verified";
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  bool offered = false;
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const std::string name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
    EXPECT_TRUE(name == "ECDHE-ECDSA-AES128-GCM-SHA256" || name.starts_with("TLS_")) << name;
    offered = offered || name == "ECDHE-ECDSA-AES128-GCM-SHA256";
  }
  EXPECT_TRUE(offered);
}

TEST(UpstreamTls, WhatASnapshotMayNotAskFor) {
  auto error = [](const std::function<void(pier::v1::BackendTls&)>& change) {
    pier::v1::BackendTls backend = Https();
    change(backend);
    auto tls = MakeUpstreamTls(backend, "ns", "app");
    return tls.ok() ? std::string("<accepted>") : tls.error();
  };
  EXPECT_THAT(error([](auto& b) { b.set_min_protocol(TLS1_1_VERSION); }), HasSubstr("not within TLS 1.2..1.3"));
  EXPECT_THAT(error([](auto& b) { b.set_max_protocol(0x0305); }), HasSubstr("not within TLS 1.2..1.3"));
  EXPECT_THAT(error([](auto& b) {
                b.set_min_protocol(TLS1_3_VERSION);
                b.set_max_protocol(TLS1_2_VERSION);
              }),
              HasSubstr("not within TLS 1.2..1.3"));
  EXPECT_THAT(error([](auto& b) { b.set_verify_depth(101); }), HasSubstr("verify depth 101"));
  EXPECT_THAT(error([](auto& b) { b.set_ciphers("NOT-A-CIPHER"); }), HasSubstr("selects no cipher"));
}

// The controller checks a client certificate at OpenSSL's default security level; an
// "@SECLEVEL=4" in proxy-ssl-ciphers must not make the dataplane judge it by another one (a
// P-256 key has 128 bits of security, level 4 asks for 192) and refuse the whole snapshot.
TEST(UpstreamTls, TheCipherListsSecurityLevelDoesNotJudgeTheClientCertificate) {
  const testing::TestCertificate client = testing::MakeSelfSigned("pier-client");
  ASSERT_TRUE(pier::tls::CheckKeyPair(client.chain_pem, client.key_pem));
  pier::v1::BackendTls backend = Https();
  backend.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384:@SECLEVEL=4");
  backend.set_client_certificate_chain_pem(client.chain_pem);
  backend.set_client_private_key_pem(client.key_pem);
  const auto tls = MakeUpstreamTls(backend, "ns", "app");
  EXPECT_TRUE(tls.ok()) << tls.error();
}

TEST(UpstreamTls, AnUnusableClientCertificateIsRefused) {
  const testing::TestCertificate client = testing::MakeSelfSigned("pier-client");
  const testing::TestCertificate other = testing::MakeSelfSigned("other");
  auto error = [](const std::string& chain, const std::string& key) {
    pier::v1::BackendTls backend = Https();
    backend.set_client_certificate_chain_pem(chain);
    backend.set_client_private_key_pem(key);
    auto tls = MakeUpstreamTls(backend, "ns", "app");
    return tls.ok() ? std::string("<accepted>") : tls.error();
  };
  EXPECT_THAT(error(client.chain_pem, ""), HasSubstr("a certificate and a private key are both needed"));
  EXPECT_THAT(error("", client.key_pem), HasSubstr("a certificate and a private key are both needed"));
  EXPECT_THAT(error(client.chain_pem, other.key_pem), HasSubstr("does not match"));
  EXPECT_THAT(error(client.chain_pem, "not a key"), HasSubstr("private key does not parse"));
  EXPECT_THAT(error("not a certificate", client.key_pem), HasSubstr("client certificate"));
}

}  // namespace
}  // namespace pier::dataplane::tls
