// Every reason Config::Build refuses a snapshot, each checked by the message naming the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "routing/bounds.h"
#include "routing/config.h"
#include "snapshot_builder.h"
#include "test_certificate.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;
using testing::SnapshotBuilder;

// A valid snapshot with one of everything, so each test breaks exactly one thing.
SnapshotBuilder Valid() {
  static const testing::TestCertificate kCert = testing::MakeSelfSigned("example.com");
  SnapshotBuilder builder;
  builder.Cluster("ns/app:80", {"10.0.0.1", "fd00::1"}).Host("example.com").Prefix("/").Exact("/ws");
  builder.LastHost().set_tls_certificate("ns/tls");
  v1::TlsCertificate* cert = builder.Get().add_certificates();
  cert->set_name("ns/tls");
  cert->set_certificate_chain_pem(kCert.chain_pem);
  cert->set_private_key_pem(kCert.key_pem);
  cert->add_sni_names("example.com");
  for (int i = 0; i < builder.Get().virtual_hosts(0).routes_size(); ++i) {
    builder.Get().mutable_virtual_hosts(0)->mutable_routes(i)->set_cluster("ns/app:80");
  }
  return builder;
}

std::string BuildError(const std::function<void(v1::Snapshot&)>& breakIt) {
  SnapshotBuilder builder = Valid();
  breakIt(builder.Get());
  auto config = Config::Build(builder.Get());
  return config.ok() ? "<accepted>" : config.error();
}

v1::Route& FirstRoute(v1::Snapshot& s) { return *s.mutable_virtual_hosts(0)->mutable_routes(0); }

TEST(Validation, TheBaseSnapshotIsValid) {
  EXPECT_EQ(BuildError([](v1::Snapshot&) {}), "<accepted>");
}

TEST(Validation, RouteClusterMustExist) {
  const std::string error = BuildError([](v1::Snapshot& s) { FirstRoute(s).set_cluster("ns/gone:80"); });
  EXPECT_THAT(error, HasSubstr("virtual host \"example.com\" route"));
  EXPECT_THAT(error, HasSubstr("cluster \"ns/gone:80\" does not exist"));
}

TEST(Validation, RouteNeedsAClusterAnUnavailableStatusOrARedirect) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).clear_cluster(); }),
              HasSubstr("neither a cluster, an unavailable status nor a redirect"));
  EXPECT_EQ(BuildError([](v1::Snapshot& s) {
              FirstRoute(s).clear_cluster();
              FirstRoute(s).mutable_unavailable()->set_status(503);
            }),
            "<accepted>");
  EXPECT_EQ(BuildError([](v1::Snapshot& s) {
              FirstRoute(s).clear_cluster();
              FirstRoute(s).mutable_route_redirect()->set_status(301);
              FirstRoute(s).mutable_route_redirect()->set_location("https://example.org");
            }),
            "<accepted>");
  // app-root alone proxies every other path: it still needs a cluster.
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                FirstRoute(s).clear_cluster();
                FirstRoute(s).mutable_route_redirect()->set_app_root("/app");
              }),
              HasSubstr("neither a cluster"));
}

TEST(Validation, UpstreamHostMustBeAHostPort) {
  for (const char* good : {"internal.svc", "internal.svc:8080", "10.0.0.1", "[2001:db8::1]:443"}) {
    EXPECT_EQ(BuildError([&](v1::Snapshot& s) { FirstRoute(s).set_upstream_host(good); }), "<accepted>") << good;
  }
  for (const char* bad : {"a b", "a\r\nX: y", "A.example", "a/b", "a.example\t"}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { FirstRoute(s).set_upstream_host(bad); }),
                HasSubstr("upstream_host")) << bad;
  }
}

TEST(Validation, RegexPathsRewritesAndPrefixes) {
  const auto with = [](v1::PathMatch::Type type, std::string path, std::string rewrite = "", std::string prefix = "") {
    return BuildError([&](v1::Snapshot& s) {
      v1::Route& route = FirstRoute(s);
      route.mutable_match()->set_type(type);
      route.mutable_match()->set_path(path);
      route.set_rewrite_target(rewrite);
      route.set_forwarded_prefix(prefix);
    });
  };
  EXPECT_EQ(with(v1::PathMatch::REGEX, "/api(/|$)(.*)", "/$2", "/api"), "<accepted>");
  EXPECT_THAT(with(v1::PathMatch::REGEX, "/(a"), HasSubstr("not valid"));
  EXPECT_THAT(with(v1::PathMatch::REGEX, "/(a)\\1"), HasSubstr("not valid"));
  EXPECT_THAT(with(v1::PathMatch::PREFIX, "/", "/$host"), HasSubstr("rewrite target"));
  EXPECT_THAT(with(v1::PathMatch::PREFIX, "/", "/x\r\nY: z"), HasSubstr("rewrite target"));
  EXPECT_THAT(with(v1::PathMatch::PREFIX, "/", "", "/a b"), HasSubstr("forwarded_prefix"));
  EXPECT_THAT(with(v1::PathMatch::PREFIX, "/", "", "/$1"), HasSubstr("forwarded_prefix"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_match()->set_type(static_cast<v1::PathMatch::Type>(7)); }),
              HasSubstr("unknown path type"));
}

TEST(Validation, ACanaryMustNameACanaryRouteOfItsHost) {
  const auto with = [](const std::function<void(v1::Route& main, v1::Route& canary)>& change) {
    return BuildError([&](v1::Snapshot& s) {
      v1::Route& canary = *s.mutable_virtual_hosts(0)->add_routes();
      canary = FirstRoute(s);
      canary.set_name("the-canary");
      canary.set_is_canary(true);
      FirstRoute(s).mutable_canary()->set_route("the-canary");
      change(FirstRoute(s), *s.mutable_virtual_hosts(0)->mutable_routes(s.virtual_hosts(0).routes_size() - 1));
    });
  };
  EXPECT_EQ(with([](v1::Route&, v1::Route&) {}), "<accepted>");
  EXPECT_THAT(with([](v1::Route& main, v1::Route&) { main.mutable_canary()->set_route("gone"); }),
              HasSubstr("canary route \"gone\" is not a canary route here"));
  EXPECT_THAT(with([](v1::Route&, v1::Route& canary) { canary.set_is_canary(false); }),
              HasSubstr("is not a canary route here"));
  EXPECT_THAT(with([](v1::Route&, v1::Route& canary) { canary.mutable_canary()->set_route("the-canary"); }),
              HasSubstr("a canary route has a canary of its own"));
  EXPECT_THAT(with([](v1::Route& main, v1::Route&) { main.mutable_canary()->set_weight(101); }),
              HasSubstr("more than its total"));
  EXPECT_THAT(with([](v1::Route& main, v1::Route&) { main.mutable_canary()->set_header("X-Canary"); }),
              HasSubstr("lowercase HTTP token"));
  EXPECT_THAT(with([](v1::Route& main, v1::Route&) { main.mutable_canary()->set_cookie("a b"); }),
              HasSubstr("canary cookie"));
  EXPECT_THAT(with([](v1::Route& main, v1::Route&) { main.mutable_canary()->set_header_pattern("(x"); }),
              HasSubstr("header_pattern"));
}

TEST(Validation, CorsListsMustBeTokens) {
  const auto with = [](std::string methods, std::string origin = "https://a.example") {
    return BuildError([&](v1::Snapshot& s) {
      v1::Cors& cors = *FirstRoute(s).mutable_cors();
      cors.set_enabled(true);
      cors.add_allow_origins(origin);
      cors.set_allow_methods(methods);
    });
  };
  EXPECT_EQ(with("GET, POST"), "<accepted>");
  EXPECT_EQ(with("*"), "<accepted>");
  for (const char* bad : {"GET\r\nX: y", "GET;", "\"GET\"", "GET\t"}) EXPECT_THAT(with(bad), HasSubstr("cors")) << bad;
  EXPECT_THAT(with("GET", "ftp://a.example"), HasSubstr("cors origin"));
}

TEST(Validation, BasicAuthUsersMustBeVerifiableAndSafeInAHeader) {
  // `openssl passwd -apr1 -salt pier s3cret`.
  const std::string apr1 = "$apr1$pier$kpClQyGnUSUBweJJBXl.6.";
  auto with = [&](std::string realm, std::vector<std::pair<std::string, std::string>> users) {
    return BuildError([&](v1::Snapshot& s) {
      v1::BasicAuth& auth = *FirstRoute(s).mutable_basic_auth();
      auth.set_enabled(true);
      auth.set_realm(realm);
      for (const auto& [name, hash] : users) {
        v1::BasicAuthUser& user = *auth.add_users();
        user.set_name(name);
        user.set_hash(hash);
      }
    });
  };
  EXPECT_EQ(with("Staff", {{"alice", apr1}, {"bob", "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI="}}), "<accepted>");
  EXPECT_THAT(with("say \"hi\"", {{"alice", apr1}}), HasSubstr("realm"));
  EXPECT_THAT(with("line\r\nX-Injected: 1", {{"alice", apr1}}), HasSubstr("realm"));
  EXPECT_THAT(with("", {{"al:ice", apr1}}), HasSubstr("user name"));
  EXPECT_THAT(with("", {{"", apr1}}), HasSubstr("user name"));
  EXPECT_THAT(with("", {{"alice", apr1}, {"alice", apr1}}), HasSubstr("listed twice"));
  EXPECT_THAT(with("", {{"alice", "not a hash"}}), HasSubstr("basic_auth user \"alice\""));
}

TEST(Validation, ExternalAuthMustBeAUsableCheck) {
  EXPECT_EQ(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_external_auth()->set_url("http://auth.svc/check"); }),
            "<accepted>");
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_external_auth()->set_url("http://$host/check"); }),
              HasSubstr("external_auth url"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                FirstRoute(s).mutable_external_auth()->set_url("http://auth.svc/check");
                FirstRoute(s).mutable_external_auth()->add_response_headers("transfer-encoding");
              }),
              HasSubstr("external_auth response header"));
}

TEST(Validation, ProxyRedirectIsLocationText) {
  const auto with = [](std::string from, std::string to) {
    return BuildError([&](v1::Snapshot& s) {
      FirstRoute(s).mutable_proxy_redirect()->set_from(from);
      FirstRoute(s).mutable_proxy_redirect()->set_to(to);
    });
  };
  EXPECT_EQ(with("http://app.internal/", "https://example.com/"), "<accepted>");
  EXPECT_EQ(with("http://app.internal/", ""), "<accepted>");  // the prefix is removed
  EXPECT_THAT(with("", "/"), HasSubstr("proxy_redirect.from"));
  EXPECT_THAT(with("http://a/", "/x\r\nSet-Cookie: a=b"), HasSubstr("proxy_redirect.to"));
}

TEST(Validation, CookieRewriteIsCookieText) {
  const auto with = [](std::string domain_from, std::string domain_to, std::string path_from, std::string path_to) {
    return BuildError([&](v1::Snapshot& s) {
      v1::CookieRewrite& cookies = *FirstRoute(s).mutable_cookie_rewrite();
      cookies.set_domain_from(domain_from);
      cookies.set_domain_to(domain_to);
      cookies.set_path_from(path_from);
      cookies.set_path_to(path_to);
    });
  };
  EXPECT_EQ(with("app.internal", "shop.example", "/api/", "/"), "<accepted>");
  EXPECT_EQ(with("", "", "/api/", "/"), "<accepted>");
  EXPECT_THAT(with("app.internal", "", "", ""), HasSubstr("cookie_rewrite domain"));
  EXPECT_THAT(with("", "shop", "", ""), HasSubstr("cookie_rewrite domain"));
  EXPECT_THAT(with("a", "b\r\nX: y", "", ""), HasSubstr("cookie_rewrite domain"));
  EXPECT_THAT(with("", "", "/", "/x; Domain=evil"), HasSubstr("cookie_rewrite path"));
  EXPECT_THAT(with("", "", "~^/", "/"), HasSubstr("cookie_rewrite path"));
}

TEST(Validation, CustomHttpErrorsNeedCodesAndAnExistingCluster) {
  const auto with = [](std::vector<uint32_t> codes, std::string cluster) {
    return BuildError([&](v1::Snapshot& s) {
      v1::CustomHttpErrors& errors = *FirstRoute(s).mutable_custom_http_errors();
      for (uint32_t code : codes) errors.add_codes(code);
      errors.set_cluster(cluster);
    });
  };
  EXPECT_EQ(with({404, 503}, "ns/app:80"), "<accepted>");
  EXPECT_THAT(with({}, "ns/app:80"), HasSubstr("custom_http_errors has no codes"));
  EXPECT_THAT(with({200}, "ns/app:80"), HasSubstr("400..599"));
  EXPECT_THAT(with({404, 600}, "ns/app:80"), HasSubstr("400..599"));
  EXPECT_THAT(with({404, 404}, "ns/app:80"), HasSubstr("repeat"));
  EXPECT_THAT(with({404}, ""), HasSubstr("names no cluster"));
  EXPECT_THAT(with({404}, "ns/gone:80"), HasSubstr("custom_http_errors cluster \"ns/gone:80\" does not exist"));
}

TEST(Validation, NextUpstreamStatusesTriesAndTimeoutHaveBounds) {
  const auto with = [](std::vector<uint32_t> statuses, uint32_t tries, uint64_t timeout_ms) {
    return BuildError([&](v1::Snapshot& s) {
      v1::NextUpstream& next = *FirstRoute(s).mutable_next_upstream();
      next.set_error(true);
      for (uint32_t status : statuses) next.add_statuses(status);
      next.set_tries(tries);
      next.set_timeout_ms(timeout_ms);
    });
  };
  EXPECT_EQ(with({}, 3, 0), "<accepted>");
  EXPECT_EQ(with({504, 403, 404, 429, 500, 502, 503}, 0, 10'000), "<accepted>");
  EXPECT_EQ(with({}, 100, 0), "<accepted>");
  EXPECT_THAT(with({501}, 3, 0), HasSubstr("next_upstream.statuses has 501"));
  EXPECT_THAT(with({200}, 3, 0), HasSubstr("next_upstream.statuses has 200"));
  EXPECT_THAT(with({502, 502}, 3, 0), HasSubstr("next_upstream.statuses repeat"));
  EXPECT_THAT(with({}, 101, 0), HasSubstr("next_upstream.tries 101"));
  EXPECT_THAT(with({}, 3, uint64_t{8} * 24 * 3600 * 1000), HasSubstr("next_upstream.timeout_ms"));
}

TEST(Validation, RouteRedirectsMustBeSafeInALocationField) {
  const auto with = [](uint32_t status, std::string location, std::string app_root = "") {
    return BuildError([&](v1::Snapshot& s) {
      v1::RouteRedirect& redirect = *FirstRoute(s).mutable_route_redirect();
      redirect.set_status(status);
      redirect.set_location(location);
      redirect.set_app_root(app_root);
    });
  };
  EXPECT_EQ(with(301, "https://example.org/a?b=c#d"), "<accepted>");
  EXPECT_EQ(with(308, "/elsewhere"), "<accepted>");
  EXPECT_EQ(with(0, "", "/app"), "<accepted>");
  for (uint32_t status : {200u, 304u, 305u, 306u, 309u, 400u}) {
    EXPECT_THAT(with(status, "https://example.org"), HasSubstr("route_redirect.status")) << status;
  }
  for (const char* location : {"", "https://example.org/a b", "https://example.org/\r\nSet-Cookie: x=1",
                               "https://example.org/\"", "https://example.org/<x>"}) {
    EXPECT_THAT(with(301, location), HasSubstr("route_redirect.location")) << location;
  }
  EXPECT_THAT(with(0, "https://example.org"), HasSubstr("a location but no status"));
  EXPECT_THAT(with(0, "", "app"), HasSubstr("route_redirect.app_root"));
  EXPECT_THAT(with(0, "", "/a\nb"), HasSubstr("route_redirect.app_root"));
}

TEST(Validation, UnavailableStatusMustBeAnHttpError) {
  for (uint32_t status : {1u, 200u, 302u, 399u, 600u, 1000u}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { FirstRoute(s).mutable_unavailable()->set_status(status); }),
                HasSubstr("unavailable.status " + std::to_string(status)));
  }
  for (uint32_t status : {400u, 403u, 599u}) {
    EXPECT_EQ(BuildError([&](v1::Snapshot& s) { FirstRoute(s).mutable_unavailable()->set_status(status); }),
              "<accepted>");
  }
}

TEST(Validation, TlsCertificateMustExist) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_virtual_hosts(0)->set_tls_certificate("ns/other"); }),
              HasSubstr("TLS certificate \"ns/other\" does not exist"));
}

TEST(Validation, CertificatesMustParseAndMatchTheirKey) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_certificates(0)->set_certificate_chain_pem("garbage"); }),
              HasSubstr("certificate \"ns/tls\": certificate chain holds no PEM certificate"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_certificates(0)->set_private_key_pem("garbage"); }),
              HasSubstr("private key does not parse"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                s.mutable_certificates(0)->set_private_key_pem(testing::MakeSelfSigned("other").key_pem);
              }),
              HasSubstr("private key does not match"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                auto* cert = s.mutable_certificates(0);
                cert->set_certificate_chain_pem(cert->certificate_chain_pem() +
                                                "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
              }),
              HasSubstr("certificate 2 of the chain does not parse"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_certificates(0)->add_sni_names("Bad_Name"); }),
              HasSubstr("SNI name \"Bad_Name\""));
}

TEST(Validation, DuplicateNamesAreRefused) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { *s.add_clusters() = s.clusters(0); }),
              HasSubstr("cluster \"ns/app:80\" appears twice"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { *s.add_virtual_hosts() = s.virtual_hosts(0); }),
              HasSubstr("virtual host \"example.com\" appears twice"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { *s.add_certificates() = s.certificates(0); }),
              HasSubstr("certificate \"ns/tls\" appears twice"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_clusters(0)->clear_name(); }),
              HasSubstr("empty name"));
}

TEST(Validation, EndpointsMustBeIpLiteralsWithAValidPort) {
  for (const char* address : {"app.svc", "10.0.0.256", "", "10.0.0.1:80", "fe80::1%eth0x"}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { s.mutable_clusters(0)->mutable_endpoints(0)->set_address(address); }),
                HasSubstr("is not an IPv4 or IPv6 address"))
        << address;
  }
  for (uint32_t port : {0u, 65536u, 100000u}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { s.mutable_clusters(0)->mutable_endpoints(0)->set_port(port); }),
                HasSubstr("has port " + std::to_string(port)));
  }
}

TEST(Validation, PathsMustStartWithASlash) {
  for (const char* path : {"", "foo", "*", "/a b", "/a\tb"}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { FirstRoute(s).mutable_match()->set_path(path); }),
                HasSubstr("path \"" + std::string(path) + "\""))
        << path;
  }
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_match()->set_type(static_cast<v1::PathMatch::Type>(7)); }),
              HasSubstr("unknown path type 7"));
}

TEST(Validation, HostsMustBeLowercaseDnsNamesOrOneLabelWildcards) {
  for (const char* host : {"Example.com", "exa_mple.com", "*", "*.", "a.*.com", "**.example.com", "-a.com",
                           "a-.com", "a..com", ".a.com", "a.com.", "a.com:80"}) {
    EXPECT_THAT(BuildError([&](v1::Snapshot& s) { s.mutable_virtual_hosts(0)->set_host(host); }),
                HasSubstr("not a lowercase DNS name"))
        << host;
  }
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_virtual_hosts(0)->set_host(std::string(64, 'a') + ".com"); }),
              HasSubstr("not a lowercase DNS name"));
  for (const char* host : {"", "*.example.com", "a-b.c0.example", "xn--bcher-kva.example", "localhost"}) {
    EXPECT_EQ(BuildError([&](v1::Snapshot& s) { s.mutable_virtual_hosts(0)->set_host(host); }), "<accepted>") << host;
  }
}

TEST(Validation, TimeoutsAndBuffersHaveBounds) {
  const auto too_long = static_cast<uint32_t>(bounds::kMaxTimeout.count() + 1);
  EXPECT_THAT(BuildError([&](v1::Snapshot& s) { FirstRoute(s).mutable_timeouts()->set_read_ms(too_long); }),
              HasSubstr("timeouts.read_ms"));
  EXPECT_THAT(BuildError([&](v1::Snapshot& s) { FirstRoute(s).mutable_websocket()->set_idle_timeout_ms(too_long); }),
              HasSubstr("websocket.idle_timeout_ms"));
  EXPECT_THAT(BuildError([&](v1::Snapshot& s) { s.mutable_defaults()->set_connect_timeout_ms(too_long); }),
              HasSubstr("defaults: connect_timeout_ms"));
  EXPECT_EQ(BuildError([&](v1::Snapshot& s) {
              FirstRoute(s).mutable_timeouts()->set_read_ms(static_cast<uint32_t>(bounds::kMaxTimeout.count()));
            }),
            "<accepted>");
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).set_buffer_bytes(bounds::kMinBufferBytes - 1); }),
              HasSubstr("buffer_bytes"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).set_buffer_bytes(bounds::kMaxBufferBytes + 1); }),
              HasSubstr("buffer_bytes"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { s.mutable_defaults()->set_buffer_bytes(1); }),
              HasSubstr("defaults: buffer_bytes"));
}

TEST(Validation, PoliciesThatWouldBreakHeadersOrArithmeticAreRefused) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_affinity()->set_cookie_name("a;b"); }),
              HasSubstr("cookie name"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_affinity()->set_cookie_path("/\r\nX: y"); }),
              HasSubstr("cookie path or domain"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_affinity()->set_cookie_samesite("lax"); }),
              HasSubstr("SameSite"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                FirstRoute(s).mutable_load_balancing()->mutable_hash_by()->set_source(v1::HashKey::HEADER);
              }),
              HasSubstr("hash key needs a name"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_limits()->set_requests_per_second(NAN); }),
              HasSubstr("requests_per_second"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_limits()->set_requests_per_second(-1); }),
              HasSubstr("requests_per_second"));
}

TEST(Validation, CidrsMustParse) {
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_access()->add_allow_cidrs("10.0.0.0/33"); }),
              HasSubstr("access.allow_cidrs"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_access()->add_deny_cidrs("nope"); }),
              HasSubstr("access.deny_cidrs"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { FirstRoute(s).mutable_limits()->add_exempt_cidrs("1.2.3"); }),
              HasSubstr("limits.exempt_cidrs"));
}

TEST(Validation, TheFirstProblemIsNamed) {
  // Clusters are checked before hosts: the error names the bad endpoint, not the bad host.
  const std::string error = BuildError([](v1::Snapshot& s) {
    s.mutable_clusters(0)->mutable_endpoints(0)->set_address("x");
    s.mutable_virtual_hosts(0)->set_host("BAD");
  });
  EXPECT_THAT(error, HasSubstr("cluster \"ns/app:80\": endpoint address \"x\""));
}

}  // namespace
}  // namespace pier::dataplane
