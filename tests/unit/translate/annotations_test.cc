// Annotations applied to routes, and the warnings for bad or unknown ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

const pier::v1::Route& OnlyRoute(const Output& out) { return out.snapshot.virtual_hosts(0).routes(0); }

State OneIngress(IngressBuilder ingress) {
  State state;
  state.Backend("chat");
  state.Backend("api");
  state.Add(ingress.host("a.example").path("/ws", "chat", 80));
  return state;
}

TEST(AnnotationsOnRoutes, NoAnnotationsLeaveDefaultsToTheDataplane) {
  const Output out = OneIngress(IngressBuilder("app")).Translate();
  const auto& route = OnlyRoute(out);
  EXPECT_EQ(route.timeouts().connect_ms(), 0u);
  EXPECT_EQ(route.timeouts().read_ms(), 0u);
  EXPECT_EQ(route.timeouts().send_ms(), 0u);
  EXPECT_TRUE(route.websocket().enabled());
  EXPECT_EQ(route.websocket().idle_timeout_ms(), 0u);
  EXPECT_FALSE(route.websocket().origins_restricted());
  EXPECT_EQ(route.load_balancing().policy(), pier::v1::LoadBalancing::ROUND_ROBIN);
  EXPECT_EQ(route.affinity().mode(), pier::v1::Affinity::NONE);
  EXPECT_EQ(route.limits().connections_per_client(), 0u);
  EXPECT_EQ(route.max_body_bytes(), 0u);
  EXPECT_FALSE(route.body_unlimited());
  EXPECT_FALSE(route.has_unavailable());
  EXPECT_TRUE(out.warnings.empty());
}

TEST(AnnotationsOnRoutes, TimeoutsInMilliseconds) {
  const Output out = OneIngress(IngressBuilder("app")
                                    .annotation("pier.dev/proxy-connect-timeout", "10")
                                    .annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", "3600")
                                    .annotation("pier.dev/proxy-send-timeout", "1m30s")
                                    .annotation("pier.dev/websocket-idle-timeout", "2h"))
                         .Translate();
  const auto& route = OnlyRoute(out);
  EXPECT_EQ(route.timeouts().connect_ms(), 10'000u);
  EXPECT_EQ(route.timeouts().read_ms(), 3'600'000u);
  EXPECT_EQ(route.timeouts().send_ms(), 90'000u);
  EXPECT_EQ(route.websocket().idle_timeout_ms(), 7'200'000u);
}

TEST(AnnotationsOnRoutes, WebsocketServicesDisablesUpgradesForOtherServices) {
  State state = OneIngress(IngressBuilder("app").annotation("nginx.org/websocket-services", "api"));
  const Output out = state.Translate();
  const auto& route = OnlyRoute(out);
  EXPECT_FALSE(route.websocket().enabled());
  EXPECT_EQ(route.websocket().disabled_reason(), "service chat is not in websocket-services");

  const Output allowed = OneIngress(IngressBuilder("app").annotation("pier.dev/websocket-services", "api, chat")).Translate();
  EXPECT_TRUE(OnlyRoute(allowed).websocket().enabled());
}

TEST(AnnotationsOnRoutes, WebsocketFalseDisablesUpgrades) {
  const Output out = OneIngress(IngressBuilder("app").annotation("pier.dev/websocket", "false")).Translate();
  EXPECT_FALSE(OnlyRoute(out).websocket().enabled());
  EXPECT_EQ(OnlyRoute(out).websocket().disabled_reason(), "websocket upgrades are disabled on ingress default/app");
}

TEST(AnnotationsOnRoutes, SessionCookieExpiresIsTheMaxAgeWhenThatIsUnset) {
  const auto max_age = [](std::vector<std::pair<const char*, const char*>> annotations) {
    IngressBuilder ingress("app");
    ingress.annotation("nginx.ingress.kubernetes.io/affinity", "cookie");
    for (const auto& [key, value] : annotations) ingress.annotation(key, value);
    return OnlyRoute(OneIngress(ingress).Translate()).affinity().cookie_max_age_s();
  };
  EXPECT_EQ(max_age({}), 0u);
  EXPECT_EQ(max_age({{"nginx.ingress.kubernetes.io/session-cookie-expires", "172800"}}), 172800u);
  EXPECT_EQ(max_age({{"nginx.ingress.kubernetes.io/session-cookie-expires", "172800"},
                     {"nginx.ingress.kubernetes.io/session-cookie-max-age", "60"}}),
            60u);
}

TEST(AnnotationsOnRoutes, OriginsBalancingAffinityLimitsAccessSizes) {
  const Output out = OneIngress(IngressBuilder("app")
                                    .annotation("pier.dev/websocket-allowed-origins", "https://App.example.com")
                                    .annotation("pier.dev/load-balance", "least_conn")
                                    .annotation("nginx.ingress.kubernetes.io/limit-rate", "100")
                                    .annotation("nginx.ingress.kubernetes.io/limit-rate-after", "2m")
                                    .annotation("pier.dev/upstream-hash-by", "$http_x_user")
                                    .annotation("pier.dev/affinity", "cookie")
                                    .annotation("pier.dev/affinity-mode", "persistent")
                                    .annotation("pier.dev/session-cookie-max-age", "3600")
                                    .annotation("pier.dev/session-cookie-samesite", "lax")
                                    .annotation("pier.dev/limit-connections", "10")
                                    .annotation("pier.dev/limit-rps", "5")
                                    .annotation("pier.dev/limit-allowlist", "10.1.2.3/8")
                                    .annotation("pier.dev/max-connections", "100")
                                    .annotation("pier.dev/allowlist-source-range", "192.168.0.0/16")
                                    .annotation("pier.dev/denylist-source-range", "192.168.1.0/24")
                                    .annotation("pier.dev/backend-protocol", "HTTPS")
                                    .annotation("pier.dev/proxy-body-size", "8m")
                                    .annotation("pier.dev/proxy-buffer-size", "32k"))
                         .Translate();
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto& route = OnlyRoute(out);
  EXPECT_TRUE(route.websocket().origins_restricted());
  EXPECT_EQ(Strings(route.websocket().allowed_origins().begin(), route.websocket().allowed_origins().end()),
            Strings{"https://app.example.com"});
  EXPECT_EQ(route.load_balancing().policy(), pier::v1::LoadBalancing::LEAST_CONN);
  EXPECT_EQ(route.load_balancing().hash_by().source(), pier::v1::HashKey::HEADER);
  EXPECT_EQ(route.load_balancing().hash_by().name(), "x-user");
  EXPECT_EQ(route.affinity().mode(), pier::v1::Affinity::COOKIE_PERSISTENT);
  EXPECT_EQ(route.affinity().cookie_name(), "PIER_AFFINITY");
  EXPECT_EQ(route.affinity().cookie_path(), "/ws") << "the cookie path defaults to the route path";
  EXPECT_EQ(route.affinity().cookie_max_age_s(), 3600u);
  EXPECT_EQ(route.affinity().cookie_samesite(), "Lax");
  EXPECT_EQ(route.limits().connections_per_client(), 10u);
  EXPECT_EQ(route.limits().connections_per_route(), 100u);
  EXPECT_DOUBLE_EQ(route.limits().requests_per_second(), 5.0);
  EXPECT_EQ(route.limits().burst(), 25u);
  EXPECT_EQ(Strings(route.limits().exempt_cidrs().begin(), route.limits().exempt_cidrs().end()), Strings{"10.0.0.0/8"});
  EXPECT_EQ(Strings(route.access().allow_cidrs().begin(), route.access().allow_cidrs().end()), Strings{"192.168.0.0/16"});
  EXPECT_EQ(Strings(route.access().deny_cidrs().begin(), route.access().deny_cidrs().end()), Strings{"192.168.1.0/24"});
  EXPECT_EQ(route.max_body_bytes(), 8u << 20);
  EXPECT_EQ(route.buffer_bytes(), 32u * 1024);
  EXPECT_EQ(route.limit_rate_bytes_per_s(), 100u * 1024);
  EXPECT_EQ(route.limit_rate_after_bytes(), 2u << 20);
  EXPECT_TRUE(FindCluster(out.snapshot, "default/chat:80+tls")->backend_tls().enabled());
}

TEST(AnnotationsOnRoutes, CookiePathNeverCarriesASemicolon) {
  State state;
  state.Backend("chat");
  state.Add(IngressBuilder("app").annotation("pier.dev/affinity", "cookie").host("a.example").path("/a;b", "chat", 80));
  const Output out = state.Translate();
  EXPECT_EQ(OnlyRoute(out).match().path(), "/a;b");
  EXPECT_EQ(OnlyRoute(out).affinity().cookie_path(), "/");
}

TEST(AnnotationsOnRoutes, SessionCookieChangeOnFailureDecidesWhatAffinityModeDecides) {
  struct Case {
    const char* mode;       // affinity-mode, "" for none
    const char* change;     // session-cookie-change-on-failure, "" for none
    pier::v1::Affinity::Mode expected;
  };
  for (const Case& c : {Case{"", "", pier::v1::Affinity::COOKIE_BALANCED},
                        Case{"persistent", "", pier::v1::Affinity::COOKIE_PERSISTENT},
                        Case{"", "false", pier::v1::Affinity::COOKIE_PERSISTENT},
                        Case{"balanced", "false", pier::v1::Affinity::COOKIE_PERSISTENT},
                        Case{"persistent", "true", pier::v1::Affinity::COOKIE_BALANCED}}) {
    IngressBuilder ingress("app");
    ingress.annotation("nginx.ingress.kubernetes.io/affinity", "cookie");
    if (*c.mode) ingress.annotation("nginx.ingress.kubernetes.io/affinity-mode", c.mode);
    if (*c.change) ingress.annotation("nginx.ingress.kubernetes.io/session-cookie-change-on-failure", c.change);
    const Output out = OneIngress(std::move(ingress)).Translate();
    EXPECT_TRUE(out.warnings.empty()) << c.mode << " " << c.change;
    EXPECT_EQ(OnlyRoute(out).affinity().mode(), c.expected) << c.mode << " " << c.change;
  }
}

TEST(AnnotationsOnRoutes, RpmFoldsIntoAPerSecondRate) {
  const Output out = OneIngress(IngressBuilder("app").annotation("pier.dev/limit-rpm", "120")).Translate();
  EXPECT_DOUBLE_EQ(OnlyRoute(out).limits().requests_per_second(), 2.0);
  EXPECT_EQ(OnlyRoute(out).limits().burst(), 10u);
}

TEST(AnnotationsOnRoutes, BurstOfTheLargestRatesDoesNotOverflow) {
  const Output out = OneIngress(IngressBuilder("app")
                                    .annotation("pier.dev/limit-rpm", "60000000")
                                    .annotation("pier.dev/limit-burst-multiplier", "1000"))
                         .Translate();
  EXPECT_DOUBLE_EQ(OnlyRoute(out).limits().requests_per_second(), 1'000'000.0);
  EXPECT_EQ(OnlyRoute(out).limits().burst(), 1'000'000'000u);
}

TEST(AnnotationsOnRoutes, BodySizeZeroIsUnlimited) {
  const Output out = OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-body-size", "0")).Translate();
  EXPECT_TRUE(OnlyRoute(out).body_unlimited());
}

TEST(AnnotationsOnRoutes, RedirectsAndAppRoot) {
  const Output permanent = OneIngress(IngressBuilder("app")
                                          .annotation("nginx.ingress.kubernetes.io/permanent-redirect",
                                                      "https://new.example$request_uri")
                                          .annotation("nginx.ingress.kubernetes.io/permanent-redirect-code", "308")
                                          .annotation("pier.dev/temporal-redirect", "https://other.example"))
                               .Translate();
  const auto& redirect = OnlyRoute(permanent).route_redirect();
  EXPECT_EQ(redirect.status(), 308u);
  EXPECT_EQ(redirect.location(), "https://new.example");
  EXPECT_TRUE(redirect.append_request_uri());
  EXPECT_TRUE(permanent.warnings.empty());

  const Output temporal =
      OneIngress(IngressBuilder("app").annotation("pier.dev/temporal-redirect", "/elsewhere")).Translate();
  EXPECT_EQ(OnlyRoute(temporal).route_redirect().status(), 302u);
  EXPECT_FALSE(OnlyRoute(temporal).route_redirect().append_request_uri());

  const Output root = OneIngress(IngressBuilder("app").annotation("pier.dev/app-root", "/app")).Translate();
  EXPECT_EQ(OnlyRoute(root).route_redirect().status(), 0u);
  EXPECT_EQ(OnlyRoute(root).route_redirect().app_root(), "/app");

  // A variable other than a trailing $request_uri is not pasted anywhere: invalid, no redirect.
  const Output variable =
      OneIngress(IngressBuilder("app").annotation("pier.dev/permanent-redirect", "https://$host/")).Translate();
  EXPECT_FALSE(OnlyRoute(variable).has_route_redirect());
  ASSERT_EQ(variable.warnings.size(), 1u);
  EXPECT_EQ(variable.warnings[0].reason, "InvalidAnnotation");
}

TEST(AnnotationsOnRoutes, UpstreamVhost) {
  const Output out =
      OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/upstream-vhost", "Internal.svc:8080"))
          .Translate();
  EXPECT_EQ(OnlyRoute(out).upstream_host(), "internal.svc:8080");
  const Output none = OneIngress(IngressBuilder("app")).Translate();
  EXPECT_EQ(OnlyRoute(none).upstream_host(), "");
  const Output variable =
      OneIngress(IngressBuilder("app").annotation("pier.dev/upstream-vhost", "$service_name.svc")).Translate();
  EXPECT_EQ(OnlyRoute(variable).upstream_host(), "");
  ASSERT_EQ(variable.warnings.size(), 1u);
}

TEST(AnnotationsOnRoutes, Satisfy) {
  const Output any = OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/satisfy", "any")).Translate();
  EXPECT_TRUE(OnlyRoute(any).satisfy_any());
  EXPECT_TRUE(any.warnings.empty());
  EXPECT_FALSE(OnlyRoute(OneIngress(IngressBuilder("app")).Translate()).satisfy_any());
  const Output bad = OneIngress(IngressBuilder("app").annotation("pier.dev/satisfy", "either")).Translate();
  EXPECT_FALSE(OnlyRoute(bad).satisfy_any());
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0].reason, "InvalidAnnotation");
}

TEST(AnnotationsOnRoutes, NextUpstream) {
  // Without the keys the field stays unset: the dataplane applies ingress-nginx's defaults.
  EXPECT_FALSE(OnlyRoute(OneIngress(IngressBuilder("app")).Translate()).has_next_upstream());

  const Output set = OneIngress(IngressBuilder("app")
                                    .annotation("nginx.ingress.kubernetes.io/proxy-next-upstream", "error http_503")
                                    .annotation("nginx.ingress.kubernetes.io/proxy-next-upstream-timeout", "2s"))
                         .Translate();
  EXPECT_TRUE(set.warnings.empty());
  const pier::v1::NextUpstream& next = OnlyRoute(set).next_upstream();
  EXPECT_TRUE(next.error());
  EXPECT_FALSE(next.timeout());
  ASSERT_EQ(next.statuses_size(), 1);
  EXPECT_EQ(next.statuses(0), 503u);
  EXPECT_EQ(next.tries(), 3u) << "ingress-nginx's default tries";
  EXPECT_EQ(next.timeout_ms(), 2000u);

  // Only the tries: the conditions stay ingress-nginx's "error timeout".
  const Output tries =
      OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-next-upstream-tries", "1")).Translate();
  EXPECT_TRUE(OnlyRoute(tries).next_upstream().error());
  EXPECT_TRUE(OnlyRoute(tries).next_upstream().timeout());
  EXPECT_EQ(OnlyRoute(tries).next_upstream().tries(), 1u);

  const Output off = OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-next-upstream", "off")).Translate();
  ASSERT_TRUE(OnlyRoute(off).has_next_upstream());
  EXPECT_FALSE(OnlyRoute(off).next_upstream().error());
  EXPECT_FALSE(OnlyRoute(off).next_upstream().timeout());
}

TEST(AnnotationsOnRoutes, EnableAccessLog) {
  const Output off =
      OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/enable-access-log", "false")).Translate();
  EXPECT_TRUE(OnlyRoute(off).access_log_off());
  EXPECT_TRUE(off.warnings.empty());
  const Output on = OneIngress(IngressBuilder("app").annotation("pier.dev/enable-access-log", "true")).Translate();
  EXPECT_FALSE(OnlyRoute(on).access_log_off());
  const Output none = OneIngress(IngressBuilder("app")).Translate();
  EXPECT_FALSE(OnlyRoute(none).access_log_off());
  const Output bad =
      OneIngress(IngressBuilder("app").annotation("pier.dev/enable-access-log", "sometimes")).Translate();
  EXPECT_FALSE(OnlyRoute(bad).access_log_off());  // the default: logged
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0].reason, "InvalidAnnotation");
}

TEST(AnnotationsOnRoutes, ProxyCookieDomainAndPath) {
  const Output both = OneIngress(IngressBuilder("app")
                                     .annotation("nginx.ingress.kubernetes.io/proxy-cookie-domain", "app.internal shop")
                                     .annotation("nginx.ingress.kubernetes.io/proxy-cookie-path", "/api/ /"))
                          .Translate();
  ASSERT_TRUE(OnlyRoute(both).has_cookie_rewrite());
  EXPECT_EQ(OnlyRoute(both).cookie_rewrite().domain_from(), "app.internal");
  EXPECT_EQ(OnlyRoute(both).cookie_rewrite().domain_to(), "shop");
  EXPECT_EQ(OnlyRoute(both).cookie_rewrite().path_from(), "/api/");
  EXPECT_EQ(OnlyRoute(both).cookie_rewrite().path_to(), "/");
  const Output path = OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-cookie-path", "/a /b")).Translate();
  EXPECT_EQ(OnlyRoute(path).cookie_rewrite().domain_from(), "");
  EXPECT_EQ(OnlyRoute(path).cookie_rewrite().path_to(), "/b");
  const Output off = OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-cookie-domain", "off")).Translate();
  EXPECT_FALSE(OnlyRoute(off).has_cookie_rewrite());
  EXPECT_TRUE(off.warnings.empty());
  const Output regex =
      OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-cookie-domain", "~.*internal shop")).Translate();
  EXPECT_FALSE(OnlyRoute(regex).has_cookie_rewrite());
  ASSERT_EQ(regex.warnings.size(), 1u);
  EXPECT_EQ(regex.warnings[0].reason, "InvalidAnnotation");
}

TEST(AnnotationsOnRoutes, CorsWithIngressNginxDefaults) {
  const Output out =
      OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/enable-cors", "true")).Translate();
  const pier::v1::Cors& cors = OnlyRoute(out).cors();
  EXPECT_TRUE(cors.enabled());
  EXPECT_TRUE(cors.allow_origins().empty());  // "*"
  EXPECT_EQ(cors.allow_methods(), "GET, PUT, POST, DELETE, PATCH, OPTIONS");
  EXPECT_EQ(cors.allow_headers(),
            "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, "
            "Authorization");
  EXPECT_EQ(cors.expose_headers(), "");
  EXPECT_TRUE(cors.allow_credentials());
  EXPECT_EQ(cors.max_age_s(), 1728000u);
  EXPECT_TRUE(out.warnings.empty());

  const Output off = OneIngress(IngressBuilder("app")).Translate();
  EXPECT_FALSE(OnlyRoute(off).has_cors());
}

TEST(AnnotationsOnRoutes, CorsSettings) {
  const Output out = OneIngress(IngressBuilder("app")
                                    .annotation("pier.dev/enable-cors", "true")
                                    .annotation("pier.dev/cors-allow-origin", "https://App.example.com, https://*.example.org")
                                    .annotation("pier.dev/cors-allow-methods", "GET,POST")
                                    .annotation("pier.dev/cors-allow-headers", "X-Token")
                                    .annotation("pier.dev/cors-expose-headers", "X-Total, X-Page")
                                    .annotation("pier.dev/cors-allow-credentials", "false")
                                    .annotation("pier.dev/cors-max-age", "600"))
                         .Translate();
  const pier::v1::Cors& cors = OnlyRoute(out).cors();
  EXPECT_EQ(Strings(cors.allow_origins().begin(), cors.allow_origins().end()),
            (Strings{"https://*.example.org", "https://app.example.com"}));
  EXPECT_EQ(cors.allow_methods(), "GET, POST");
  EXPECT_EQ(cors.allow_headers(), "X-Token");
  EXPECT_EQ(cors.expose_headers(), "X-Total, X-Page");
  EXPECT_FALSE(cors.allow_credentials());
  EXPECT_EQ(cors.max_age_s(), 600u);
  EXPECT_TRUE(out.warnings.empty());
}

TEST(AnnotationsOnRoutes, AnInvalidCorsValueTurnsCorsOffNotWider) {
  // A bad origin list must not leave "*" in its place.
  const Output out = OneIngress(IngressBuilder("app")
                                    .annotation("pier.dev/enable-cors", "true")
                                    .annotation("pier.dev/cors-allow-origin", "https://app.example.com/path"))
                         .Translate();
  EXPECT_FALSE(OnlyRoute(out).has_cors());
  EXPECT_FALSE(OnlyRoute(out).has_unavailable());  // the application is still served
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "InvalidAnnotation");
  EXPECT_NE(out.warnings[0].message.find("CORS is off for this Ingress"), std::string::npos) << out.warnings[0].message;
}

TEST(AnnotationsOnRoutes, RewriteTargetMakesThePathsRegexesOrderedByLength) {
  State state;
  state.Backend("api");
  state.Backend("web");
  state.Add(IngressBuilder("api")
                .annotation("nginx.ingress.kubernetes.io/rewrite-target", "/$2")
                .annotation("nginx.ingress.kubernetes.io/x-forwarded-prefix", "/api")
                .host("a.example")
                .path("/api(/|$)(.*)", "api", 80, model::PathType::kImplementationSpecific)
                .exact("/health", "api", 80));
  state.Add(IngressBuilder("web").created("2024-02-01T00:00:00Z").host("a.example").path("/", "web", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty());
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 3);
  EXPECT_EQ(routes[0].match().type(), pier::v1::PathMatch::REGEX);
  EXPECT_EQ(routes[0].match().path(), "/api(/|$)(.*)");
  EXPECT_EQ(routes[0].rewrite_target(), "/$2");
  EXPECT_EQ(routes[0].forwarded_prefix(), "/api");
  EXPECT_EQ(routes[1].match().type(), pier::v1::PathMatch::EXACT);  // Exact stays exact
  EXPECT_EQ(routes[1].match().path(), "/health");
  // The other Ingress' paths are not made regexes.
  EXPECT_EQ(routes[2].match().type(), pier::v1::PathMatch::PREFIX);
  EXPECT_EQ(routes[2].rewrite_target(), "");
}

TEST(AnnotationsOnRoutes, UseRegexSkipsAPathRe2Refuses) {
  State state;
  state.Backend("api");
  state.Add(IngressBuilder("api")
                .annotation("pier.dev/use-regex", "true")
                .annotation("pier.dev/affinity", "cookie")
                .host("a.example")
                .path("/(a)\\1", "api", 80)
                .path("/v[0-9]+/", "api", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "InvalidPath");
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 1);
  EXPECT_EQ(routes[0].match().path(), "/v[0-9]+/");  // as written, the trailing "/" kept
  EXPECT_EQ(routes[0].rewrite_target(), "");
  EXPECT_EQ(routes[0].affinity().cookie_path(), "/");  // a regex is no cookie path
}

TEST(AnnotationsOnRoutes, ARewriteTargetWithAVariableIsInvalid) {
  const Output out =
      OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/rewrite-target", "/$host/$1")).Translate();
  EXPECT_EQ(OnlyRoute(out).rewrite_target(), "");
  EXPECT_EQ(OnlyRoute(out).match().type(), pier::v1::PathMatch::PREFIX);
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "InvalidAnnotation");
}

TEST(Canary, ACanaryIngressJoinsTheMainRouteWithTheMainsPolicy) {
  State state;
  state.Backend("app");
  state.Backend("app-v2");
  // The canary is the older one: age does not make it the main.
  state.Add(IngressBuilder("app-canary")
                .created("2023-01-01T00:00:00Z")
                .annotation("nginx.ingress.kubernetes.io/canary", "true")
                .annotation("nginx.ingress.kubernetes.io/canary-weight", "20")
                .annotation("nginx.ingress.kubernetes.io/canary-by-header", "X-Canary")
                .annotation("nginx.ingress.kubernetes.io/canary-by-cookie", "canary")
                .annotation("nginx.ingress.kubernetes.io/load-balance", "least_conn")
                .annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", "5")  // not a canary's to set
                .host("a.example")
                .path("/", "app-v2", 80));
  state.Add(IngressBuilder("app")
                .annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", "30")
                .host("a.example")
                .path("/", "app", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  const pier::v1::Route* main = nullptr;
  const pier::v1::Route* canary = nullptr;
  for (const auto& route : routes) (route.is_canary() ? canary : main) = &route;
  ASSERT_TRUE(main && canary);
  EXPECT_EQ(main->service(), "app");
  EXPECT_EQ(main->canary().route(), canary->name());
  EXPECT_EQ(main->canary().header(), "x-canary");
  EXPECT_EQ(main->canary().cookie(), "canary");
  EXPECT_EQ(main->canary().weight(), 20u);
  EXPECT_EQ(main->canary().weight_total(), 100u);
  EXPECT_EQ(canary->service(), "app-v2");
  EXPECT_EQ(canary->ingress().name(), "app-canary");
  EXPECT_FALSE(canary->has_canary());
  EXPECT_EQ(canary->timeouts().read_ms(), 30000u);  // the main's
  EXPECT_EQ(canary->load_balancing().policy(), pier::v1::LoadBalancing::LEAST_CONN);  // its own
  EXPECT_EQ(main->load_balancing().policy(), pier::v1::LoadBalancing::ROUND_ROBIN);
}

TEST(Canary, WithoutAMainOrASecondCanaryIsWarnedAndNotServed) {
  State state;
  state.Backend("app");
  state.Backend("v2");
  state.Backend("v3");
  state.Add(IngressBuilder("app").host("a.example").path("/", "app", 80));
  state.Add(IngressBuilder("first").created("2024-02-01T00:00:00Z").annotation("pier.dev/canary", "true")
                .host("a.example").path("/", "v2", 80).path("/other", "v2", 80));
  state.Add(IngressBuilder("second").created("2024-03-01T00:00:00Z").annotation("pier.dev/canary", "true")
                .host("a.example").path("/", "v3", 80));
  const Output out = state.Translate();
  std::vector<std::string> reasons;
  for (const auto& warning : out.warnings) reasons.push_back(warning.reason);
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons, (Strings{"CanaryWithoutMain", "ConflictingCanary"}));
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);  // app's and first's "/"
  for (const auto& route : routes) EXPECT_NE(route.service(), "v3");
}

TEST(Canary, FollowsTheMainsRegexPath) {
  State state;
  state.Backend("app");
  state.Backend("v2");
  state.Add(IngressBuilder("app").annotation("pier.dev/use-regex", "true").host("a.example").path("/v[0-9]+/", "app", 80));
  state.Add(IngressBuilder("canary").annotation("pier.dev/canary", "true").annotation("pier.dev/canary-weight", "500")
                .host("a.example").path("/v[0-9]+/", "v2", 80));
  const Output out = state.Translate();
  EXPECT_TRUE(out.warnings.empty());
  const auto& routes = out.snapshot.virtual_hosts(0).routes();
  ASSERT_EQ(routes.size(), 2);
  for (const auto& route : routes) EXPECT_EQ(route.match().type(), pier::v1::PathMatch::REGEX);
  const auto& main = routes[0].is_canary() ? routes[1] : routes[0];
  EXPECT_EQ(main.canary().weight(), 100u);  // over the total: everything
}

TEST(Canary, AffinityCanaryBehaviorLegacyOnEitherIngress) {
  for (const char* on : {"", "main", "canary"}) {
    State state;
    state.Backend("app");
    state.Backend("v2");
    IngressBuilder main("app");
    main.host("a.example").path("/", "app", 80);
    IngressBuilder canary("canary");
    canary.annotation("pier.dev/canary", "true").annotation("pier.dev/canary-weight", "50").host("a.example").path(
        "/", "v2", 80);
    if (std::string(on) == "main") main.annotation("nginx.ingress.kubernetes.io/affinity-canary-behavior", "legacy");
    if (std::string(on) == "canary") canary.annotation("nginx.ingress.kubernetes.io/affinity-canary-behavior", "legacy");
    state.Add(std::move(main));
    state.Add(std::move(canary));
    const Output out = state.Translate();
    EXPECT_TRUE(out.warnings.empty()) << on;
    const auto& routes = out.snapshot.virtual_hosts(0).routes();
    ASSERT_EQ(routes.size(), 2);
    const auto& main_route = routes[0].is_canary() ? routes[1] : routes[0];
    EXPECT_EQ(main_route.canary().ignore_affinity(), std::string(on) != "") << on;
  }
  const Output bad =
      OneIngress(IngressBuilder("app").annotation("nginx.ingress.kubernetes.io/affinity-canary-behavior", "random"))
          .Translate();
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0].reason, "InvalidAnnotation");
}

TEST(AnnotationsOnRoutes, ProxyRedirectNeedsBothHalves) {
  const auto translate = [](std::vector<std::pair<const char*, const char*>> annotations) {
    IngressBuilder ingress("app");
    for (const auto& [key, value] : annotations) ingress.annotation(key, value);
    return OneIngress(ingress).Translate();
  };
  const Output both = translate({{"nginx.ingress.kubernetes.io/proxy-redirect-from", "http://app.internal:8080/"},
                                 {"nginx.ingress.kubernetes.io/proxy-redirect-to", "https://app.example/"}});
  EXPECT_TRUE(both.warnings.empty());
  EXPECT_EQ(OnlyRoute(both).proxy_redirect().from(), "http://app.internal:8080/");
  EXPECT_EQ(OnlyRoute(both).proxy_redirect().to(), "https://app.example/");
  const Output half = translate({{"nginx.ingress.kubernetes.io/proxy-redirect-from", "http://app.internal:8080/"}});
  EXPECT_FALSE(OnlyRoute(half).has_proxy_redirect());
  ASSERT_EQ(half.warnings.size(), 1u);
  EXPECT_NE(half.warnings[0].message.find("go together"), std::string::npos);
  const Output off = translate({{"nginx.ingress.kubernetes.io/proxy-redirect-from", "off"}});
  EXPECT_FALSE(OnlyRoute(off).has_proxy_redirect());
  EXPECT_TRUE(off.warnings.empty());
}

TEST(AnnotationsOnRoutes, FromToWwwRedirectAddsA308OnTheOtherName) {
  State state;
  state.Backend("app");
  state.Add(TlsSecret("shop-tls"));
  const char* key = "nginx.ingress.kubernetes.io/from-to-www-redirect";
  state.Add(IngressBuilder("plain").annotation(key, "true").host("example.com").path("/", "app", 80));
  state.Add(IngressBuilder("shop")
                .annotation(key, "true")
                .tls({"www.shop.test", "shop.test"}, "shop-tls")
                .host("www.shop.test")
                .path("/", "app", 80));
  state.Add(IngressBuilder("both")
                .annotation(key, "true")
                .host("both.test")
                .path("/", "app", 80)
                .host("www.both.test")
                .path("/", "app", 80));
  state.Add(IngressBuilder("wants").annotation(key, "true").host("taken.test").path("/", "app", 80));
  state.Add(IngressBuilder("taker").created("2024-02-01T00:00:00Z").host("www.taken.test").path("/x", "app", 80));
  const Output out = state.Translate();

  const auto redirect_of = [&](const std::string& host) -> std::string {
    const pier::v1::VirtualHost* vhost = FindHost(out.snapshot, host);
    if (vhost == nullptr || vhost->routes_size() != 1) return "-";
    const pier::v1::RouteRedirect& redirect = vhost->routes(0).route_redirect();
    return std::to_string(redirect.status()) + " " + redirect.location() + (redirect.append_request_uri() ? " +uri" : "");
  };
  EXPECT_EQ(redirect_of("www.example.com"), "308 http://example.com +uri");
  EXPECT_EQ(redirect_of("shop.test"), "308 https://www.shop.test +uri");  // the rule host has TLS
  EXPECT_FALSE(FindHost(out.snapshot, "shop.test")->tls_certificate().empty());
  // Both names are rules of the Ingress: each is served, nothing redirects, nothing to warn about.
  for (const char* host : {"both.test", "www.both.test"}) {
    ASSERT_EQ(FindHost(out.snapshot, host)->routes_size(), 1) << host;
    EXPECT_EQ(FindHost(out.snapshot, host)->routes(0).route_redirect().status(), 0u) << host;
  }
  // Another Ingress serves the other name: it keeps it, with a warning on the one that asked.
  EXPECT_EQ(FindHost(out.snapshot, "www.taken.test")->routes(0).route_redirect().status(), 0u);
  ASSERT_EQ(out.warnings.size(), 1u) << out.warnings[0].message;
  EXPECT_EQ(out.warnings[0].reason, "ConflictingRedirect");
  EXPECT_EQ(out.warnings[0].ingress_name, "wants");
}

TEST(AnnotationsOnRoutes, ServerAliasesServeTheRulesPathsButNoRuleHost) {
  State state;
  state.Backend("app");
  state.Backend("other");
  state.Add(IngressBuilder("app")
                .annotation("nginx.ingress.kubernetes.io/server-alias", "www.example.com, Taken.example, *.example.org")
                .host("example.com")
                .path("/", "app", 80)
                .exact("/health", "app", 80));
  state.Add(IngressBuilder("other").created("2024-02-01T00:00:00Z").host("taken.example").path("/", "other", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "ConflictingAlias");
  std::map<std::string, Strings> by_host;
  for (const auto& vhost : out.snapshot.virtual_hosts()) {
    for (const auto& route : vhost.routes()) by_host[vhost.host()].push_back(route.service() + " " + route.match().path());
  }
  EXPECT_EQ(by_host["example.com"], (Strings{"app /health", "app /"}));
  EXPECT_EQ(by_host["www.example.com"], (Strings{"app /health", "app /"}));
  EXPECT_EQ(by_host["*.example.org"], (Strings{"app /health", "app /"}));
  EXPECT_EQ(by_host["taken.example"], (Strings{"other /"}));  // the rule host keeps its own
}

TEST(AnnotationsOnRoutes, ServiceUpstreamDialsTheClusterIp) {
  State state;
  state.Add(ServiceBuilder("app").port("http", 80).cluster_ip("10.96.0.12"));
  state.Add(SliceBuilder("app-1", "app").port("http", 8080).endpoint("10.0.0.1"));
  state.Add(ServiceBuilder("headless").port("http", 80).cluster_ip("None"));
  state.Add(IngressBuilder("mesh")
                .annotation("nginx.ingress.kubernetes.io/service-upstream", "true")
                .host("a.example")
                .path("/", "app", 80)
                .path("/h", "headless", 80));
  state.Add(IngressBuilder("plain").created("2024-02-01T00:00:00Z").host("b.example").path("/", "app", 80));
  const Output out = state.Translate();
  std::map<std::string, const pier::v1::Cluster*> clusters;
  for (const auto& cluster : out.snapshot.clusters()) clusters[cluster.name()] = &cluster;
  const pier::v1::Route* mesh_root = nullptr;
  const pier::v1::Route* mesh_headless = nullptr;
  for (const auto& route : FindHost(out.snapshot, "a.example")->routes()) {
    (route.match().path() == "/" ? mesh_root : mesh_headless) = &route;
  }
  ASSERT_TRUE(mesh_root && mesh_headless);
  ASSERT_TRUE(clusters.contains(mesh_root->cluster()));
  const pier::v1::Cluster& via_ip = *clusters[mesh_root->cluster()];
  ASSERT_EQ(via_ip.endpoints_size(), 1);
  EXPECT_EQ(via_ip.endpoints(0).address(), "10.96.0.12");
  EXPECT_EQ(via_ip.endpoints(0).port(), 80u);
  EXPECT_EQ(via_ip.service_name(), "app");
  // Without the annotation the same Service is dialled through its endpoints, another cluster.
  const pier::v1::Route& plain = FindHost(out.snapshot, "b.example")->routes(0);
  EXPECT_NE(plain.cluster(), mesh_root->cluster());
  EXPECT_EQ(clusters[plain.cluster()]->endpoints(0).address(), "10.0.0.1");
  // A headless Service has no cluster IP to dial.
  EXPECT_EQ(mesh_headless->unavailable().status(), 503u);
  EXPECT_NE(mesh_headless->unavailable().reason().find("no cluster IP"), std::string::npos);
}

TEST(AnnotationsOnRoutes, DefaultBackendServesRoutesWhoseServiceHasNoReadyEndpoint) {
  State state;
  state.Add(ServiceBuilder("app").port("http", 80));
  state.Add(SliceBuilder("app-1", "app").port("http", 8080).endpoint("10.0.0.1"));
  state.Add(ServiceBuilder("down").port("http", 80));
  state.Add(SliceBuilder("down-1", "down").port("http", 8080).endpoint("10.0.0.2", false));
  state.Add(ServiceBuilder("errors").port("web", 8000).port("admin", 9000));
  state.Add(SliceBuilder("errors-1", "errors").port("web", 8080).port("admin", 9090).endpoint("10.0.0.9"));
  state.Add(ServiceBuilder("errors-down").port("http", 80));
  state.Add(IngressBuilder("shop")
                .annotation("nginx.ingress.kubernetes.io/default-backend", "errors")
                .host("a.example")
                .path("/", "app", 80)
                .path("/down", "down", 80)
                .path("/gone", "gone", 80));
  state.Add(IngressBuilder("nofallback")
                .annotation("nginx.ingress.kubernetes.io/default-backend", "errors-down")
                .host("b.example")
                .path("/", "down", 80));
  const Output out = state.Translate();
  std::map<std::string, const pier::v1::Cluster*> clusters;
  for (const auto& cluster : out.snapshot.clusters()) clusters[cluster.name()] = &cluster;
  std::map<std::string, const pier::v1::Route*> routes;
  for (const auto& route : FindHost(out.snapshot, "a.example")->routes()) routes[route.match().path()] = &route;
  ASSERT_EQ(routes.size(), 3u);
  // A Service with a ready endpoint keeps it; one without, or a missing one, gets the default
  // backend's first port (8000 -> 8080), under its own Service name.
  EXPECT_EQ(clusters.at(routes["/"]->cluster())->endpoints(0).address(), "10.0.0.1");
  for (const char* path : {"/down", "/gone"}) {
    const pier::v1::Route& route = *routes[path];
    EXPECT_FALSE(route.has_unavailable()) << path;
    const pier::v1::Cluster& cluster = *clusters.at(route.cluster());
    ASSERT_EQ(cluster.endpoints_size(), 1) << path;
    EXPECT_EQ(cluster.endpoints(0).address(), "10.0.0.9");
    EXPECT_EQ(cluster.endpoints(0).port(), 8080u);
    EXPECT_EQ(cluster.service_name(), "errors");
  }
  EXPECT_EQ(routes["/down"]->service(), "down");
  EXPECT_EQ(routes["/gone"]->service(), "gone");
  // A default backend without ready endpoints changes nothing: the route's own empty cluster.
  const pier::v1::Route& kept = FindHost(out.snapshot, "b.example")->routes(0);
  EXPECT_EQ(clusters.at(kept.cluster())->service_name(), "down");
  EXPECT_EQ(clusters.at(kept.cluster())->endpoints_size(), 0);
}

TEST(AnnotationsOnRoutes, CustomHttpErrorsGetTheDefaultBackendsCluster) {
  State state;
  state.Add(ServiceBuilder("app").port("http", 80));
  state.Add(SliceBuilder("app-1", "app").port("http", 8080).endpoint("10.0.0.1"));
  state.Add(ServiceBuilder("errors").port("web", 8000));
  state.Add(SliceBuilder("errors-1", "errors").port("web", 8080).endpoint("10.0.0.9"));
  state.Add(IngressBuilder("shop")
                .annotation("nginx.ingress.kubernetes.io/custom-http-errors", "503,404")
                .annotation("nginx.ingress.kubernetes.io/default-backend", "errors")
                .host("a.example")
                .path("/", "app", 80));
  state.Add(IngressBuilder("alone")
                .annotation("nginx.ingress.kubernetes.io/custom-http-errors", "404")
                .host("b.example")
                .path("/", "app", 80));
  const Output out = state.Translate();
  const pier::v1::Route& shop = FindHost(out.snapshot, "a.example")->routes(0);
  ASSERT_TRUE(shop.has_custom_http_errors());
  EXPECT_EQ(std::vector<uint32_t>(shop.custom_http_errors().codes().begin(), shop.custom_http_errors().codes().end()),
            (std::vector<uint32_t>{404, 503}));
  EXPECT_EQ(shop.custom_http_errors().service_port(), "80");
  bool error_cluster_is_the_default_backend = false;
  for (const auto& cluster : out.snapshot.clusters()) {
    if (cluster.name() == shop.custom_http_errors().cluster()) {
      error_cluster_is_the_default_backend = cluster.service_name() == "errors" && cluster.endpoints_size() == 1;
    }
  }
  EXPECT_TRUE(error_cluster_is_the_default_backend);
  // Without default-backend there is nowhere to ask: reported, and the backend's errors stand.
  EXPECT_FALSE(FindHost(out.snapshot, "b.example")->routes(0).has_custom_http_errors());
  bool reported = false;
  for (const auto& warning : out.warnings) {
    reported = reported || (warning.ingress_name == "alone" && warning.reason == "InvalidAnnotation" &&
                            warning.message.find("needs default-backend") != std::string::npos);
  }
  EXPECT_TRUE(reported);
}

TEST(AnnotationsOnRoutes, AMissingDefaultBackendIsReported) {
  State state;
  state.Add(ServiceBuilder("down").port("http", 80));
  state.Add(IngressBuilder("shop")
                .annotation("pier.dev/default-backend", "nowhere")
                .host("a.example")
                .path("/", "down", 80));
  const Output out = state.Translate();
  bool reported = false;
  for (const auto& warning : out.warnings) {
    reported = reported || (warning.reason == "MissingService" &&
                            warning.message.find("default-backend service default/nowhere not found") != std::string::npos);
  }
  EXPECT_TRUE(reported);
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->routes(0).cluster(), out.snapshot.clusters(0).name());
}

TEST(AnnotationsOnRoutes, ARedirectNeedsNoBackendButASecurityFailureStillCloses) {
  State state;  // no Service "gone"
  state.Add(IngressBuilder("moved")
                .annotation("pier.dev/permanent-redirect", "https://new.example")
                .host("old.example")
                .path("/", "gone", 80));
  const Output out = state.Translate();
  EXPECT_FALSE(OnlyRoute(out).has_unavailable());
  EXPECT_EQ(OnlyRoute(out).route_redirect().status(), 301u);

  State closed;
  closed.Add(IngressBuilder("moved")
                 .annotation("pier.dev/permanent-redirect", "https://new.example")
                 .annotation("pier.dev/allowlist-source-range", "office")
                 .host("old.example")
                 .path("/", "gone", 80));
  EXPECT_TRUE(OnlyRoute(closed.Translate()).has_unavailable()) << "closed, not redirecting";

  // app-root proxies every other path, so a missing Service still makes the route unavailable.
  State root;
  root.Add(IngressBuilder("app").annotation("pier.dev/app-root", "/app").host("a.example").path("/", "gone", 80));
  EXPECT_TRUE(OnlyRoute(root.Translate()).has_unavailable());
}

TEST(AnnotationsOnRoutes, InvalidAnnotationIsWarnedAndFallsBack) {
  const Output out = OneIngress(IngressBuilder("app").annotation("pier.dev/proxy-read-timeout", "soon")).Translate();
  EXPECT_EQ(OnlyRoute(out).timeouts().read_ms(), 0u);
  EXPECT_FALSE(OnlyRoute(out).has_unavailable());
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "InvalidAnnotation");
  EXPECT_EQ(out.warnings[0].annotation, "pier.dev/proxy-read-timeout");
  EXPECT_NE(out.warnings[0].message.find("\"soon\""), std::string::npos) << out.warnings[0].message;
}

TEST(AnnotationsOnRoutes, InvalidSecurityAnnotationFailsEveryRouteClosed) {
  State state;
  state.Backend("chat");
  state.Add(IngressBuilder("app")
                .annotation("pier.dev/allowlist-source-range", "10.0.0.0/8, office")
                .default_backend("chat", 80)
                .host("a.example")
                .path("/ws", "chat", 80));
  const Output out = state.Translate();
  for (const auto& vhost : out.snapshot.virtual_hosts()) {
    for (const auto& route : vhost.routes()) {
      EXPECT_EQ(route.unavailable().status(), 403u) << route.name();
      EXPECT_NE(route.unavailable().reason().find("pier.dev/allowlist-source-range"), std::string::npos);
    }
  }
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "InvalidAnnotation");
  EXPECT_NE(out.warnings[0].message.find("fail closed"), std::string::npos) << out.warnings[0].message;
}

TEST(AnnotationsOnRoutes, UnknownPierKeyIsWarned) {
  const Output out = OneIngress(IngressBuilder("app").annotation("pier.dev/configuration-snippet", "x")).Translate();
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].reason, "UnknownAnnotation");
  EXPECT_EQ(out.warnings[0].annotation, "pier.dev/configuration-snippet");
  EXPECT_FALSE(OnlyRoute(out).has_unavailable());
}

TEST(AnnotationsOnRoutes, AppliedPerIngress) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("slow").annotation("pier.dev/proxy-read-timeout", "1h").host("slow.example").path("/", "svc", 80));
  state.Add(IngressBuilder("fast").host("fast.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "slow.example")->routes(0).timeouts().read_ms(), 3'600'000u);
  EXPECT_EQ(FindHost(out.snapshot, "fast.example")->routes(0).timeouts().read_ms(), 0u);
}

TEST(Defaults, CopiedIntoTheSnapshot) {
  Options options;
  options.defaults.set_connect_timeout_ms(5000);
  options.defaults.set_websocket_idle_timeout_ms(3'600'000);
  options.defaults.set_max_body_bytes(1 << 20);
  const Output out = OneIngress(IngressBuilder("app")).Translate(options);
  EXPECT_EQ(out.snapshot.defaults().connect_timeout_ms(), 5000u);
  EXPECT_EQ(out.snapshot.defaults().websocket_idle_timeout_ms(), 3'600'000u);
  EXPECT_EQ(out.snapshot.defaults().max_body_bytes(), 1u << 20);
  EXPECT_EQ(out.snapshot.version(), 0u) << "the server stamps the version";
}

}  // namespace
}  // namespace pier::translate
