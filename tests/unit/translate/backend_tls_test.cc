// HSTS and backend TLS on routes and clusters: hsts*, backend-protocol, proxy-ssl-*.
#include <gtest/gtest.h>

#include <set>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

model::Secret CaSecret(std::string name, std::string ns = "default", std::string ca = testdata::kCertificatePem) {
  return OpaqueSecret(std::move(name), std::move(ns), "ca.crt", std::move(ca));
}

// One Ingress on a.example, TLS from "tls", backend "chat".
State TlsIngress(IngressBuilder ingress) {
  State state;
  state.Backend("chat");
  state.Add(TlsSecret("tls"));
  state.Add(ingress.tls({"a.example"}, "tls").host("a.example").path("/", "chat", 80));
  return state;
}

const pier::v1::Route& RouteOf(const Output& out, const std::string& host) { return FindHost(out.snapshot, host)->routes(0); }

TEST(Hsts, OffByDefault) {
  const Output out = TlsIngress(IngressBuilder("app")).Translate();
  EXPECT_EQ(RouteOf(out, "a.example").redirect().hsts_max_age_s(), 0u);
  EXPECT_FALSE(RouteOf(out, "a.example").redirect().hsts_include_subdomains());
}

TEST(Hsts, EnabledWithDefaultsAndOptions) {
  const Output defaults = TlsIngress(IngressBuilder("app").annotation("pier.dev/hsts", "true")).Translate();
  EXPECT_EQ(RouteOf(defaults, "a.example").redirect().hsts_max_age_s(), 31536000u);
  EXPECT_FALSE(RouteOf(defaults, "a.example").redirect().hsts_include_subdomains());

  const Output tuned = TlsIngress(IngressBuilder("app")
                                      .annotation("pier.dev/hsts", "true")
                                      .annotation("pier.dev/hsts-max-age", "1h")
                                      .annotation("pier.dev/hsts-include-subdomains", "true"))
                           .Translate();
  EXPECT_EQ(RouteOf(tuned, "a.example").redirect().hsts_max_age_s(), 3600u);
  EXPECT_TRUE(RouteOf(tuned, "a.example").redirect().hsts_include_subdomains());
  EXPECT_TRUE(tuned.warnings.empty());
}

TEST(Hsts, OnlyForHostsWithTls) {
  State state = TlsIngress(IngressBuilder("app").annotation("pier.dev/hsts", "true").host("plain.example").path("/", "chat", 80));
  const Output out = state.Translate();
  EXPECT_EQ(RouteOf(out, "a.example").redirect().hsts_max_age_s(), 31536000u);
  EXPECT_EQ(RouteOf(out, "plain.example").redirect().hsts_max_age_s(), 0u);
}

TEST(Hsts, BadMaxAgeFallsBackToTheDefault) {
  const Output out =
      TlsIngress(IngressBuilder("app").annotation("pier.dev/hsts", "true").annotation("pier.dev/hsts-max-age", "forever"))
          .Translate();
  EXPECT_EQ(RouteOf(out, "a.example").redirect().hsts_max_age_s(), 31536000u);
  ASSERT_NE(FindWarning(out, "InvalidAnnotation"), nullptr);
  EXPECT_FALSE(RouteOf(out, "a.example").has_unavailable()) << "not a security annotation";
}

TEST(SslRedirect, ForceRedirectsWithoutTlsAndOptOutWins) {
  State state;
  state.Backend("chat");
  state.Add(IngressBuilder("forced").annotation("nginx.ingress.kubernetes.io/force-ssl-redirect", "true").host("f.example").path("/", "chat", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(RouteOf(out, "f.example").redirect().force_ssl_redirect());
  EXPECT_FALSE(RouteOf(out, "f.example").redirect().ssl_redirect());
}

TEST(BackendTls, HttpsWithoutOptionsDoesNotVerify) {
  const Output out = TlsIngress(IngressBuilder("app").annotation("pier.dev/backend-protocol", "HTTPS")).Translate();
  EXPECT_EQ(RouteOf(out, "a.example").cluster(), "default/chat:80+tls");
  const auto& tls = FindCluster(out.snapshot, "default/chat:80+tls")->backend_tls();
  EXPECT_TRUE(tls.enabled());
  EXPECT_FALSE(tls.verify()) << "ingress-nginx's default: proxy-ssl-verify off without a CA";
  EXPECT_EQ(tls.ca_pem(), "");
  EXPECT_EQ(tls.server_name(), "");
}

TEST(BackendTls, CaSecretTurnsVerificationOn) {
  State state = TlsIngress(IngressBuilder("app")
                               .annotation("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS")
                               .annotation("nginx.ingress.kubernetes.io/proxy-ssl-secret", "certs/backend-ca")
                               .annotation("pier.dev/proxy-ssl-name", "Chat.Internal"));
  state.Add(CaSecret("backend-ca", "certs"));
  const Output out = state.Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto& route = RouteOf(out, "a.example");
  EXPECT_FALSE(route.has_unavailable());
  const auto* cluster = FindCluster(out.snapshot, route.cluster());
  ASSERT_NE(cluster, nullptr);
  EXPECT_TRUE(cluster->name().starts_with("default/chat:80+tls-")) << cluster->name();
  EXPECT_TRUE(cluster->backend_tls().verify());
  EXPECT_EQ(cluster->backend_tls().ca_pem(), testdata::kCertificatePem);
  EXPECT_EQ(cluster->backend_tls().server_name(), "chat.internal");
}

TEST(BackendTls, VerifyCanBeTurnedOffExplicitlyOrOnWithSystemRoots) {
  State state = TlsIngress(IngressBuilder("app")
                               .annotation("pier.dev/backend-protocol", "HTTPS")
                               .annotation("pier.dev/proxy-ssl-secret", "backend-ca")
                               .annotation("pier.dev/proxy-ssl-verify", "off"));
  state.Add(CaSecret("backend-ca"));
  const Output off = state.Translate();
  EXPECT_FALSE(FindCluster(off.snapshot, RouteOf(off, "a.example").cluster())->backend_tls().verify());

  const Output on = TlsIngress(IngressBuilder("app")
                                   .annotation("pier.dev/backend-protocol", "HTTPS")
                                   .annotation("pier.dev/proxy-ssl-verify", "on"))
                        .Translate();
  const auto& tls = FindCluster(on.snapshot, RouteOf(on, "a.example").cluster())->backend_tls();
  EXPECT_TRUE(tls.verify());
  EXPECT_EQ(tls.ca_pem(), "") << "system roots";
}

TEST(BackendTls, UnusableCaFailsClosed) {
  struct Case {
    std::optional<model::Secret> secret;
    std::string why;
  };
  model::Secret no_ca = CaSecret("backend-ca");
  no_ca.data = {{"other.crt", testdata::kCertificatePem}};
  for (const Case& c : {Case{std::nullopt, "secret default/backend-ca not found"},
                        Case{no_ca, "secret default/backend-ca has no ca.crt"},
                        Case{CaSecret("backend-ca", "default", "garbage"), "secret default/backend-ca: ca.crt holds no PEM certificate"},
                        Case{CaSecret("backend-ca", "default",
                                      std::string(testdata::kCertificatePem) +
                                          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                             "secret default/backend-ca: certificate 2 of ca.crt does not parse"}}) {
    State state = TlsIngress(IngressBuilder("app")
                                 .annotation("pier.dev/backend-protocol", "HTTPS")
                                 .annotation("pier.dev/proxy-ssl-secret", "backend-ca"));
    if (c.secret) state.Add(*c.secret);
    const Output out = state.Translate();
    const auto& route = RouteOf(out, "a.example");
    EXPECT_EQ(route.unavailable().status(), 503u) << c.why;
    EXPECT_EQ(route.unavailable().reason(), "backend TLS CA unusable: " + c.why);
    EXPECT_EQ(route.cluster(), "") << "nothing is proxied unverified";
    EXPECT_EQ(route.service(), "chat");
    EXPECT_EQ(out.snapshot.clusters_size(), 0);
    const Warning* warning = FindWarning(out, "InvalidAnnotation");
    ASSERT_NE(warning, nullptr) << c.why;
    EXPECT_EQ(warning->annotation, "pier.dev/proxy-ssl-secret");
    EXPECT_EQ(warning->message,
              "annotation pier.dev/proxy-ssl-secret=\"backend-ca\": " + c.why + "; routes of this Ingress fail closed");
  }
}

State ClientCertificateIngress(model::Secret secret) {
  State state = TlsIngress(IngressBuilder("app")
                               .annotation("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS")
                               .annotation("nginx.ingress.kubernetes.io/proxy-ssl-secret", "backend-auth"));
  state.Add(std::move(secret));
  return state;
}

TEST(BackendTls, TheSecretsTlsCrtAndTlsKeyAreTheClientCertificate) {
  model::Secret both = TlsSecret("backend-auth", "default", "Opaque");
  both.data["ca.crt"] = testdata::kSecondCertificatePem;
  const Output out = ClientCertificateIngress(both).Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto* cluster = FindCluster(out.snapshot, RouteOf(out, "a.example").cluster());
  ASSERT_NE(cluster, nullptr);
  const auto& tls = cluster->backend_tls();
  EXPECT_TRUE(tls.verify());
  EXPECT_EQ(tls.ca_pem(), testdata::kSecondCertificatePem);
  EXPECT_EQ(tls.client_certificate_chain_pem(), testdata::kCertificatePem);
  EXPECT_EQ(tls.client_private_key_pem(), testdata::kPrivateKeyPem);

  // Only a CA: no client certificate, and another cluster (pooled connections are not shared).
  State ca_only = ClientCertificateIngress(CaSecret("backend-auth", "default", testdata::kSecondCertificatePem));
  const Output without = ca_only.Translate();
  const auto* plain = FindCluster(without.snapshot, RouteOf(without, "a.example").cluster());
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->backend_tls().client_certificate_chain_pem(), "");
  EXPECT_EQ(plain->backend_tls().client_private_key_pem(), "");
  EXPECT_NE(plain->name(), cluster->name());
  EXPECT_EQ(cluster->name().find("BEGIN"), std::string::npos);
}

TEST(BackendTls, AClientCertificateWithoutACaIsVerifiedAgainstTheSystemRoots) {
  const Output out = ClientCertificateIngress(TlsSecret("backend-auth")).Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto& tls = FindCluster(out.snapshot, RouteOf(out, "a.example").cluster())->backend_tls();
  EXPECT_TRUE(tls.verify());
  EXPECT_EQ(tls.ca_pem(), "");
  EXPECT_EQ(tls.client_certificate_chain_pem(), testdata::kCertificatePem);
}

TEST(BackendTls, AnUnusableClientCertificateFailsClosed) {
  struct Case {
    model::Secret secret;
    std::string why;
  };
  model::Secret no_key = CaSecret("backend-auth");
  no_key.data["tls.crt"] = testdata::kCertificatePem;
  model::Secret no_certificate = CaSecret("backend-auth");
  no_certificate.data["tls.key"] = testdata::kPrivateKeyPem;
  model::Secret mismatched = CaSecret("backend-auth");
  mismatched.data["tls.crt"] = testdata::kCertificatePem;
  mismatched.data["tls.key"] = testdata::kOtherPrivateKeyPem;
  // Without ca.crt (a kubernetes.io/tls Secret) the client certificate's problem is the one
  // reported, not the missing CA.
  model::Secret tls_mismatched = TlsSecret("backend-auth");
  tls_mismatched.data["tls.key"] = testdata::kOtherPrivateKeyPem;
  model::Secret tls_half = TlsSecret("backend-auth");
  tls_half.data.erase("tls.key");
  for (const Case& c : {Case{no_key, "secret default/backend-auth has tls.crt but no tls.key"},
                        Case{no_certificate, "secret default/backend-auth has tls.key but no tls.crt"},
                        Case{mismatched, "secret default/backend-auth: client certificate: "},
                        Case{tls_mismatched, "secret default/backend-auth: client certificate: "},
                        Case{tls_half, "secret default/backend-auth has tls.crt but no tls.key"}}) {
    const Output out = ClientCertificateIngress(c.secret).Translate();
    const auto& route = RouteOf(out, "a.example");
    EXPECT_EQ(route.unavailable().status(), 503u) << c.why;
    EXPECT_TRUE(route.unavailable().reason().starts_with("backend TLS client certificate unusable: " + c.why))
        << route.unavailable().reason();
    EXPECT_EQ(route.cluster(), "");
    const Warning* warning = FindWarning(out, "InvalidAnnotation");
    ASSERT_NE(warning, nullptr) << c.why;
    EXPECT_NE(warning->message.find(c.why), std::string::npos) << warning->message;
  }
}

TEST(BackendTls, TheProtocolCipherDepthAndSniOptionsReachTheCluster) {
  const Output defaults = TlsIngress(IngressBuilder("app").annotation("pier.dev/backend-protocol", "HTTPS")).Translate();
  const auto* plain = FindCluster(defaults.snapshot, RouteOf(defaults, "a.example").cluster());
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->name(), "default/chat:80+tls") << "the defaults keep the name they always had";
  EXPECT_EQ(plain->backend_tls().verify_depth(), 1u);
  EXPECT_FALSE(plain->backend_tls().no_server_name());
  EXPECT_EQ(plain->backend_tls().ciphers(), "");
  EXPECT_EQ(plain->backend_tls().min_protocol(), 0u);
  EXPECT_EQ(plain->backend_tls().max_protocol(), 0u);

  const Output tuned = TlsIngress(IngressBuilder("app")
                                      .annotation("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS")
                                      .annotation("nginx.ingress.kubernetes.io/proxy-ssl-server-name", "off")
                                      .annotation("nginx.ingress.kubernetes.io/proxy-ssl-verify-depth", "3")
                                      .annotation("nginx.ingress.kubernetes.io/proxy-ssl-ciphers", "ECDHE+AESGCM")
                                      .annotation("nginx.ingress.kubernetes.io/proxy-ssl-protocols", "TLSv1.3"))
                           .Translate();
  ASSERT_TRUE(tuned.warnings.empty()) << tuned.warnings[0].message;
  const auto* cluster = FindCluster(tuned.snapshot, RouteOf(tuned, "a.example").cluster());
  ASSERT_NE(cluster, nullptr);
  const auto& tls = cluster->backend_tls();
  EXPECT_TRUE(tls.no_server_name());
  EXPECT_EQ(tls.verify_depth(), 3u);
  EXPECT_EQ(tls.ciphers(), "ECDHE+AESGCM");
  EXPECT_EQ(tls.min_protocol(), 0x0304u);
  EXPECT_EQ(tls.max_protocol(), 0x0304u);
  EXPECT_TRUE(cluster->name().starts_with("default/chat:80+tls-")) << cluster->name();
  // Each option alone makes a cluster of its own (connections are pooled per cluster).
  std::set<std::string> names{plain->name(), cluster->name()};
  for (auto [key, value] : {std::pair{"proxy-ssl-server-name", "off"}, std::pair{"proxy-ssl-verify-depth", "2"},
                            std::pair{"proxy-ssl-ciphers", "ECDHE+AESGCM"}, std::pair{"proxy-ssl-protocols", "TLSv1.2"}}) {
    const Output one = TlsIngress(IngressBuilder("app")
                                      .annotation("pier.dev/backend-protocol", "HTTPS")
                                      .annotation(std::string("pier.dev/") + key, value))
                           .Translate();
    EXPECT_TRUE(names.insert(RouteOf(one, "a.example").cluster()).second) << key;
  }
}

TEST(BackendTls, BadAnnotationValuesFailClosed) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"pier.dev/proxy-ssl-secret", "a/b/c"}, {"pier.dev/proxy-ssl-verify", "maybe"}, {"pier.dev/proxy-ssl-name", "bad name"}}) {
    const Output out =
        TlsIngress(IngressBuilder("app").annotation("pier.dev/backend-protocol", "HTTPS").annotation(key, value)).Translate();
    EXPECT_EQ(RouteOf(out, "a.example").unavailable().status(), 503u) << key;
    ASSERT_NE(FindWarning(out, "InvalidAnnotation"), nullptr) << key;
  }
}

TEST(BackendTls, ProxySslAnnotationsNeedHttps) {
  State state = TlsIngress(IngressBuilder("app").annotation("pier.dev/proxy-ssl-secret", "missing"));
  const Output out = state.Translate();
  EXPECT_EQ(RouteOf(out, "a.example").cluster(), "default/chat:80");
  EXPECT_FALSE(RouteOf(out, "a.example").has_unavailable());
  EXPECT_FALSE(FindCluster(out.snapshot, "default/chat:80")->has_backend_tls());
}

// Clusters are per Service port *and* TLS settings: one Ingress' choice never leaks into another's.
TEST(ClusterKey, DifferentBackendTlsSettingsDoNotShareACluster) {
  State state;
  state.Backend("chat");
  state.Add(CaSecret("ca-one"));
  state.Add(CaSecret("ca-two", "default", std::string(testdata::kCertificatePem) + testdata::kSecondCertificatePem));
  state.Add(IngressBuilder("plain").host("plain.example").path("/", "chat", 80));
  state.Add(IngressBuilder("tls").annotation("pier.dev/backend-protocol", "HTTPS").host("tls.example").path("/", "chat", 80));
  state.Add(IngressBuilder("tls-too").annotation("pier.dev/backend-protocol", "HTTPS").host("tls2.example").path("/", "chat", 80));
  for (const char* name : {"one", "two"}) {
    state.Add(IngressBuilder(std::string("ca-") + name)
                  .annotation("pier.dev/backend-protocol", "HTTPS")
                  .annotation("pier.dev/proxy-ssl-secret", std::string("ca-") + name)
                  .host(std::string(name) + ".example")
                  .path("/", "chat", 80));
  }
  const Output out = state.Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  EXPECT_EQ(RouteOf(out, "plain.example").cluster(), "default/chat:80");
  EXPECT_EQ(RouteOf(out, "tls.example").cluster(), "default/chat:80+tls");
  EXPECT_EQ(RouteOf(out, "tls2.example").cluster(), "default/chat:80+tls") << "same settings share";
  const std::string one = RouteOf(out, "one.example").cluster();
  const std::string two = RouteOf(out, "two.example").cluster();
  EXPECT_NE(one, two);
  EXPECT_NE(one, "default/chat:80+tls");
  EXPECT_EQ(out.snapshot.clusters_size(), 4);
  for (const auto& cluster : out.snapshot.clusters()) {
    EXPECT_EQ(cluster.service_name(), "chat");
    EXPECT_EQ(cluster.endpoints_size(), 1) << cluster.name();
  }
  // Names are stable: the same input names the same clusters.
  EXPECT_EQ(state.Translate().snapshot.SerializeAsString(), out.snapshot.SerializeAsString());
}

}  // namespace
}  // namespace pier::translate
