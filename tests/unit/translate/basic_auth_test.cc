// auth-type basic, auth-secret, auth-realm -> Route.basic_auth, or a route that fails closed.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

// `openssl passwd -apr1 -salt pier s3cret` and `openssl passwd -6 -salt pierpier s3cret`.
constexpr const char* kApr1 = "$apr1$pier$kpClQyGnUSUBweJJBXl.6.";
constexpr const char* kSha512 =
    "$6$pierpier$gdpmHGTyDoDoEIOlvIs0SH5Yd7NN7yGhYDnFMSafVi.BRPxvHJdHo36WKEkrSg.UnYI7sasV8pMzF/LT2j5ky/";

model::Secret AuthSecret(std::string name, std::string file, std::string ns = "default") {
  return OpaqueSecret(std::move(name), std::move(ns), "auth", std::move(file));
}

IngressBuilder Protected(std::string name = "app") {
  return IngressBuilder(std::move(name))
      .annotation("nginx.ingress.kubernetes.io/auth-type", "basic")
      .annotation("nginx.ingress.kubernetes.io/auth-secret", "users")
      .host("a.example")
      .path("/", "app", 80);
}

const pier::v1::Route& OnlyRoute(const Output& out) { return out.snapshot.virtual_hosts(0).routes(0); }

TEST(BasicAuth, TheSecretsUsersAndTheRealmGoOnEveryRoute) {
  State state;
  state.Backend("app");
  state.Add(Protected().annotation("pier.dev/auth-realm", "Staff only").path("/admin", "app", 80));
  state.Add(AuthSecret("users", std::string("# staff\nalice:") + kApr1 + "\r\nbob:" + kSha512 + "\n"));
  const Output out = state.Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  for (const auto& route : routes) {
    EXPECT_FALSE(route.has_unavailable());
    const pier::v1::BasicAuth& auth = route.basic_auth();
    EXPECT_TRUE(auth.enabled());
    EXPECT_EQ(auth.realm(), "Staff only");
    ASSERT_EQ(auth.users_size(), 2);
    EXPECT_EQ(auth.users(0).name(), "alice");
    EXPECT_EQ(auth.users(0).hash(), kApr1);
    EXPECT_EQ(auth.users(1).name(), "bob");
    EXPECT_EQ(auth.users(1).hash(), kSha512);
  }
}

TEST(BasicAuth, OtherIngressesOfTheHostAreNotProtected) {
  State state;
  state.Backend("app");
  state.Add(Protected());
  state.Add(IngressBuilder("public").host("a.example").path("/public", "app", 80));
  state.Add(AuthSecret("users", std::string("alice:") + kApr1));
  const Output out = state.Translate();
  for (const auto& route : out.snapshot.virtual_hosts(0).routes()) {
    EXPECT_EQ(route.basic_auth().enabled(), route.ingress().name() == "app") << route.name();
  }
}

TEST(BasicAuth, UnusableLinesAreSkippedWithAWarningThatNeverShowsAHash) {
  State state;
  state.Backend("app");
  state.Add(Protected());
  state.Add(AuthSecret("users", std::string("alice:") + kApr1 + "\nmallory:$apr1$broken\nno-colon\nalice:" + kSha512));
  const Output out = state.Translate();
  const auto& auth = OnlyRoute(out).basic_auth();
  ASSERT_EQ(auth.users_size(), 1);
  EXPECT_EQ(auth.users(0).hash(), kApr1) << "the first line of a user wins";
  EXPECT_FALSE(OnlyRoute(out).has_unavailable());
  EXPECT_EQ(out.warnings.size(), 3u);
  for (const Warning& warning : out.warnings) {
    EXPECT_EQ(warning.reason, "InvalidAnnotation");
    EXPECT_EQ(warning.annotation, "nginx.ingress.kubernetes.io/auth-secret");
    EXPECT_NE(warning.message.find("secret default/users key auth line"), std::string::npos) << warning.message;
    EXPECT_EQ(warning.message.find("$apr1$"), std::string::npos) << warning.message;
    EXPECT_EQ(warning.message.find("$6$"), std::string::npos) << warning.message;
  }
}

TEST(BasicAuth, WhatCannotAuthenticateFailsClosedWith503) {
  struct Case {
    IngressBuilder ingress;
    std::optional<model::Secret> secret;
    std::string key;
    std::string why;
  };
  model::Secret no_auth_key = AuthSecret("users", "");
  no_auth_key.data = {{"users", std::string("alice:") + kApr1}};
  const std::vector<Case> cases = {
      {Protected(), std::nullopt, "auth-secret", "secret default/users not found"},
      {Protected(), no_auth_key, "auth-secret", "secret default/users has no key auth"},
      {Protected(), AuthSecret("users", "# nobody\n\n"), "auth-secret", "secret default/users key auth holds no usable user"},
      {IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/auth-type", "basic").host("a.example").path("/", "app", 80),
       std::nullopt, "auth-type", "auth-type basic needs auth-secret"},
      {IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/auth-secret", "users").host("a.example").path("/", "app", 80),
       AuthSecret("users", std::string("alice:") + kApr1), "auth-secret", "auth-secret needs auth-type basic"},
  };
  for (const Case& c : cases) {
    State state;
    state.Backend("app");
    state.Add(c.ingress);
    if (c.secret) state.Add(*c.secret);
    const Output out = state.Translate();
    const auto& route = OnlyRoute(out);
    EXPECT_EQ(route.unavailable().status(), 503u) << c.why;
    EXPECT_EQ(route.unavailable().reason(), "basic authentication unusable: " + c.why);
    EXPECT_FALSE(route.basic_auth().enabled()) << c.why;
    const Warning* warning = FindWarning(out, "InvalidAnnotation");
    ASSERT_NE(warning, nullptr) << c.why;
    EXPECT_EQ(warning->annotation, "nginx.ingress.kubernetes.io/" + c.key);
    EXPECT_NE(warning->message.find(c.why + "; routes of this Ingress fail closed"), std::string::npos)
        << warning->message;
  }
}

TEST(BasicAuth, ASecretInAnotherNamespace) {
  State state;
  state.Backend("app");
  state.Add(Protected().annotation("nginx.ingress.kubernetes.io/auth-secret", "auth/users"));
  state.Add(AuthSecret("users", std::string("alice:") + kApr1, "auth"));
  const Output out = state.Translate();
  EXPECT_TRUE(OnlyRoute(out).basic_auth().enabled());
}

TEST(BasicAuth, ACanaryRunsUnderItsMainsAuthenticationAndItsOwnKeysAreIgnored) {
  State state;
  state.Backend("app");
  state.Backend("app-v2");
  state.Add(Protected());
  state.Add(IngressBuilder("app-canary")
                .annotation("nginx.ingress.kubernetes.io/canary", "true")
                .annotation("nginx.ingress.kubernetes.io/canary-weight", "50")
                .annotation("nginx.ingress.kubernetes.io/auth-type", "basic")  // no Secret: would fail closed
                .host("a.example")
                .path("/", "app-v2", 80));
  state.Add(AuthSecret("users", std::string("alice:") + kApr1));
  const Output out = state.Translate();
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  for (const auto& route : routes) {
    EXPECT_FALSE(route.has_unavailable()) << route.name();
    EXPECT_TRUE(route.basic_auth().enabled()) << route.name();
    EXPECT_EQ(route.basic_auth().users(0).name(), "alice");
  }
}

}  // namespace
}  // namespace pier::translate
