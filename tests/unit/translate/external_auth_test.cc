// auth-url and its companions -> Route.external_auth, with $host in the URL's authority put in
// per route, or a route that fails closed.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

constexpr const char* kNginx = "nginx.ingress.kubernetes.io/";

IngressBuilder Guarded(std::string name, std::string host, std::string url) {
  return IngressBuilder(std::move(name)).annotation(std::string(kNginx) + "auth-url", std::move(url)).host(std::move(host));
}

TEST(ExternalAuth, EveryRouteOfTheIngressCarriesItAndOtherIngressesDoNot) {
  State state;
  state.Backend("app");
  state.Add(Guarded("app", "a.example", "http://oauth2-proxy.auth.svc:4180/oauth2/auth?u=$escaped_request_uri")
                .annotation(std::string(kNginx) + "auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri")
                .annotation(std::string(kNginx) + "auth-response-headers", "X-Auth-Request-User")
                .annotation(std::string(kNginx) + "auth-method", "POST")
                .annotation(std::string(kNginx) + "auth-signin-redirect-param", "next")
                .annotation(std::string(kNginx) + "auth-request-redirect", "$request_uri")
                .path("/", "app", 80)
                .path("/api", "app", 80));
  state.Add(IngressBuilder("public").host("a.example").path("/public", "app", 80));
  const Output out = state.Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  int guarded = 0;
  for (const auto& route : out.snapshot.virtual_hosts(0).routes()) {
    if (route.ingress().name() == "public") {
      EXPECT_FALSE(route.has_external_auth());
      continue;
    }
    ++guarded;
    EXPECT_FALSE(route.has_unavailable());
    const pier::v1::ExternalAuth& auth = route.external_auth();
    EXPECT_EQ(auth.url(), "http://oauth2-proxy.auth.svc:4180/oauth2/auth?u=$escaped_request_uri");
    EXPECT_EQ(auth.signin_url(), "https://$host/oauth2/start?rd=$escaped_request_uri");
    ASSERT_EQ(auth.response_headers_size(), 1);
    EXPECT_EQ(auth.response_headers(0), "x-auth-request-user");
    EXPECT_EQ(auth.method(), "POST");
    EXPECT_EQ(auth.signin_redirect_param(), "next");
    EXPECT_EQ(auth.request_redirect(), "$request_uri");
  }
  EXPECT_EQ(guarded, 2);
}

TEST(ExternalAuth, HostInTheAuthorityBecomesEachRoutesHost) {
  State state;
  state.Backend("app");
  state.Add(Guarded("app", "a.example", "https://$host/oauth2/auth")
                .annotation("pier.dev/server-alias", "b.example")
                .path("/", "app", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.virtual_hosts_size(), 2);
  for (const auto& vhost : out.snapshot.virtual_hosts()) {
    EXPECT_EQ(vhost.routes(0).external_auth().url(), "https://" + vhost.host() + "/oauth2/auth") << vhost.host();
  }
}

TEST(ExternalAuth, HostInTheAuthorityOfARuleWithoutAnExactHostFailsClosed) {
  for (const std::string host : {"", "*.example.com"}) {
    State state;
    state.Backend("app");
    state.Add(Guarded("app", host, "http://${host}:4180/check").path("/", "app", 80));
    const Output out = state.Translate();
    const auto& route = out.snapshot.virtual_hosts(0).routes(0);
    EXPECT_EQ(route.unavailable().status(), 503u) << host;
    EXPECT_NE(route.unavailable().reason().find("no exact host"), std::string::npos);
    EXPECT_TRUE(route.cluster().empty());
    EXPECT_FALSE(route.has_external_auth());
    ASSERT_EQ(out.warnings.size(), 1u);
    EXPECT_EQ(out.warnings[0].reason, "InvalidAnnotation");
  }
}

TEST(ExternalAuth, AnInvalidUrlFailsTheIngressClosed) {
  State state;
  state.Backend("app");
  state.Add(Guarded("app", "a.example", "http://auth/check?ip=$remote_addr").path("/", "app", 80));
  const Output out = state.Translate();
  const auto& route = out.snapshot.virtual_hosts(0).routes(0);
  EXPECT_EQ(route.unavailable().status(), 503u);
  EXPECT_FALSE(route.has_external_auth());
}

TEST(ExternalAuth, ACanaryRunsUnderItsMainsCheck) {
  State state;
  state.Backend("app");
  state.Backend("app-v2");
  state.Add(Guarded("app", "a.example", "http://auth.svc/check").path("/", "app", 80));
  state.Add(IngressBuilder("app-canary")
                .annotation(std::string(kNginx) + "canary", "true")
                .annotation(std::string(kNginx) + "canary-weight", "50")
                .host("a.example")
                .path("/", "app-v2", 80));
  const Output out = state.Translate();
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  for (const auto& route : routes) {
    EXPECT_FALSE(route.has_unavailable()) << route.name();
    EXPECT_EQ(route.external_auth().url(), "http://auth.svc/check") << route.name();
  }
}

TEST(ExternalAuth, ACanaryOfARouteThatFailedClosedIsClosedToo) {
  State state;
  state.Backend("app");
  state.Backend("app-v2");
  state.Add(Guarded("app", "", "http://$host/check").path("/", "app", 80));
  state.Add(IngressBuilder("app-canary")
                .annotation(std::string(kNginx) + "canary", "true")
                .annotation(std::string(kNginx) + "canary-weight", "100")
                .path("/", "app-v2", 80));
  const Output out = state.Translate();
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  for (const auto& route : routes) EXPECT_EQ(route.unavailable().status(), 503u) << route.name();
}

TEST(ExternalAuth, AuthCacheKeyAndDuration) {
  State state;
  state.Backend("app");
  state.Add(Guarded("listed", "a.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-cache-key", "$cookie__oauth2_proxy")
                .annotation(std::string(kNginx) + "auth-cache-duration", "200 10m, any 30s")
                .path("/", "app", 80));
  state.Add(Guarded("default", "b.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-cache-key", "$remote_user$http_authorization")
                .path("/", "app", 80));
  state.Add(Guarded("bad-key", "c.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-cache-key", "everyone")
                .path("/", "app", 80));
  state.Add(Guarded("bad-duration", "d.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-cache-key", "$remote_addr")
                .annotation(std::string(kNginx) + "auth-cache-duration", "200 forever")
                .path("/", "app", 80));
  const Output out = state.Translate();
  const pier::v1::ExternalAuth& listed = FindHost(out.snapshot, "a.example")->routes(0).external_auth();
  EXPECT_EQ(listed.cache_key(), "$cookie__oauth2_proxy");
  ASSERT_EQ(listed.cache_rules_size(), 2);
  EXPECT_EQ(std::vector<uint32_t>(listed.cache_rules(0).statuses().begin(), listed.cache_rules(0).statuses().end()),
            std::vector<uint32_t>{200});
  EXPECT_EQ(listed.cache_rules(0).ttl_seconds(), 600u);
  EXPECT_TRUE(listed.cache_rules(1).any());
  EXPECT_EQ(listed.cache_rules(1).ttl_seconds(), 30u);
  // ingress-nginx's default duration: 200 202 401 5m.
  for (const char* host : {"b.example", "d.example"}) {
    const pier::v1::ExternalAuth& auth = FindHost(out.snapshot, host)->routes(0).external_auth();
    ASSERT_EQ(auth.cache_rules_size(), 1) << host;
    EXPECT_EQ(std::vector<uint32_t>(auth.cache_rules(0).statuses().begin(), auth.cache_rules(0).statuses().end()),
              (std::vector<uint32_t>{200, 202, 401}));
    EXPECT_EQ(auth.cache_rules(0).ttl_seconds(), 300u);
  }
  // An invalid key keeps nothing (the service is asked every time); both are reported.
  const pier::v1::Route& bad = FindHost(out.snapshot, "c.example")->routes(0);
  EXPECT_TRUE(bad.has_external_auth());
  EXPECT_FALSE(bad.has_unavailable());
  EXPECT_EQ(bad.external_auth().cache_key(), "");
  EXPECT_EQ(bad.external_auth().cache_rules_size(), 0);
  int reported = 0;
  for (const Warning& warning : out.warnings) {
    if (warning.reason == "InvalidAnnotation" &&
        (warning.annotation == std::string(kNginx) + "auth-cache-key" ||
         warning.annotation == std::string(kNginx) + "auth-cache-duration")) {
      ++reported;
    }
  }
  EXPECT_EQ(reported, 2);
}

TEST(ExternalAuth, AuthKeepalive) {
  State state;
  state.Backend("app");
  state.Add(Guarded("kept", "a.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-keepalive", "8")
                .annotation(std::string(kNginx) + "auth-keepalive-requests", "100")
                .annotation(std::string(kNginx) + "auth-keepalive-timeout", "5")
                .path("/", "app", 80));
  state.Add(Guarded("defaults", "b.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-keepalive", "2")
                .path("/", "app", 80));
  state.Add(Guarded("off", "c.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-keepalive-requests", "5")
                .path("/", "app", 80));
  state.Add(Guarded("bad", "d.example", "http://auth.example/check")
                .annotation(std::string(kNginx) + "auth-keepalive", "-1")
                .annotation(std::string(kNginx) + "auth-keepalive-timeout", "0")
                .path("/", "app", 80));
  const Output out = state.Translate();
  const pier::v1::ExternalAuth& kept = FindHost(out.snapshot, "a.example")->routes(0).external_auth();
  EXPECT_EQ(kept.keepalive_connections(), 8u);
  EXPECT_EQ(kept.keepalive_requests(), 100u);
  EXPECT_EQ(kept.keepalive_timeout_ms(), 5000u);
  // ingress-nginx's defaults: 1000 checks, 60 s.
  const pier::v1::ExternalAuth& defaults = FindHost(out.snapshot, "b.example")->routes(0).external_auth();
  EXPECT_EQ(defaults.keepalive_connections(), 2u);
  EXPECT_EQ(defaults.keepalive_requests(), 1000u);
  EXPECT_EQ(defaults.keepalive_timeout_ms(), 60000u);
  // Without auth-keepalive the others say nothing; invalid values are reported and ignored.
  for (const char* host : {"c.example", "d.example"}) {
    const pier::v1::Route& route = FindHost(out.snapshot, host)->routes(0);
    EXPECT_TRUE(route.has_external_auth()) << host;
    EXPECT_FALSE(route.has_unavailable()) << host;
    EXPECT_EQ(route.external_auth().keepalive_connections(), 0u) << host;
    EXPECT_EQ(route.external_auth().keepalive_requests(), 0u) << host;
  }
  int reported = 0;
  for (const Warning& warning : out.warnings) {
    if (warning.reason == "InvalidAnnotation" && warning.annotation.find("auth-keepalive") != std::string::npos) {
      ++reported;
    }
  }
  EXPECT_EQ(reported, 2);
}

}  // namespace
}  // namespace pier::translate
