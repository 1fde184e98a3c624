#include "annotations/registry.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace pier::annotations {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

ParseOutput ParseOne(const std::string& key, const std::string& value) { return Parse({{key, value}}); }

TEST(Parse, NoAnnotationsGivesDefaults) {
  const ParseOutput out = Parse({});
  EXPECT_TRUE(out.problems.empty());
  const IngressAnnotations& a = out.values;
  EXPECT_TRUE(a.websocket);
  EXPECT_FALSE(a.websocket_services);
  EXPECT_FALSE(a.websocket_idle_timeout);
  EXPECT_FALSE(a.websocket_allowed_origins);
  EXPECT_FALSE(a.proxy_connect_timeout);
  EXPECT_FALSE(a.proxy_read_timeout);
  EXPECT_FALSE(a.proxy_send_timeout);
  EXPECT_EQ(a.load_balance, LoadBalance::kRoundRobin);
  EXPECT_FALSE(a.upstream_hash_by);
  EXPECT_FALSE(a.affinity_cookie);
  EXPECT_EQ(a.session_cookie_name, "PIER_AFFINITY");
  EXPECT_EQ(a.limit_burst_multiplier, 5u);
  EXPECT_FALSE(a.ssl_redirect);
  EXPECT_FALSE(a.force_ssl_redirect);
  EXPECT_FALSE(a.proxy_body_size);
  EXPECT_FALSE(a.enable_cors);
  EXPECT_FALSE(a.cors_invalid);
  EXPECT_FALSE(a.fail_closed);
}

TEST(Parse, AnInvalidCorsValueMarksCorsInvalidWithoutClosing) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"cors-allow-origin", "https://a.example/path"}, {"cors-allow-origin", "myapp://a"},
           {"cors-allow-methods", "GET;"}, {"cors-allow-headers", ""}, {"cors-expose-headers", "a b"},
           {"cors-allow-credentials", "maybe"}, {"cors-max-age", "-1"}, {"enable-cors", "yes please"}}) {
    const ParseOutput out = ParseOne("nginx.ingress.kubernetes.io/" + key, value);
    ASSERT_EQ(out.problems.size(), 1u) << key;
    EXPECT_NE(out.problems[0].why.find("CORS is off for this Ingress"), std::string::npos) << out.problems[0].why;
    EXPECT_TRUE(out.values.cors_invalid) << key;
    EXPECT_FALSE(out.values.fail_closed) << key;
  }
}

// One good value per annotation, with a check of the typed field it lands in.
struct Good {
  std::string key;
  std::string value;
  std::function<void(const IngressAnnotations&)> check;
};

class GoodValues : public ::testing::TestWithParam<Good> {};

TEST_P(GoodValues, ParseIntoTheirField) {
  const Good& good = GetParam();
  const ParseOutput out = ParseOne("pier.dev/" + good.key, good.value);
  ASSERT_TRUE(out.problems.empty()) << out.problems[0].why;
  good.check(out.values);
  EXPECT_FALSE(out.values.fail_closed);
}

INSTANTIATE_TEST_SUITE_P(
    Registry, GoodValues,
    ::testing::Values(
        Good{"websocket", "false", [](const auto& a) { EXPECT_FALSE(a.websocket); }},
        Good{"websocket", "TRUE", [](const auto& a) { EXPECT_TRUE(a.websocket); }},
        Good{"websocket-services", "chat, api", [](const auto& a) { EXPECT_EQ(a.websocket_services, (Strings{"api", "chat"})); }},
        Good{"websocket-idle-timeout", "2h", [](const auto& a) { EXPECT_EQ(a.websocket_idle_timeout, 2h); }},
        Good{"websocket-idle-timeout", " 7200 ", [](const auto& a) { EXPECT_EQ(a.websocket_idle_timeout, 2h); }},
        Good{"websocket-allowed-origins", "https://a.example.com,https://*.example.com",
             [](const auto& a) {
               EXPECT_EQ(a.websocket_allowed_origins, (Strings{"https://*.example.com", "https://a.example.com"}));
             }},
        Good{"websocket-allowed-origins", "*", [](const auto& a) { EXPECT_FALSE(a.websocket_allowed_origins); }},
        Good{"proxy-connect-timeout", "10", [](const auto& a) { EXPECT_EQ(a.proxy_connect_timeout, 10s); }},
        Good{"proxy-read-timeout", "1h", [](const auto& a) { EXPECT_EQ(a.proxy_read_timeout, 1h); }},
        Good{"proxy-send-timeout", "500ms", [](const auto& a) { EXPECT_EQ(a.proxy_send_timeout, 500ms); }},
        Good{"load-balance", "least_conn", [](const auto& a) { EXPECT_EQ(a.load_balance, LoadBalance::kLeastConn); }},
        Good{"upstream-hash-by", "$cookie_sid",
             [](const auto& a) { EXPECT_EQ(a.upstream_hash_by, (HashBy{HashBy::Source::kCookie, "sid"})); }},
        Good{"affinity", "cookie", [](const auto& a) { EXPECT_TRUE(a.affinity_cookie); }},
        Good{"affinity-mode", "persistent", [](const auto& a) { EXPECT_EQ(a.affinity_mode, AffinityMode::kPersistent); }},
        Good{"session-cookie-name", "ROUTE", [](const auto& a) { EXPECT_EQ(a.session_cookie_name, "ROUTE"); }},
        Good{"session-cookie-path", "/chat", [](const auto& a) { EXPECT_EQ(a.session_cookie_path, "/chat"); }},
        Good{"session-cookie-max-age", "172800", [](const auto& a) { EXPECT_EQ(a.session_cookie_max_age, 48h); }},
        Good{"session-cookie-max-age", "0", [](const auto& a) { EXPECT_FALSE(a.session_cookie_max_age); }},
        Good{"session-cookie-expires", "172800", [](const auto& a) { EXPECT_EQ(a.session_cookie_expires, 48h); }},
        Good{"session-cookie-secure", "true", [](const auto& a) { EXPECT_TRUE(a.session_cookie_secure); }},
        Good{"session-cookie-samesite", "strict", [](const auto& a) { EXPECT_EQ(a.session_cookie_samesite, "Strict"); }},
        Good{"session-cookie-domain", "Example.com", [](const auto& a) { EXPECT_EQ(a.session_cookie_domain, "example.com"); }},
        Good{"limit-connections", "10", [](const auto& a) { EXPECT_EQ(a.limit_connections, 10u); }},
        Good{"limit-rps", "5", [](const auto& a) { EXPECT_EQ(a.limit_rps, 5u); }},
        // "0" is ingress-nginx's "no limit": accepted, and no limit is set.
        Good{"limit-connections", "0", [](const auto& a) { EXPECT_FALSE(a.limit_connections); }},
        Good{"limit-rps", "0", [](const auto& a) { EXPECT_FALSE(a.limit_rps); }},
        Good{"limit-rpm", "0", [](const auto& a) { EXPECT_FALSE(a.limit_rpm); }},
        Good{"max-connections", "0", [](const auto& a) { EXPECT_FALSE(a.max_connections); }},
        Good{"limit-rpm", "300", [](const auto& a) { EXPECT_EQ(a.limit_rpm, 300u); }},
        Good{"limit-burst-multiplier", "3", [](const auto& a) { EXPECT_EQ(a.limit_burst_multiplier, 3u); }},
        Good{"limit-allowlist", "10.0.0.0/8",
             [](const auto& a) {
               ASSERT_EQ(a.limit_allowlist.size(), 1u);
               EXPECT_EQ(a.limit_allowlist[0].ToString(), "10.0.0.0/8");
             }},
        Good{"max-connections", "1000", [](const auto& a) { EXPECT_EQ(a.max_connections, 1000u); }},
        Good{"allowlist-source-range", "10.0.0.0/8, ::1", [](const auto& a) { EXPECT_EQ(a.allowlist_source_range.size(), 2u); }},
        Good{"denylist-source-range", "192.168.0.0/16", [](const auto& a) { EXPECT_EQ(a.denylist_source_range.size(), 1u); }},
        Good{"ssl-redirect", "false", [](const auto& a) { EXPECT_EQ(a.ssl_redirect, false); }},
        Good{"force-ssl-redirect", "true", [](const auto& a) { EXPECT_TRUE(a.force_ssl_redirect); }},
        Good{"backend-protocol", "HTTPS", [](const auto& a) { EXPECT_EQ(a.backend_protocol, BackendProtocol::kHttps); }},
        Good{"proxy-body-size", "8m", [](const auto& a) { EXPECT_EQ(a.proxy_body_size, 8u << 20); }},
        Good{"proxy-body-size", "0", [](const auto& a) { EXPECT_EQ(a.proxy_body_size, 0u); }},
        Good{"proxy-buffer-size", "32k", [](const auto& a) { EXPECT_EQ(a.proxy_buffer_size, 32u * 1024); }},
        Good{"hsts", "true", [](const auto& a) { EXPECT_TRUE(a.hsts); }},
        Good{"hsts-max-age", "86400", [](const auto& a) { EXPECT_EQ(a.hsts_max_age, std::chrono::seconds(86400)); }},
        Good{"hsts-max-age", "1h", [](const auto& a) { EXPECT_EQ(a.hsts_max_age, std::chrono::seconds(3600)); }},
        Good{"hsts-max-age", "0", [](const auto& a) { EXPECT_EQ(a.hsts_max_age, std::chrono::seconds(0)); }},
        Good{"hsts-include-subdomains", "true", [](const auto& a) { EXPECT_TRUE(a.hsts_include_subdomains); }},
        Good{"proxy-ssl-secret", "backend-ca",
             [](const auto& a) { EXPECT_EQ(a.proxy_ssl_secret, (SecretRef{"", "backend-ca"})); }},
        Good{"proxy-ssl-secret", "certs/backend.ca",
             [](const auto& a) { EXPECT_EQ(a.proxy_ssl_secret, (SecretRef{"certs", "backend.ca"})); }},
        Good{"proxy-ssl-verify", "on", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_verify, true); }},
        Good{"proxy-ssl-verify", "OFF", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_verify, false); }},
        Good{"proxy-ssl-name", "Chat.Internal", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_name, "chat.internal"); }},
        Good{"proxy-ssl-server-name", "off", [](const auto& a) { EXPECT_FALSE(a.proxy_ssl_server_name); }},
        Good{"limit-rate", "100", [](const auto& a) { EXPECT_EQ(a.limit_rate_kib, 100u); }},
        Good{"limit-rate", "0", [](const auto& a) { EXPECT_EQ(a.limit_rate_kib, 0u); }},
        Good{"limit-rate", "2m", [](const auto& a) { EXPECT_EQ(a.limit_rate_kib, 2048u); }},
        Good{"limit-rate", "1500", [](const auto& a) { EXPECT_EQ(a.limit_rate_kib, 1500u); }},
        Good{"limit-rate-after", "512k", [](const auto& a) { EXPECT_EQ(a.limit_rate_after_kib, 512u); }},
        Good{"proxy-ssl-server-name", "on", [](const auto& a) { EXPECT_TRUE(a.proxy_ssl_server_name); }},
        Good{"proxy-ssl-verify-depth", "3", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_verify_depth, 3u); }},
        Good{"proxy-ssl-verify-depth", "0", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_verify_depth, 0u); }},
        Good{"proxy-ssl-ciphers", " ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL ",
             [](const auto& a) { EXPECT_EQ(a.proxy_ssl_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL"); }},
        Good{"proxy-ssl-ciphers", "DEFAULT", [](const auto& a) { EXPECT_EQ(a.proxy_ssl_ciphers, "DEFAULT"); }},
        Good{"proxy-ssl-protocols", "TLSv1 TLSv1.1 TLSv1.2",
             [](const auto& a) {
               EXPECT_EQ(a.proxy_ssl_min_protocol, 0x0303u);
               EXPECT_EQ(a.proxy_ssl_max_protocol, 0x0303u);
             }},
        Good{"proxy-ssl-protocols", "TLSv1.3",
             [](const auto& a) {
               EXPECT_EQ(a.proxy_ssl_min_protocol, 0x0304u);
               EXPECT_EQ(a.proxy_ssl_max_protocol, 0x0304u);
             }},
        Good{"proxy-ssl-protocols", "TLSv1.3  TLSv1.2",
             [](const auto& a) {
               EXPECT_EQ(a.proxy_ssl_min_protocol, 0x0303u);
               EXPECT_EQ(a.proxy_ssl_max_protocol, 0x0304u);
             }},
        Good{"enable-cors", "true", [](const auto& a) { EXPECT_TRUE(a.enable_cors); }},
        Good{"service-upstream", "true", [](const auto& a) { EXPECT_TRUE(a.service_upstream); }},
        Good{"enable-access-log", "false", [](const auto& a) { EXPECT_FALSE(a.enable_access_log); }},
        Good{"proxy-redirect-from", "http://app.internal:8080/",
             [](const auto& a) { EXPECT_EQ(a.proxy_redirect_from, "http://app.internal:8080/"); }},
        Good{"proxy-redirect-to", "/", [](const auto& a) { EXPECT_EQ(a.proxy_redirect_to, "/"); }},
        Good{"proxy-cookie-domain", " .App.internal   shop.example ",
             [](const auto& a) {
               EXPECT_EQ(a.proxy_cookie_domain_from, ".App.internal");
               EXPECT_EQ(a.proxy_cookie_domain_to, "shop.example");
             }},
        Good{"proxy-cookie-path", "off", [](const auto& a) { EXPECT_EQ(a.proxy_cookie_path_from, ""); }},
        Good{"proxy-cookie-path", "/api/ /", [](const auto& a) {
               EXPECT_EQ(a.proxy_cookie_path_from, "/api/");
               EXPECT_EQ(a.proxy_cookie_path_to, "/");
             }},
        Good{"default-backend", " error-pages ", [](const auto& a) { EXPECT_EQ(a.default_backend, "error-pages"); }},
        Good{"custom-http-errors", "503, 404,404,599",
             [](const auto& a) { EXPECT_EQ(a.custom_http_errors, (std::vector<uint32_t>{404, 503, 599})); }},
        Good{"server-alias", "WWW.example.com, *.example.org, www.example.com",
             [](const auto& a) { EXPECT_EQ(a.server_aliases, (Strings{"*.example.org", "www.example.com"})); }},
        Good{"cors-allow-origin", "https://App.example.com, http://localhost:3000",
             [](const auto& a) {
               EXPECT_EQ(a.cors_allow_origins, (Strings{"http://localhost:3000", "https://app.example.com"}));
             }},
        Good{"cors-allow-origin", "*", [](const auto& a) { EXPECT_TRUE(a.cors_allow_origins.empty()); }},
        Good{"cors-allow-methods", "GET,POST", [](const auto& a) { EXPECT_EQ(a.cors_allow_methods, "GET, POST"); }},
        Good{"cors-allow-headers", "X-Token, Content-Type",
             [](const auto& a) { EXPECT_EQ(a.cors_allow_headers, "X-Token, Content-Type"); }},
        Good{"cors-expose-headers", "*", [](const auto& a) { EXPECT_EQ(a.cors_expose_headers, "*"); }},
        Good{"cors-allow-credentials", "false", [](const auto& a) { EXPECT_FALSE(a.cors_allow_credentials); }},
        Good{"cors-max-age", "600", [](const auto& a) { EXPECT_EQ(a.cors_max_age_s, 600u); }}));

// Bad values: reported with key, value and why; the field keeps its default.
struct Bad {
  std::string key;
  std::string value;
  bool security;
};

class BadValues : public ::testing::TestWithParam<Bad> {};

TEST_P(BadValues, AreReportedAndFallBack) {
  const Bad& bad = GetParam();
  const std::string key = "pier.dev/" + bad.key;
  const ParseOutput out = ParseOne(key, bad.value);
  ASSERT_EQ(out.problems.size(), 1u);
  const Problem& problem = out.problems[0];
  EXPECT_EQ(problem.key, key);
  EXPECT_EQ(problem.value, bad.value);
  EXPECT_FALSE(problem.why.empty());
  EXPECT_FALSE(problem.unknown);
  EXPECT_EQ(problem.security, bad.security);
  EXPECT_EQ(out.values.fail_closed.has_value(), bad.security);
  if (bad.security) {
    EXPECT_NE(out.values.fail_closed->reason.find(key), std::string::npos) << out.values.fail_closed->reason;
  }
  // Everything else stays at its default.
  IngressAnnotations defaults;
  EXPECT_EQ(out.values.websocket, defaults.websocket);
  EXPECT_EQ(out.values.websocket_services, defaults.websocket_services);
  EXPECT_EQ(out.values.proxy_read_timeout, defaults.proxy_read_timeout);
  EXPECT_EQ(out.values.load_balance, defaults.load_balance);
  EXPECT_EQ(out.values.limit_connections, defaults.limit_connections);
  EXPECT_TRUE(out.values.allowlist_source_range.empty());
  EXPECT_EQ(out.values.proxy_body_size, defaults.proxy_body_size);
  EXPECT_EQ(out.values.session_cookie_name, defaults.session_cookie_name);
}

INSTANTIATE_TEST_SUITE_P(
    Registry, BadValues,
    ::testing::Values(Bad{"websocket", "yes", false}, Bad{"enable-access-log", "no", false}, Bad{"websocket", "", false},
                      Bad{"websocket-services", "Chat", false}, Bad{"websocket-services", "a,,b", false},
                      Bad{"default-backend", "other/errors", false}, Bad{"default-backend", "a,b", false},
                      Bad{"default-backend", "", false}, Bad{"proxy-redirect-from", "http://a b/", false},
                      Bad{"proxy-redirect-to", "https://x/\"y", false}, Bad{"proxy-redirect-to", "", false}, Bad{"proxy-cookie-domain", "one", false},
                      Bad{"proxy-cookie-domain", "a b c", false}, Bad{"proxy-cookie-path", "~^/api /", false},
                      Bad{"proxy-cookie-domain", "$host x", false}, Bad{"proxy-cookie-path", "/a /b;c", false}, Bad{"custom-http-errors", "200", false},
                      Bad{"custom-http-errors", "404,600", false}, Bad{"custom-http-errors", "404,,503", false},
                      Bad{"custom-http-errors", "4o4", false},
                      Bad{"websocket-idle-timeout", "forever", false}, Bad{"websocket-idle-timeout", "0", false},
                      Bad{"websocket-idle-timeout", "-1s", false}, Bad{"websocket-idle-timeout", "169h", false},
                      Bad{"websocket-allowed-origins", "app.example.com", true},
                      Bad{"proxy-connect-timeout", "5x", false}, Bad{"proxy-read-timeout", "", false},
                      Bad{"proxy-send-timeout", "-60", false}, Bad{"load-balance", "ewma", false},
                      Bad{"upstream-hash-by", "$request_uri", false}, Bad{"affinity", "ip", false},
                      Bad{"affinity-mode", "sticky", false}, Bad{"session-cookie-name", "a;b", false},
                      Bad{"session-cookie-path", "chat", false}, Bad{"session-cookie-max-age", "soon", false},
                      Bad{"session-cookie-expires", "tomorrow", false},
                      Bad{"session-cookie-secure", "1", false}, Bad{"session-cookie-samesite", "Maybe", false},
                      Bad{"session-cookie-domain", "a;b", false},
                      Bad{"limit-connections", "ten", true}, Bad{"limit-rps", "-5", true},
                      Bad{"limit-rpm", "1.5", true}, Bad{"limit-burst-multiplier", "0", true},
                      Bad{"limit-allowlist", "10.0.0.0/40", true}, Bad{"max-connections", "", true},
                      Bad{"allowlist-source-range", "10.0.0.0/8,nope", true},
                      Bad{"denylist-source-range", "", true}, Bad{"ssl-redirect", "on", false},
                      Bad{"force-ssl-redirect", "off", false}, Bad{"backend-protocol", "GRPC", false},
                      Bad{"proxy-body-size", "1mb", false}, Bad{"proxy-buffer-size", "16", false},
                      Bad{"proxy-buffer-size", "5m", false}, Bad{"hsts", "yes", false},
                      Bad{"hsts-max-age", "-1", false}, Bad{"hsts-max-age", "20000h", false},
                      Bad{"hsts-include-subdomains", "1", false}, Bad{"proxy-ssl-secret", "a/b/c", true},
                      Bad{"proxy-ssl-secret", "Upper/ca", true}, Bad{"proxy-ssl-secret", "", true},
                      Bad{"proxy-ssl-verify", "maybe", true}, Bad{"proxy-ssl-name", "a b", true},
                      Bad{"proxy-ssl-name", "*.example.com", true}, Bad{"proxy-ssl-server-name", "yes", true},
                      Bad{"limit-rate", "fast", false}, Bad{"limit-rate", "-1", false}, Bad{"limit-rate", "", false},
                      Bad{"limit-rate-after", "1.5", false}, Bad{"limit-rate", "2000000000", false},
                      Bad{"proxy-ssl-verify-depth", "101", true}, Bad{"proxy-ssl-verify-depth", "-1", true},
                      Bad{"proxy-ssl-ciphers", "NOT-A-CIPHER", true}, Bad{"proxy-ssl-ciphers", "AES;rm -rf", true},
                      Bad{"proxy-ssl-ciphers", "", true}, Bad{"proxy-ssl-ciphers", "AES\nssl_ciphers x", true},
                      Bad{"proxy-ssl-protocols", "TLSv1.1", true}, Bad{"proxy-ssl-protocols", "SSLv3 TLSv1.2", true},
                      Bad{"proxy-ssl-protocols", "", true}));

TEST(Parse, PierKeyWinsOverNginxAlias) {
  const ParseOutput out = Parse({{"pier.dev/proxy-read-timeout", "30s"},
                                 {"nginx.ingress.kubernetes.io/proxy-read-timeout", "3600"}});
  EXPECT_TRUE(out.problems.empty());
  EXPECT_EQ(out.values.proxy_read_timeout, 30s);
}

TEST(Parse, NginxAliasIsReadAndProblemsNameTheKeyUsed) {
  ParseOutput out = ParseOne("nginx.ingress.kubernetes.io/proxy-read-timeout", "3600");
  EXPECT_EQ(out.values.proxy_read_timeout, 1h);
  out = ParseOne("nginx.ingress.kubernetes.io/proxy-read-timeout", "soon");
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].key, "nginx.ingress.kubernetes.io/proxy-read-timeout");
}

TEST(Parse, NginxOrgWebsocketServicesAlias) {
  ParseOutput out = ParseOne("nginx.org/websocket-services", "chat");
  EXPECT_EQ(out.values.websocket_services, Strings{"chat"});
  out = Parse({{"nginx.org/websocket-services", "chat"}, {"pier.dev/websocket-services", "api"}});
  EXPECT_EQ(out.values.websocket_services, Strings{"api"});
  out = Parse({{"nginx.org/websocket-services", "chat"}, {"nginx.ingress.kubernetes.io/websocket-services", "api"}});
  EXPECT_EQ(out.values.websocket_services, Strings{"api"});
}

TEST(Parse, LegacyNginxNamesOfSourceRangeLists) {
  ParseOutput out = ParseOne("nginx.ingress.kubernetes.io/whitelist-source-range", "10.0.0.0/8");
  EXPECT_EQ(out.values.allowlist_source_range.size(), 1u);
  out = ParseOne("nginx.ingress.kubernetes.io/limit-whitelist", "10.0.0.0/8");
  EXPECT_EQ(out.values.limit_allowlist.size(), 1u);
}

TEST(Parse, BadPierKeyDoesNotFallBackToAlias) {
  // The pier.dev/ key is the one the user meant; its error is reported, the alias ignored.
  const ParseOutput out = Parse({{"pier.dev/proxy-read-timeout", "soon"},
                                 {"nginx.ingress.kubernetes.io/proxy-read-timeout", "30"}});
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.problems[0].key, "pier.dev/proxy-read-timeout");
  EXPECT_FALSE(out.values.proxy_read_timeout);
}

TEST(Parse, UnknownPierKeysAreReported) {
  const ParseOutput out = Parse({{"pier.dev/websockets", "true"},
                                 {"pier.dev/configuration-snippet", "return 200;"},
                                 {"nginx.ingress.kubernetes.io/mirror-target", "http://b.example"},
                                 {"example.com/other", "x"},
                                 {"pier.dev/websocket", "false"}});
  ASSERT_EQ(out.problems.size(), 3u);
  EXPECT_EQ(out.problems[0].key, "pier.dev/configuration-snippet");
  EXPECT_EQ(out.problems[1].key, "pier.dev/websockets");
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(out.problems[i].unknown);
    EXPECT_FALSE(out.problems[i].security);
  }
  // An ingress-nginx key Pier does not implement is reported as unsupported, not unknown.
  EXPECT_EQ(out.problems[2].key, "nginx.ingress.kubernetes.io/mirror-target");
  EXPECT_TRUE(out.problems[2].unsupported);
  EXPECT_FALSE(out.problems[2].unknown);
  EXPECT_FALSE(out.values.websocket);
  EXPECT_FALSE(out.values.fail_closed) << "unknown keys do not close routes";
}

TEST(Parse, IngressNginxKeysPierReadsAreNotUnsupported) {
  const ParseOutput out = Parse({{"nginx.ingress.kubernetes.io/proxy-read-timeout", "30"},
                                 {"nginx.ingress.kubernetes.io/whitelist-source-range", "10.0.0.0/8"},
                                 {"nginx.ingress.kubernetes.io/limit-whitelist", "10.0.0.0/8"},
                                 {"nginx.org/websocket-services", "chat"}});
  EXPECT_TRUE(out.problems.empty());
}

TEST(Parse, IngressNginxKeysPierDoesNotImplementAreReportedWithoutClosingAnything) {
  // Every access check of ingress-nginx is implemented; what is left changes how a request is
  // served, not whether.
  for (const char* key : {"auth-keepalive-share-vars", "proxy-buffering", "server-snippet"}) {
    const ParseOutput out = Parse({{std::string("nginx.ingress.kubernetes.io/") + key, "x"}});
    ASSERT_EQ(out.problems.size(), 1u) << key;
    EXPECT_TRUE(out.problems[0].unsupported) << key;
    EXPECT_FALSE(out.problems[0].security) << key;
    EXPECT_FALSE(out.values.fail_closed) << key;
  }
}

TEST(Parse, BufferingOffIsWhatPierDoesAndIsNotReported) {
  for (const char* key : {"proxy-buffering", "proxy-request-buffering"}) {
    const std::string annotation = std::string("nginx.ingress.kubernetes.io/") + key;
    EXPECT_TRUE(Parse({{annotation, "off"}}).problems.empty()) << key;
    EXPECT_TRUE(Parse({{annotation, " off "}}).problems.empty()) << key;
    const ParseOutput on = Parse({{annotation, "on"}});
    ASSERT_EQ(on.problems.size(), 1u) << key;
    EXPECT_TRUE(on.problems[0].unsupported) << key;
    EXPECT_NE(on.problems[0].why.find("as it arrives"), std::string::npos) << on.problems[0].why;
  }
}

TEST(Parse, ExternalAuthentication) {
  const ParseOutput out = Parse({{"nginx.ingress.kubernetes.io/auth-url", "https://$host/oauth2/auth"},
                                 {"nginx.ingress.kubernetes.io/auth-signin",
                                  "https://$host/oauth2/start?rd=$escaped_request_uri"},
                                 {"nginx.ingress.kubernetes.io/auth-response-headers", "X-Auth-Request-User, X-Auth-Request-Email"},
                                 {"nginx.ingress.kubernetes.io/auth-method", "POST"},
                                 {"nginx.ingress.kubernetes.io/auth-request-redirect", "$scheme://$http_host$request_uri"}});
  EXPECT_TRUE(out.problems.empty()) << out.problems[0].why;
  EXPECT_FALSE(out.values.fail_closed);
  EXPECT_EQ(out.values.auth_url, "https://$host/oauth2/auth");
  EXPECT_EQ(out.values.auth_signin, "https://$host/oauth2/start?rd=$escaped_request_uri");
  EXPECT_EQ(out.values.auth_response_headers, (std::vector<std::string>{"x-auth-request-user", "x-auth-request-email"}));
  EXPECT_EQ(out.values.auth_method, "POST");
  EXPECT_EQ(out.values.auth_request_redirect, "$scheme://$http_host$request_uri");
  EXPECT_TRUE(ParseOne("pier.dev/auth-url", "http://oauth2-proxy.auth.svc:4180/oauth2/auth").problems.empty());
  // A query parameter's name keeps its case.
  EXPECT_EQ(ParseOne("pier.dev/auth-signin-redirect-param", "redirectTo").values.auth_signin_redirect_param, "redirectTo");
  EXPECT_TRUE(ParseOne("pier.dev/auth-url", "http://[fd00::1]:4180/check?u=$escaped_request_uri").problems.empty());

  // An unusable value closes the routes with 503: serving them open is what the key prevents.
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"auth-url", "x"},
           {"auth-url", "ftp://auth/"},
           {"auth-url", "http://$http_host/auth"},  // the client's Host would choose the auth service
           {"auth-url", "http://auth:$port/"},
           {"auth-url", "http://auth/check?ip=$remote_addr"},
           {"auth-url", "http://user:pw@auth/"},
           {"auth-url", "http://auth/ x"},
           {"auth-signin", "/relative"},
           {"auth-method", "get"},
           {"auth-response-headers", "X-User, Content-Length"},
           {"auth-response-headers", "Host"},
           {"auth-response-headers", "bad header"},
           {"auth-request-redirect", "$uri"},
           {"auth-signin-redirect-param", "r&d"}}) {
    const ParseOutput bad = ParseOne("pier.dev/" + key, value);
    ASSERT_EQ(bad.problems.size(), 1u) << key << ": " << value;
    ASSERT_TRUE(bad.values.fail_closed) << key << ": " << value;
    EXPECT_EQ(bad.values.fail_closed->status, 503u);
  }
}

TEST(Parse, AnInvalidSecurityAnnotationKeepsItsOwnFailureBeforeAnUnsupportedOne) {
  const ParseOutput out = Parse({{"pier.dev/limit-rps", "many"}, {"nginx.ingress.kubernetes.io/proxy-buffering", "x"}});
  ASSERT_TRUE(out.values.fail_closed);
  EXPECT_EQ(out.values.fail_closed->status, 503u);
  ASSERT_EQ(out.problems.size(), 2u);
}

TEST(Parse, Satisfy) {
  EXPECT_FALSE(Parse({}).values.satisfy_any);
  EXPECT_TRUE(ParseOne("nginx.ingress.kubernetes.io/satisfy", "any").values.satisfy_any);
  EXPECT_FALSE(ParseOne("pier.dev/satisfy", "all").values.satisfy_any);
  // An invalid value keeps the stricter "all" and closes nothing.
  for (const char* value : {"Any", "some", ""}) {
    const ParseOutput bad = ParseOne("pier.dev/satisfy", value);
    ASSERT_EQ(bad.problems.size(), 1u) << value;
    EXPECT_FALSE(bad.values.satisfy_any) << value;
    EXPECT_FALSE(bad.values.fail_closed) << value;
  }
}

TEST(Parse, NextUpstream) {
  EXPECT_FALSE(Parse({}).values.proxy_next_upstream);
  const ParseOutput out = Parse({{"nginx.ingress.kubernetes.io/proxy-next-upstream", " error  http_503 http_502 http_503 non_idempotent"},
                                 {"nginx.ingress.kubernetes.io/proxy-next-upstream-tries", "0"},
                                 {"nginx.ingress.kubernetes.io/proxy-next-upstream-timeout", "10"}});
  EXPECT_TRUE(out.problems.empty()) << out.problems[0].why;
  ASSERT_TRUE(out.values.proxy_next_upstream);
  const NextUpstreamWhen& when = *out.values.proxy_next_upstream;
  EXPECT_TRUE(when.error);
  EXPECT_FALSE(when.timeout);
  EXPECT_FALSE(when.invalid_header);
  EXPECT_TRUE(when.non_idempotent);
  EXPECT_EQ(when.statuses, (std::vector<uint32_t>{502, 503}));
  EXPECT_EQ(out.values.proxy_next_upstream_tries, 0u);
  EXPECT_EQ(out.values.proxy_next_upstream_timeout, std::chrono::milliseconds(10'000));

  const ParseOutput off = ParseOne("pier.dev/proxy-next-upstream", "off");
  ASSERT_TRUE(off.values.proxy_next_upstream);
  EXPECT_EQ(*off.values.proxy_next_upstream, NextUpstreamWhen{});
  EXPECT_EQ(ParseOne("pier.dev/proxy-next-upstream-timeout", "0").values.proxy_next_upstream_timeout,
            std::chrono::milliseconds(0));

  // An invalid value is reported and leaves the default; nothing closes.
  for (const char* value : {"", "off error", "error http_501", "Error", "error;timeout"}) {
    const ParseOutput bad = ParseOne("nginx.ingress.kubernetes.io/proxy-next-upstream", value);
    ASSERT_EQ(bad.problems.size(), 1u) << value;
    EXPECT_FALSE(bad.values.proxy_next_upstream) << value;
    EXPECT_FALSE(bad.values.fail_closed) << value;
  }
  EXPECT_EQ(ParseOne("pier.dev/proxy-next-upstream-tries", "101").problems.size(), 1u);
  EXPECT_EQ(ParseOne("pier.dev/proxy-next-upstream-timeout", "-1").problems.size(), 1u);
}

TEST(Parse, ClientCertificates) {
  const ParseOutput out = Parse({{"nginx.ingress.kubernetes.io/auth-tls-secret", "certs/client-ca"},
                                 {"nginx.ingress.kubernetes.io/auth-tls-verify-client", "optional"},
                                 {"nginx.ingress.kubernetes.io/auth-tls-verify-depth", "2"},
                                 {"nginx.ingress.kubernetes.io/auth-tls-error-page", "https://errors.example/cert"},
                                 {"nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream", "true"},
                                 {"nginx.ingress.kubernetes.io/auth-tls-match-cn", "CN=(alice|bob),O=Pier\\x20Test$"}});
  EXPECT_TRUE(out.problems.empty()) << out.problems[0].why;
  EXPECT_FALSE(out.values.fail_closed);
  ASSERT_TRUE(out.values.auth_tls_secret);
  EXPECT_EQ(out.values.auth_tls_secret->namespace_, "certs");
  EXPECT_EQ(out.values.auth_tls_secret->name, "client-ca");
  EXPECT_EQ(out.values.auth_tls_verify_client, ClientVerify::kOptional);
  EXPECT_EQ(out.values.auth_tls_verify_depth, 2u);
  EXPECT_EQ(out.values.auth_tls_error_page, "https://errors.example/cert");
  EXPECT_TRUE(out.values.auth_tls_pass_certificate_to_upstream);
  EXPECT_EQ(out.values.auth_tls_match_cn, "CN=(alice|bob),O=Pier\\x20Test$");

  const IngressAnnotations defaults = ParseOne("pier.dev/auth-tls-secret", "client-ca").values;
  EXPECT_EQ(defaults.auth_tls_secret->namespace_, "");
  EXPECT_EQ(defaults.auth_tls_verify_client, ClientVerify::kOn);
  EXPECT_EQ(defaults.auth_tls_verify_depth, 1u);
  EXPECT_FALSE(defaults.auth_tls_pass_certificate_to_upstream);
  EXPECT_EQ(ParseOne("pier.dev/auth-tls-verify-client", "optional_no_ca").values.auth_tls_verify_client,
            ClientVerify::kOptionalNoCa);
  EXPECT_EQ(ParseOne("pier.dev/auth-tls-verify-client", "off").values.auth_tls_verify_client, ClientVerify::kOff);
  EXPECT_EQ(ParseOne("pier.dev/auth-tls-error-page", "/cert-help").values.auth_tls_error_page, "/cert-help");
  EXPECT_EQ(ParseOne("pier.dev/auth-tls-verify-depth", "0").values.auth_tls_verify_depth, 0u);

  // An unusable value closes the Ingress' routes with 403: it meant to keep clients out.
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"auth-tls-secret", "a/b/c"},
           {"auth-tls-secret", "Bad_Name"},
           {"auth-tls-verify-client", "yes"},
           {"auth-tls-verify-client", "ON"},
           {"auth-tls-verify-depth", "-1"},
           {"auth-tls-verify-depth", "101"},
           {"auth-tls-verify-depth", "one"},
           {"auth-tls-error-page", "errors.example/cert"},
           {"auth-tls-error-page", "https://errors.example/a b"},
           {"auth-tls-error-page", "javascript:alert(1)"},
           {"auth-tls-match-cn", "CN=(alice"},
           {"auth-tls-match-cn", "O=Pier Test"},
           {"auth-tls-match-cn", "(?P<x>a)\\1"}}) {
    const ParseOutput bad = ParseOne("pier.dev/" + key, value);
    ASSERT_EQ(bad.problems.size(), 1u) << key << ": " << value;
    ASSERT_TRUE(bad.values.fail_closed) << key << ": " << value;
    EXPECT_EQ(bad.values.fail_closed->status, 403u) << key << ": " << value;
  }
  const ParseOutput bad_bool = ParseOne("pier.dev/auth-tls-pass-certificate-to-upstream", "maybe");
  ASSERT_EQ(bad_bool.problems.size(), 1u);
  EXPECT_FALSE(bad_bool.values.fail_closed);
}

TEST(Parse, SecurityFailureStatusDependsOnTheAnnotation) {
  EXPECT_EQ(ParseOne("pier.dev/denylist-source-range", "x").values.fail_closed->status, 403u);
  EXPECT_EQ(ParseOne("pier.dev/websocket-allowed-origins", "x").values.fail_closed->status, 403u);
  EXPECT_EQ(ParseOne("pier.dev/limit-rps", "x").values.fail_closed->status, 503u);
}

TEST(Parse, ValidAnnotationsStillApplyNextToABadOne) {
  const ParseOutput out = Parse({{"pier.dev/proxy-read-timeout", "bad"}, {"pier.dev/proxy-send-timeout", "10s"}});
  ASSERT_EQ(out.problems.size(), 1u);
  EXPECT_EQ(out.values.proxy_send_timeout, 10s);
}

TEST(Parse, BasicAuthentication) {
  const ParseOutput out = Parse({{"nginx.ingress.kubernetes.io/auth-type", "basic"},
                                 {"nginx.ingress.kubernetes.io/auth-secret", "other/users"},
                                 {"nginx.ingress.kubernetes.io/auth-secret-type", "auth-file"},
                                 {"nginx.ingress.kubernetes.io/auth-realm", "Staff only"}});
  EXPECT_TRUE(out.problems.empty());
  EXPECT_FALSE(out.values.fail_closed);
  EXPECT_EQ(out.values.auth_type, AuthType::kBasic);
  ASSERT_TRUE(out.values.auth_secret);
  EXPECT_EQ(*out.values.auth_secret, (SecretRef{"other", "users"}));
  EXPECT_EQ(out.values.auth_secret_type, AuthSecretType::kAuthFile);
  EXPECT_EQ(out.values.auth_realm, "Staff only");
  // Nothing set: no authentication, an empty realm (ingress-nginx's default).
  EXPECT_EQ(Parse({}).values.auth_type, AuthType::kNone);
  EXPECT_EQ(Parse({}).values.auth_realm, "");
}

TEST(Parse, WhatBasicAuthenticationCannotDoClosesTheRoutesWith503) {
  for (const auto& [key, value, why] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"auth-type", "digest", "digest authentication is not implemented"},
           {"auth-type", "Basic ", "expected basic"},
           {"auth-secret", "a/b/c", "a/b/c"},
           {"auth-secret-type", "auth-map", "auth-map is not implemented"}}) {
    const ParseOutput out = Parse({{"pier.dev/" + key, value}});
    ASSERT_EQ(out.problems.size(), 1u) << key;
    EXPECT_TRUE(out.problems[0].security) << key;
    EXPECT_NE(out.problems[0].why.find(why), std::string::npos) << out.problems[0].why;
    ASSERT_TRUE(out.values.fail_closed) << key;
    EXPECT_EQ(out.values.fail_closed->status, 503u) << key;
  }
}

TEST(Parse, ARealmThatWouldBreakTheQuotedStringKeepsTheDefault) {
  for (const char* realm : {"say \"hi\"", "back\\slash", "tab\there"}) {
    const ParseOutput out = Parse({{"pier.dev/auth-realm", realm}});
    ASSERT_EQ(out.problems.size(), 1u) << realm;
    EXPECT_FALSE(out.problems[0].security);
    EXPECT_FALSE(out.values.fail_closed);
    EXPECT_EQ(out.values.auth_realm, "");
  }
}

}  // namespace
}  // namespace pier::annotations
