// Client certificates on virtual hosts: auth-tls-secret and its modifiers, per host.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "builders.h"
#include "translate/tls_secret.h"

namespace pier::translate {
namespace {

using namespace testing;

constexpr const char* kSecret = "nginx.ingress.kubernetes.io/auth-tls-secret";

model::Secret CaSecret(std::string name, std::string ns = "default", std::string ca = testdata::kCertificatePem) {
  return OpaqueSecret(std::move(name), std::move(ns), "ca.crt", std::move(ca));
}

State WithBackend() {
  State state;
  state.Backend("chat");
  state.Add(CaSecret("client-ca"));
  return state;
}

TEST(ClientAuth, NoneByDefault) {
  State state = WithBackend();
  state.Add(IngressBuilder("app").host("a.example").path("/", "chat", 80));
  const Output out = state.Translate();
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_client_auth());
}

TEST(ClientAuth, TheHostCarriesTheCaAndTheModifiers) {
  State state = WithBackend();
  state.Add(IngressBuilder("app")
                .annotation(kSecret, "client-ca")
                .annotation("nginx.ingress.kubernetes.io/auth-tls-verify-client", "optional_no_ca")
                .annotation("nginx.ingress.kubernetes.io/auth-tls-verify-depth", "3")
                .annotation("nginx.ingress.kubernetes.io/auth-tls-error-page", "/no-cert")
                .annotation("nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream", "true")
                .annotation("nginx.ingress.kubernetes.io/auth-tls-match-cn", "CN=alice")
                .host("a.example")
                .path("/", "chat", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(host->has_client_auth());
  EXPECT_EQ(host->client_auth().ca_pem(), testdata::kCertificatePem);
  EXPECT_EQ(host->client_auth().verify(), pier::v1::ClientAuth::OPTIONAL_NO_CA);
  EXPECT_EQ(host->client_auth().verify_depth(), 3u);
  EXPECT_EQ(host->client_auth().error_page(), "/no-cert");
  EXPECT_TRUE(host->client_auth().pass_certificate());
  EXPECT_EQ(host->client_auth().secret(), "default/client-ca");
  EXPECT_EQ(host->client_auth().match_cn(), "CN=alice");
  EXPECT_EQ(host->routes(0).unavailable().status(), 0u);
}

TEST(ClientAuth, OffAsksForNothing) {
  State state = WithBackend();
  state.Add(IngressBuilder("app")
                .annotation(kSecret, "client-ca")
                .annotation("pier.dev/auth-tls-verify-client", "off")
                .host("a.example")
                .path("/", "chat", 80));
  EXPECT_FALSE(FindHost(state.Translate().snapshot, "a.example")->has_client_auth());
}

TEST(ClientAuth, ItCoversEveryIngressOfTheHostAndTheOldestDecides) {
  State state = WithBackend();
  state.Add(CaSecret("other-ca"));
  state.Add(IngressBuilder("open").created("2026-01-01T00:00:00Z").host("a.example").path("/open", "chat", 80));
  state.Add(IngressBuilder("older")
                .created("2026-01-02T00:00:00Z")
                .annotation(kSecret, "client-ca")
                .host("a.example")
                .path("/older", "chat", 80));
  state.Add(IngressBuilder("younger")
                .created("2026-01-03T00:00:00Z")
                .annotation(kSecret, "other-ca")
                .host("a.example")
                .path("/younger", "chat", 80)
                .host("b.example")
                .path("/", "chat", 80));
  const Output out = state.Translate();
  const pier::v1::VirtualHost* a = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(a->has_client_auth());
  EXPECT_EQ(a->client_auth().secret(), "default/client-ca");
  EXPECT_EQ(a->routes_size(), 3);
  EXPECT_TRUE(HasWarning(out, "younger", "ConflictingClientAuth"));
  EXPECT_FALSE(HasWarning(out, "open", "ConflictingClientAuth"));
  // On its own host the younger Ingress' settings apply.
  EXPECT_EQ(FindHost(out.snapshot, "b.example")->client_auth().secret(), "default/other-ca");
}

TEST(ClientAuth, TheSameSettingsTwiceAreNoConflict) {
  State state = WithBackend();
  for (const char* name : {"one", "two"}) {
    state.Add(IngressBuilder(name).annotation(kSecret, "client-ca").host("a.example").path(std::string("/") + name,
                                                                                          "chat", 80));
  }
  const Output out = state.Translate();
  EXPECT_TRUE(FindHost(out.snapshot, "a.example")->has_client_auth());
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
}

TEST(ClientAuth, AnUnusableCaClosesEveryRouteOfTheHost) {
  for (const auto& secret : {std::optional<model::Secret>(),
                             std::optional<model::Secret>(OpaqueSecret("client-ca", "default", "other.crt", "x")),
                             std::optional<model::Secret>(CaSecret("client-ca", "default", "not a certificate"))}) {
    State state;
    state.Backend("chat");
    if (secret) state.Add(*secret);
    state.Add(IngressBuilder("open").created("2026-01-01T00:00:00Z").host("a.example").path("/open", "chat", 80));
    state.Add(IngressBuilder("app")
                  .created("2026-01-02T00:00:00Z")
                  .annotation(kSecret, "client-ca")
                  .host("a.example")
                  .path("/", "chat", 80));
    state.Add(IngressBuilder("elsewhere").host("b.example").path("/", "chat", 80));
    const Output out = state.Translate();
    const pier::v1::VirtualHost* a = FindHost(out.snapshot, "a.example");
    EXPECT_FALSE(a->has_client_auth());
    ASSERT_EQ(a->routes_size(), 2);
    for (const auto& route : a->routes()) {
      EXPECT_EQ(route.unavailable().status(), 503u) << route.name();
      EXPECT_NE(route.unavailable().reason().find("client certificate CA unusable"), std::string::npos);
    }
    EXPECT_EQ(FindHost(out.snapshot, "b.example")->routes(0).unavailable().status(), 0u);
    EXPECT_TRUE(HasWarning(out, "app", "InvalidAnnotation"));
  }
}

model::Secret CaSecretWithCrl(std::string crl) {
  model::Secret secret = CaSecret("client-ca");
  secret.data["ca.crl"] = std::move(crl);
  return secret;
}

State WithCrl(std::string crl) {
  State state;
  state.Backend("chat");
  state.Add(CaSecretWithCrl(std::move(crl)));
  state.Add(IngressBuilder("app").annotation(kSecret, "client-ca").host("a.example").path("/", "chat", 80));
  state.Add(IngressBuilder("elsewhere").host("b.example").path("/", "chat", 80));
  return state;
}

TEST(ClientAuth, TheSecretsCaCrlGoesWithTheCa) {
  const Output out = WithCrl(std::string(testdata::kCrlPem) + testdata::kCrlPem).Translate();
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(host->has_client_auth());
  EXPECT_EQ(host->client_auth().crl_pem(), std::string(testdata::kCrlPem) + testdata::kCrlPem);
  EXPECT_EQ(host->routes(0).unavailable().status(), 0u);
}

TEST(ClientAuth, NoOrAnEmptyCaCrlChecksNoRevocation) {
  State without = WithBackend();
  without.Add(IngressBuilder("app").annotation(kSecret, "client-ca").host("a.example").path("/", "chat", 80));
  EXPECT_EQ(FindHost(without.Translate().snapshot, "a.example")->client_auth().crl_pem(), "");
  const Output empty = WithCrl("").Translate();
  EXPECT_TRUE(empty.warnings.empty()) << empty.warnings[0].message;
  EXPECT_EQ(FindHost(empty.snapshot, "a.example")->client_auth().crl_pem(), "");
}

TEST(ClientAuth, AnUnusableCaCrlClosesEveryRouteOfTheHost) {
  const std::string damaged = std::string(testdata::kCrlPem) + "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
  for (const std::string& crl : {std::string("no PEM here"), std::string(testdata::kCertificatePem), damaged}) {
    const Output out = WithCrl(crl).Translate();
    const pier::v1::VirtualHost* a = FindHost(out.snapshot, "a.example");
    EXPECT_FALSE(a->has_client_auth());
    EXPECT_EQ(a->routes(0).unavailable().status(), 503u);
    EXPECT_NE(a->routes(0).unavailable().reason().find("ca.crl"), std::string::npos) << a->routes(0).unavailable().reason();
    EXPECT_EQ(FindHost(out.snapshot, "b.example")->routes(0).unavailable().status(), 0u);
    ASSERT_TRUE(HasWarning(out, "app", "InvalidAnnotation"));
    EXPECT_NE(out.warnings[0].message.find("ca.crl"), std::string::npos) << out.warnings[0].message;
  }
  const Output out = WithCrl(damaged).Translate();
  EXPECT_NE(out.warnings[0].message.find("CRL 2 of ca.crl does not parse"), std::string::npos) << out.warnings[0].message;
}

TEST(ClientAuth, AnExpiredCaCrlIsUsedButWarned) {
  State state = WithCrl(std::string(testdata::kCrlPem) + testdata::kCrlPem);
  // The test CRL's nextUpdate is 2126-11-05 06:47:37 UTC; a clock in 2200 sees it expired.
  const auto future = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 230));
  const Output out = Translate(state.state, {}, BuildContext{nullptr, future});
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "BadTLSSecret");
  EXPECT_EQ(out.warnings[0].ingress_name, "app");
  EXPECT_EQ(out.warnings[0].message,
            "secret default/client-ca: CRL 1 of ca.crl expired at 2126-11-05 06:47:37 UTC; client certificates it "
            "covers are refused until it is renewed");
  // Still the host's policy: without the CRL, revoked certificates would get in.
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(host->has_client_auth());
  EXPECT_EQ(host->client_auth().crl_pem(), std::string(testdata::kCrlPem) + testdata::kCrlPem);
  EXPECT_EQ(host->routes(0).unavailable().status(), 0u);
  // Today it is current, and a build without a clock checks nothing.
  EXPECT_TRUE(Translate(state.state, {}, BuildContext{nullptr, std::chrono::system_clock::now()}).warnings.empty());
  EXPECT_TRUE(state.Translate().warnings.empty());
}

TEST(CrlExpiredAt, FromItsNextUpdateSecondOn) {
  const std::string pem = testdata::kCrlPem;
  std::tm next{};
  next.tm_year = 2126 - 1900, next.tm_mon = 10, next.tm_mday = 5, next.tm_hour = 6, next.tm_min = 47, next.tm_sec = 37;
  const auto next_update = std::chrono::system_clock::from_time_t(timegm(&next));
  EXPECT_FALSE(CrlExpiredAt(pem, next_update - std::chrono::seconds(1)));
  EXPECT_EQ(CrlExpiredAt(pem, next_update), "CRL 1 of ca.crl expired at 2126-11-05 06:47:37 UTC");
  EXPECT_FALSE(CrlExpiredAt("no PEM here", next_update));
}

TEST(ClientAuth, ASecretInAnotherNamespace) {
  State state = WithBackend();
  state.Add(CaSecret("shared-ca", "certs"));
  state.Add(IngressBuilder("app").annotation(kSecret, "certs/shared-ca").host("a.example").path("/", "chat", 80));
  EXPECT_EQ(FindHost(state.Translate().snapshot, "a.example")->client_auth().secret(), "certs/shared-ca");
}

}  // namespace
}  // namespace pier::translate
