// auth-tls-*: a virtual host's ClientAuth compiled into a policy its routes share, what a
// snapshot may not carry there, and the policy's identity across snapshots.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <functional>
#include <string>

#include "routing/config.h"
#include "snapshot_builder.h"
#include "test_certificate.h"
#include "pier/common/percent.h"
#include "tls/client_auth.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;
using testing::SnapshotBuilder;

const std::string& CaPem() {
  static const testing::TestCertificate kCa = testing::MakeSelfSigned("Client CA");
  return kCa.chain_pem;
}

const std::string& OtherCaPem() {
  static const testing::TestCertificate kCa = testing::MakeSelfSigned("Other CA");
  return kCa.chain_pem;
}

const testing::TestCertificate& CrlIssuer() {
  static const testing::TestCertificate kCa = testing::MakeSelfSigned("CRL CA");
  return kCa;
}

SnapshotBuilder WithClientAuth(const std::function<void(v1::ClientAuth&)>& change = {}) {
  SnapshotBuilder builder;
  builder.Cluster("ns/app:80", {"10.0.0.1"}).Host("a.example").Prefix("/", "ns/app:80").Prefix("/api", "ns/app:80");
  builder.Host("b.example").Prefix("/", "ns/app:80");
  auto& hosts = *builder.Get().mutable_virtual_hosts();
  v1::ClientAuth& auth = *hosts[0].mutable_client_auth();
  auth.set_ca_pem(CaPem());
  auth.set_verify_depth(1);
  auth.set_secret("ns/client-ca");
  if (change) change(auth);
  return builder;
}

std::string BuildError(const std::function<void(v1::ClientAuth&)>& change) {
  auto config = Config::Build(WithClientAuth(change).Get());
  return config.ok() ? "<accepted>" : config.error();
}

TEST(ClientAuth, TheHostAndEachOfItsRoutesShareOnePolicy) {
  auto config = Config::Build(WithClientAuth().Get());
  ASSERT_TRUE(config.ok()) << config.error();
  const VirtualHostConfig* host = (*config)->FindHost("a.example");
  ASSERT_NE(host, nullptr);
  ASSERT_NE(host->client_auth, nullptr);
  EXPECT_EQ(host->client_auth->verify(), v1::ClientAuth::ON);
  EXPECT_EQ(host->client_auth->secret(), "ns/client-ca");
  for (const auto& route : host->routes) EXPECT_EQ(route->client_auth, host->client_auth);
  EXPECT_EQ((*config)->Match("a.example", "/api/x")->client_auth, host->client_auth);
  // Other hosts ask for nothing.
  EXPECT_EQ((*config)->FindHost("b.example")->client_auth, nullptr);
  EXPECT_EQ((*config)->Match("b.example", "/")->client_auth, nullptr);
}

TEST(ClientAuth, WhatASnapshotMayNotCarry) {
  EXPECT_EQ(BuildError({}), "<accepted>");
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_ca_pem(""); }), HasSubstr("holds no PEM certificate"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_ca_pem("not a certificate"); }),
              HasSubstr("holds no PEM certificate"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) {
                a.set_ca_pem(CaPem() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
              }),
              HasSubstr("certificate 2 of the client certificate CA bundle does not parse"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_verify(static_cast<v1::ClientAuth::Verify>(7)); }),
              HasSubstr("unknown client certificate mode 7"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_verify_depth(101); }), HasSubstr("verify depth 101"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_error_page("https://e.example/a b"); }),
              HasSubstr("error page is not URL text"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_error_page("https://e.example/\r\nX: y"); }),
              HasSubstr("error page is not URL text"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_match_cn("CN=(alice"); }), HasSubstr("subject pattern"));
  // The error names the host.
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_ca_pem(""); }), HasSubstr("virtual host \"a.example\""));
  // Two CAs in one bundle, depth 0, and the other modes are fine.
  EXPECT_EQ(BuildError([](v1::ClientAuth& a) {
              a.set_ca_pem(CaPem() + OtherCaPem());
              a.set_verify_depth(0);
              a.set_verify(v1::ClientAuth::OPTIONAL_NO_CA);
              a.set_error_page("/cert-help");
            }),
            "<accepted>");
}

TEST(ClientAuth, TheIdentityFollowsWhatVerificationDependsOn) {
  auto policy = [](const std::function<void(v1::ClientAuth&)>& change) {
    auto config = Config::Build(WithClientAuth(change).Get());
    EXPECT_TRUE(config.ok()) << config.error();
    return (*config)->FindHost("a.example")->client_auth;
  };
  const auto base = policy({});
  EXPECT_TRUE(base->SameAs(*policy({})));
  // The error page and the certificate passed on do not change what the handshake verified.
  EXPECT_TRUE(base->SameAs(*policy([](v1::ClientAuth& a) {
    a.set_error_page("/x");
    a.set_pass_certificate(true);
  })));
  EXPECT_FALSE(base->SameAs(*policy([](v1::ClientAuth& a) { a.set_ca_pem(OtherCaPem()); })));
  EXPECT_FALSE(base->SameAs(*policy([](v1::ClientAuth& a) { a.set_verify(v1::ClientAuth::OPTIONAL); })));
  EXPECT_FALSE(base->SameAs(*policy([](v1::ClientAuth& a) { a.set_verify_depth(2); })));
  // A new CRL: a connection verified before it is not verified under it.
  const std::string crl = testing::MakeCrl(CrlIssuer(), {});
  const auto with_crl = policy([&](v1::ClientAuth& a) { a.set_crl_pem(crl); });
  EXPECT_FALSE(base->SameAs(*with_crl));
  EXPECT_TRUE(with_crl->SameAs(*policy([&](v1::ClientAuth& a) { a.set_crl_pem(crl); })));
  EXPECT_FALSE(with_crl->SameAs(*policy([](v1::ClientAuth& a) { a.set_crl_pem(testing::MakeCrl(CrlIssuer(), {7})); })));
}

TEST(ClientAuth, ThePolicyKnowsWhenItsFirstCrlExpires) {
  auto policy = [](const std::string& crl) {
    auto config = Config::Build(WithClientAuth([&](v1::ClientAuth& a) { a.set_crl_pem(crl); }).Get());
    EXPECT_TRUE(config.ok()) << config.error();
    return (*config)->FindHost("a.example")->client_auth;
  };
  EXPECT_EQ(policy("")->crl_next_update(), std::nullopt);
  const auto now = static_cast<int64_t>(std::time(nullptr));
  const auto next = policy(testing::MakeCrl(CrlIssuer(), {}, 7200) + testing::MakeCrl(CrlIssuer(), {}, 3600))
                        ->crl_next_update();
  ASSERT_TRUE(next.has_value());
  EXPECT_GE(*next, now + 3600 - 5);
  EXPECT_LE(*next, now + 3600 + 5);
}

TEST(ClientAuth, CrlsMustParse) {
  const std::string crl = testing::MakeCrl(CrlIssuer(), {2, 3});
  EXPECT_EQ(BuildError([&](v1::ClientAuth& a) { a.set_crl_pem(crl + testing::MakeCrl(CrlIssuer(), {})); }),
            "<accepted>");
  EXPECT_THAT(BuildError([&](v1::ClientAuth& a) {
                a.set_crl_pem(crl + "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
              }),
              HasSubstr("CRL 2 of the client certificate CRLs does not parse"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_crl_pem("no PEM"); }), HasSubstr("no PEM CRL"));
  EXPECT_THAT(BuildError([](v1::ClientAuth& a) { a.set_crl_pem(CaPem()); }), HasSubstr("no PEM CRL"));
}

TEST(ClientAuth, TheSubjectPatternIsFoundAnywhereAndCaseSensitive) {
  auto policy = [](std::string pattern) {
    auto config = Config::Build(WithClientAuth([&](v1::ClientAuth& a) { a.set_match_cn(pattern); }).Get());
    EXPECT_TRUE(config.ok()) << config.error();
    return (*config)->FindHost("a.example")->client_auth;
  };
  EXPECT_TRUE(policy("")->SubjectAllowed(""));
  EXPECT_TRUE(policy("")->SubjectAllowed("CN=anyone"));
  const auto alice_or_bob = policy("CN=(alice|bob),O=Pier\\x20Test$");
  EXPECT_TRUE(alice_or_bob->SubjectAllowed("CN=alice,O=Pier Test"));
  EXPECT_TRUE(alice_or_bob->SubjectAllowed("UID=7,CN=bob,O=Pier Test"));
  EXPECT_FALSE(alice_or_bob->SubjectAllowed("CN=alice,O=Pier Test,C=DE"));
  EXPECT_FALSE(alice_or_bob->SubjectAllowed("CN=ALICE,O=Pier Test"));
  EXPECT_FALSE(alice_or_bob->SubjectAllowed(""));  // no certificate
  // The pattern is not part of the identity: it is checked per request, not in the handshake.
  EXPECT_TRUE(alice_or_bob->SameAs(*policy("")));
}

TEST(ClientAuth, AnUnchangedHostKeepsItsPolicyAcrossSnapshots) {
  auto first = Config::Build(WithClientAuth().Get());
  ASSERT_TRUE(first.ok());
  SnapshotBuilder next = WithClientAuth();
  next.Get().set_version(2);
  auto second = Config::Build(next.Get(), {}, first->get());
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ((*second)->FindHost("a.example")->client_auth, (*first)->FindHost("a.example")->client_auth);
}

TEST(ClientAuth, CertificatesGoToTheBackendUriEscapedAsNginxDoes) {
  EXPECT_EQ(PercentEncode("-----BEGIN CERTIFICATE-----\nMIIB+/z=\n"),
            "-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2Fz%3D%0A");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode(std::string("\x00\x7f\xff%\r", 5)), "%00%7F%FF%25%0D");
}

TEST(ClientAuth, NoConnectionNoCertificate) {
  const tls::PeerCertificate none = tls::InspectPeerCertificate(nullptr);
  EXPECT_EQ(none.state, tls::PeerCertificate::State::kNone);
  EXPECT_EQ(none.verify, "NONE");
}


// ssl-ciphers: the host's list, checked as the controller checks it, and a session context that
// changes with the list and with the client-certificate policy.
TEST(HostCiphers, TheListIsCheckedAndTheSessionContextFollowsListAndPolicy) {
  auto with = [](const std::string& ciphers, bool client_auth) {
    SnapshotBuilder builder = WithClientAuth();
    auto& hosts = *builder.Get().mutable_virtual_hosts();
    hosts[0].set_ciphers(ciphers);
    if (!client_auth) hosts[0].clear_client_auth();
    return Config::Build(builder.Get());
  };
  auto aes = with("ECDHE+AESGCM", true);
  ASSERT_TRUE(aes.ok()) << aes.error();
  const VirtualHostConfig* host = (*aes)->FindHost("a.example");
  EXPECT_EQ(host->ciphers, "ECDHE+AESGCM");
  EXPECT_EQ((*aes)->FindHost("b.example")->ciphers, "");
  auto chacha = with("ECDHE+CHACHA20", true);
  auto aes_open = with("ECDHE+AESGCM", false);
  ASSERT_TRUE(chacha.ok() && aes_open.ok());
  EXPECT_NE(host->session_context, (*chacha)->FindHost("a.example")->session_context);
  EXPECT_NE(host->session_context, (*aes_open)->FindHost("a.example")->session_context);
  EXPECT_EQ(host->session_context, with("ECDHE+AESGCM", true).value()->FindHost("a.example")->session_context);

  SnapshotBuilder prefer = WithClientAuth();
  prefer.Get().mutable_virtual_hosts(0)->set_prefer_server_ciphers(true);
  auto preferring = Config::Build(prefer.Get());
  ASSERT_TRUE(preferring.ok()) << preferring.error();
  EXPECT_TRUE((*preferring)->FindHost("a.example")->prefer_server_ciphers);
  EXPECT_FALSE((*preferring)->FindHost("b.example")->prefer_server_ciphers);
  EXPECT_FALSE(host->prefer_server_ciphers);

  for (const char* bad : {"NOT-A-CIPHER", "AES;rm", "AES\nX"}) {
    auto refused = with(bad, false);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(refused.error(), HasSubstr("virtual host \"a.example\": ciphers: ")) << bad;
  }
}

}  // namespace
}  // namespace pier::dataplane
