// ssl-passthrough: which hosts pass TLS through, to which route, and what is reported when an
// Ingress asks for it and does not get it.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

constexpr const char* kKey = "nginx.ingress.kubernetes.io/ssl-passthrough";

Options Enabled() {
  Options options;
  options.enable_ssl_passthrough = true;
  return options;
}

State WithBackends() {
  State state;
  state.Backend("argocd");
  state.Backend("web");
  return state;
}

const Warning* FindWarning(const Output& out, const std::string& ingress, const std::string& reason) {
  for (const Warning& warning : out.warnings) {
    if (warning.ingress_name == ingress && warning.reason == reason) return &warning;
  }
  return nullptr;
}

TEST(Passthrough, TheRootPathsRouteGetsTheHostsTls) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd")
                .annotation(kKey, "true")
                .host("argocd.example")
                .path("/", "argocd", 80)
                .path("/api", "web", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "argocd.example");
  ASSERT_TRUE(host->has_passthrough());
  const std::string& name = host->passthrough().route();
  bool found = false;
  for (const auto& route : host->routes()) {
    if (route.name() != name) continue;
    found = true;
    EXPECT_EQ(route.match().path(), "/");
    EXPECT_EQ(route.service(), "argocd");
  }
  EXPECT_TRUE(found) << name;
}

TEST(Passthrough, OffWithoutTheAnnotationOrWhenItIsFalse) {
  State state = WithBackends();
  state.Add(IngressBuilder("plain").host("a.example").path("/", "web", 80));
  state.Add(IngressBuilder("off").annotation(kKey, "false").host("b.example").path("/", "web", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_passthrough());
  EXPECT_FALSE(FindHost(out.snapshot, "b.example")->has_passthrough());
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
}

TEST(Passthrough, WithoutTheFlagItIsReportedAndTlsEndsAtPier) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation("pier.dev/ssl-passthrough", "true").host("a.example").path("/", "argocd", 80));
  const Output out = state.Translate();
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_passthrough());
  const Warning* warning = FindWarning(out, "argocd", "PassthroughDisabled");
  ASSERT_NE(warning, nullptr);
  EXPECT_NE(warning->message.find("--enable-ssl-passthrough"), std::string::npos);
  EXPECT_EQ(warning->annotation, "pier.dev/ssl-passthrough");
}

TEST(Passthrough, AnInvalidValueIsReportedAndIgnored) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation(kKey, "yes please").host("a.example").path("/", "argocd", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_passthrough());
  EXPECT_NE(FindWarning(out, "argocd", "InvalidAnnotation"), nullptr);
}

TEST(Passthrough, TheDefaultBackendServesWhenThereIsNoRootPath) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd")
                .annotation(kKey, "true")
                .default_backend("argocd", 80)
                .host("a.example")
                .path("/api", "web", 80));
  const Output out = state.Translate(Enabled());
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(host->has_passthrough());
  for (const auto& route : host->routes()) {
    if (route.name() == host->passthrough().route()) {
      EXPECT_EQ(route.service(), "argocd");
    }
  }
}

TEST(Passthrough, AnExactRootCountsWhenThereIsNoPrefixOne) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation(kKey, "true").host("a.example").exact("/", "argocd", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_TRUE(FindHost(out.snapshot, "a.example")->has_passthrough());
}

TEST(Passthrough, NoRootPathIsReported) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation(kKey, "true").host("a.example").path("/api", "argocd", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_passthrough());
  const Warning* warning = FindWarning(out, "argocd", "InvalidAnnotation");
  ASSERT_NE(warning, nullptr);
  EXPECT_NE(warning->message.find("no path \"/\""), std::string::npos) << warning->message;
}

TEST(Passthrough, ARuleWithoutHostIsReported) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation(kKey, "true").path("/", "argocd", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_FALSE(FindHost(out.snapshot, "")->has_passthrough());
  EXPECT_NE(FindWarning(out, "argocd", "InvalidAnnotation"), nullptr);
}

TEST(Passthrough, AnOlderIngressOfTheHostKeepsItsTls) {
  State state = WithBackends();
  state.Add(IngressBuilder("older").created("2026-01-01T00:00:00Z").host("a.example").path("/web", "web", 80));
  state.Add(IngressBuilder("newer")
                .created("2026-01-02T00:00:00Z")
                .annotation(kKey, "true")
                .host("a.example")
                .path("/", "argocd", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_FALSE(FindHost(out.snapshot, "a.example")->has_passthrough());
  const Warning* warning = FindWarning(out, "newer", "ConflictingPassthrough");
  ASSERT_NE(warning, nullptr);
  EXPECT_NE(warning->message.find("default/older"), std::string::npos) << warning->message;
}

TEST(Passthrough, ANewerIngressOfThePassedThroughHostIsTold) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd")
                .created("2026-01-01T00:00:00Z")
                .annotation(kKey, "true")
                .host("a.example")
                .path("/", "argocd", 80));
  state.Add(IngressBuilder("newer").created("2026-01-02T00:00:00Z").host("a.example").path("/web", "web", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_TRUE(FindHost(out.snapshot, "a.example")->has_passthrough());
  EXPECT_NE(FindWarning(out, "newer", "PassthroughHost"), nullptr);
  EXPECT_EQ(FindWarning(out, "argocd", "PassthroughHost"), nullptr);
}

TEST(Passthrough, TwoPassthroughIngressesTheOldestWins) {
  State state = WithBackends();
  state.Add(IngressBuilder("first")
                .created("2026-01-01T00:00:00Z")
                .annotation(kKey, "true")
                .host("a.example")
                .path("/", "argocd", 80));
  state.Add(IngressBuilder("second")
                .created("2026-01-02T00:00:00Z")
                .annotation(kKey, "true")
                .host("a.example")
                .path("/x", "web", 80));
  const Output out = state.Translate(Enabled());
  const pier::v1::VirtualHost* host = FindHost(out.snapshot, "a.example");
  ASSERT_TRUE(host->has_passthrough());
  for (const auto& route : host->routes()) {
    if (route.name() == host->passthrough().route()) {
      EXPECT_EQ(route.service(), "argocd");
    }
  }
}

TEST(Passthrough, OnlyTheHostsOfTheIngress) {
  State state = WithBackends();
  state.Add(IngressBuilder("argocd").annotation(kKey, "true").host("a.example").path("/", "argocd", 80));
  state.Add(IngressBuilder("web").host("b.example").path("/", "web", 80));
  const Output out = state.Translate(Enabled());
  EXPECT_TRUE(FindHost(out.snapshot, "a.example")->has_passthrough());
  EXPECT_FALSE(FindHost(out.snapshot, "b.example")->has_passthrough());
}

}  // namespace
}  // namespace pier::translate
