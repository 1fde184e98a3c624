// spec.tls: certificates, SNI names, virtual host certificates and redirects.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

Strings SniNames(const pier::v1::TlsCertificate& certificate) {
  return Strings(certificate.sni_names().begin(), certificate.sni_names().end());
}

TEST(Tls, SecretBecomesACertificateForTheListedHosts) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("chat-tls"));
  state.Add(IngressBuilder("app")
                .tls({"Chat.Example", "*.example"}, "chat-tls")
                .host("chat.example")
                .path("/", "svc", 80)
                .host("plain.example")
                .path("/", "svc", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.certificates_size(), 1);
  const auto& certificate = out.snapshot.certificates(0);
  EXPECT_EQ(certificate.name(), "default/chat-tls");
  EXPECT_EQ(certificate.certificate_chain_pem(), testdata::kCertificatePem);
  EXPECT_EQ(certificate.private_key_pem(), testdata::kPrivateKeyPem);
  EXPECT_EQ(SniNames(certificate), (Strings{"*.example", "chat.example"}));
  EXPECT_EQ(FindHost(out.snapshot, "chat.example")->tls_certificate(), "default/chat-tls");
  EXPECT_EQ(FindHost(out.snapshot, "plain.example")->tls_certificate(), "");
  EXPECT_TRUE(out.warnings.empty());
}

TEST(Tls, EmptyHostsMeanTheRuleHosts) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("tls"));
  state.Add(IngressBuilder("app").tls({}, "tls").host("a.example").path("/", "svc", 80).host("b.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(SniNames(out.snapshot.certificates(0)), (Strings{"a.example", "b.example"}));
  EXPECT_EQ(FindHost(out.snapshot, "b.example")->tls_certificate(), "default/tls");
}

TEST(Tls, OneSecretSharedByTwoIngressesServesTheUnionOfHosts) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("shared"));
  state.Add(IngressBuilder("one").tls({"a.example"}, "shared").host("a.example").path("/", "svc", 80));
  state.Add(IngressBuilder("two").tls({"b.example"}, "shared").host("b.example").path("/", "svc", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.certificates_size(), 1);
  EXPECT_EQ(SniNames(out.snapshot.certificates(0)), (Strings{"a.example", "b.example"}));
}

TEST(Tls, HostClaimedByTwoSecretsKeepsTheOlderIngressCertificate) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("new"));
  state.Add(TlsSecret("old"));
  state.Add(IngressBuilder("newer").created("2024-05-01T00:00:00Z").tls({"a.example"}, "new").host("a.example").path("/x", "svc", 80));
  state.Add(IngressBuilder("older").created("2024-01-01T00:00:00Z").tls({"a.example"}, "old").host("a.example").path("/", "svc", 80));
  EXPECT_EQ(FindHost(state.Translate().snapshot, "a.example")->tls_certificate(), "default/old");
}

TEST(Tls, BadSecretsAreWarnedAndTheHostFallsBackToTheDefaultCertificate) {
  struct Case {
    std::optional<model::Secret> secret;
    std::string expected_message;
  };
  model::Secret opaque = TlsSecret("tls", "default", "Opaque");
  model::Secret no_key = TlsSecret("tls");
  no_key.data.erase("tls.key");
  model::Secret empty_cert = TlsSecret("tls");
  empty_cert.data["tls.crt"] = "";
  model::Secret other_namespace = TlsSecret("tls", "elsewhere");
  model::Secret garbage = TlsSecret("tls");
  garbage.data["tls.crt"] = "not a certificate";
  model::Secret mismatched = TlsSecret("tls");
  mismatched.data["tls.key"] = testdata::kOtherPrivateKeyPem;
  for (const Case& c : {Case{garbage, "secret default/tls: certificate chain holds no PEM certificate"},
                        Case{mismatched, "secret default/tls: private key does not match the leaf certificate"},
                        Case{std::nullopt, "secret default/tls: not found; hosts a.example are served with the dataplane's"},
                        Case{opaque, "secret default/tls: has type Opaque, not kubernetes.io/tls; hosts a.example"},
                        Case{no_key, "secret default/tls: has no tls.key"},
                        Case{empty_cert, "secret default/tls: has no tls.crt"},
                        Case{other_namespace, "secret default/tls: not found"}}) {
    State state;
    state.Backend("svc");
    if (c.secret) state.Add(*c.secret);
    state.Add(IngressBuilder("app").tls({"a.example"}, "tls").host("a.example").path("/", "svc", 80));
    const Output out = state.Translate();
    EXPECT_EQ(out.snapshot.certificates_size(), 0);
    // "": the dataplane's own default certificate; the host is still a TLS host.
    EXPECT_EQ(FindHost(out.snapshot, "a.example")->tls_certificate(), "");
    EXPECT_TRUE(FindHost(out.snapshot, "a.example")->routes(0).redirect().ssl_redirect());
    EXPECT_EQ(out.rejected_secrets, std::vector<std::string>{"default/tls"});
    ASSERT_EQ(out.warnings.size(), 1u) << c.expected_message;
    EXPECT_EQ(out.warnings[0].reason, "BadTLSSecret");
    // OpenSSL's own detail follows the reason; the reason is what the user acts on.
    EXPECT_EQ(out.warnings[0].message.substr(0, c.expected_message.size()), c.expected_message);
  }
}

TEST(Tls, SslRedirectDefaultsOnForTlsHostsOnly) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("tls"));
  state.Add(IngressBuilder("app").tls({"secure.example"}, "tls").host("secure.example").path("/", "svc", 80).host("plain.example").path("/", "svc", 80));
  state.Add(IngressBuilder("opt-out")
                .annotation("pier.dev/ssl-redirect", "false")
                .tls({"optout.example"}, "tls")
                .host("optout.example")
                .path("/", "svc", 80));
  state.Add(IngressBuilder("forced").annotation("pier.dev/force-ssl-redirect", "true").host("forced.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(FindHost(out.snapshot, "secure.example")->routes(0).redirect().ssl_redirect());
  EXPECT_FALSE(FindHost(out.snapshot, "plain.example")->routes(0).redirect().ssl_redirect());
  EXPECT_FALSE(FindHost(out.snapshot, "optout.example")->routes(0).redirect().ssl_redirect());
  EXPECT_TRUE(FindHost(out.snapshot, "forced.example")->routes(0).redirect().force_ssl_redirect());
}

TEST(Tls, AWildcardTlsHostCoversTheHostsOneLabelBelowIt) {
  State state;
  state.Backend("svc");
  state.Add(TlsSecret("wild"));
  state.Add(IngressBuilder("app")
                .annotation("pier.dev/hsts", "true")
                .tls({"*.wild.example"}, "wild")
                .host("a.wild.example")
                .path("/", "svc", 80)
                .host("b.c.wild.example")
                .path("/", "svc", 80)
                .host("wild.example")
                .path("/", "svc", 80));
  const Output out = state.Translate();
  const auto& covered = FindHost(out.snapshot, "a.wild.example")->routes(0).redirect();
  EXPECT_TRUE(covered.ssl_redirect());
  EXPECT_NE(covered.hsts_max_age_s(), 0u);
  // A wildcard matches exactly one label: neither a deeper name nor the parent itself.
  EXPECT_FALSE(FindHost(out.snapshot, "b.c.wild.example")->routes(0).redirect().ssl_redirect());
  EXPECT_FALSE(FindHost(out.snapshot, "wild.example")->routes(0).redirect().ssl_redirect());
  EXPECT_EQ(FindHost(out.snapshot, "wild.example")->routes(0).redirect().hsts_max_age_s(), 0u);
}


// ssl-ciphers: a property of the host, for the handshakes naming it.
constexpr const char* kCiphers = "nginx.ingress.kubernetes.io/ssl-ciphers";

TEST(SslCiphers, TheHostCarriesTheListAndOtherHostsDoNot) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app")
                .annotation(kCiphers, " ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384 ")
                .host("a.example")
                .path("/", "svc", 80));
  state.Add(IngressBuilder("other").host("b.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->ciphers(), "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
  EXPECT_EQ(FindHost(out.snapshot, "b.example")->ciphers(), "");
}

TEST(SslCiphers, TheOldestIngressOfTheHostDecides) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("plain").created("2026-01-01T00:00:00Z").host("a.example").path("/plain", "svc", 80));
  state.Add(IngressBuilder("older")
                .created("2026-01-02T00:00:00Z")
                .annotation(kCiphers, "ECDHE+AESGCM")
                .host("a.example")
                .path("/older", "svc", 80));
  state.Add(IngressBuilder("same")
                .created("2026-01-03T00:00:00Z")
                .annotation(kCiphers, "ECDHE+AESGCM")
                .host("a.example")
                .path("/same", "svc", 80));
  state.Add(IngressBuilder("younger")
                .created("2026-01-04T00:00:00Z")
                .annotation(kCiphers, "ECDHE+CHACHA20")
                .host("a.example")
                .path("/younger", "svc", 80)
                .path("/younger2", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->ciphers(), "ECDHE+AESGCM");
  EXPECT_TRUE(HasWarning(out, "younger", "ConflictingSslCiphers"));
  EXPECT_FALSE(HasWarning(out, "same", "ConflictingSslCiphers"));
  EXPECT_FALSE(HasWarning(out, "plain", "ConflictingSslCiphers"));
  int warnings = 0;
  for (const Warning& warning : out.warnings) warnings += warning.reason == "ConflictingSslCiphers";
  EXPECT_EQ(warnings, 1) << "one warning per Ingress, not per path";
}

TEST(SslCiphers, AnInvalidListFailsTheIngressClosed) {
  for (const char* value : {"NOT-A-CIPHER", "", "AES;rm -rf /", "AES\nssl_ciphers x"}) {
    State state;
    state.Backend("svc");
    state.Add(IngressBuilder("app").annotation(kCiphers, value).host("a.example").path("/", "svc", 80));
    const Output out = state.Translate();
    const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
    EXPECT_EQ(host->ciphers(), "") << value;
    EXPECT_EQ(host->routes(0).unavailable().status(), 503u) << value;
    EXPECT_TRUE(HasWarning(out, "app", "InvalidAnnotation")) << value;
  }
}

TEST(SslCiphers, PreferServerCiphersGoesWithTheListAndAloneToo) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("both")
                .annotation(kCiphers, "ECDHE+AESGCM")
                .annotation("pier.dev/ssl-prefer-server-ciphers", "true")
                .host("a.example")
                .path("/", "svc", 80));
  state.Add(IngressBuilder("alone")
                .annotation("nginx.ingress.kubernetes.io/ssl-prefer-server-ciphers", "true")
                .host("b.example")
                .path("/", "svc", 80));
  state.Add(IngressBuilder("off").annotation("pier.dev/ssl-prefer-server-ciphers", "false").host("c.example").path(
      "/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  EXPECT_TRUE(FindHost(out.snapshot, "a.example")->prefer_server_ciphers());
  EXPECT_EQ(FindHost(out.snapshot, "b.example")->ciphers(), "");
  EXPECT_TRUE(FindHost(out.snapshot, "b.example")->prefer_server_ciphers());
  EXPECT_FALSE(FindHost(out.snapshot, "c.example")->prefer_server_ciphers());
}

// The oldest Ingress setting either key decides both; one that only says the same is no conflict.
TEST(SslCiphers, TheOldestIngressDecidesBothKeys) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("older")
                .created("2026-01-01T00:00:00Z")
                .annotation("pier.dev/ssl-prefer-server-ciphers", "true")
                .host("a.example")
                .path("/older", "svc", 80));
  state.Add(IngressBuilder("list")
                .created("2026-01-02T00:00:00Z")
                .annotation(kCiphers, "ECDHE+AESGCM")
                .host("a.example")
                .path("/list", "svc", 80));
  state.Add(IngressBuilder("agrees")
                .created("2026-01-03T00:00:00Z")
                .annotation("pier.dev/ssl-prefer-server-ciphers", "true")
                .host("a.example")
                .path("/agrees", "svc", 80));
  const Output out = state.Translate();
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  EXPECT_EQ(host->ciphers(), "");
  EXPECT_TRUE(host->prefer_server_ciphers());
  EXPECT_TRUE(HasWarning(out, "list", "ConflictingSslCiphers"));
  EXPECT_FALSE(HasWarning(out, "agrees", "ConflictingSslCiphers"));
}

}  // namespace
}  // namespace pier::translate
