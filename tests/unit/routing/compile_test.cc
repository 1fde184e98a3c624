// What Build produces from a valid snapshot: defaults resolved, clusters shared, CIDRs parsed.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "routing/config.h"
#include "snapshot_builder.h"

namespace pier::dataplane {
namespace {

using std::chrono::milliseconds;
using testing::SnapshotBuilder;

std::shared_ptr<const RouteConfig> OnlyRoute(const v1::Snapshot& snapshot, const BuildOptions& options = {}) {
  auto config = Config::Build(snapshot, options);
  EXPECT_TRUE(config.ok()) << config.error();
  if (!config.ok()) return nullptr;
  return (*config)->Match("", "/");
}

TEST(Defaults, BuiltInValuesApplyWhenNothingIsSet) {
  auto route = OnlyRoute(SnapshotBuilder().Cluster("c").Prefix("/").Get());
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->connect_timeout, milliseconds(5000));
  EXPECT_EQ(route->read_timeout, milliseconds(60000));
  EXPECT_EQ(route->send_timeout, milliseconds(60000));
  EXPECT_EQ(route->websocket_idle_timeout, milliseconds(3600000));
  EXPECT_EQ(route->max_body_bytes, 1u << 20);
  EXPECT_EQ(route->buffer_bytes, 16u * 1024);
}

TEST(Defaults, FlagsReplaceBuiltInValues) {
  BuildOptions options;
  options.connect_timeout = milliseconds(1000);
  options.read_timeout = milliseconds(2000);
  options.send_timeout = milliseconds(3000);
  options.websocket_idle_timeout = milliseconds(4000);
  options.max_body_bytes = 5;
  options.buffer_bytes = 6000;
  auto route = OnlyRoute(SnapshotBuilder().Cluster("c").Prefix("/").Get(), options);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->connect_timeout, milliseconds(1000));
  EXPECT_EQ(route->read_timeout, milliseconds(2000));
  EXPECT_EQ(route->send_timeout, milliseconds(3000));
  EXPECT_EQ(route->websocket_idle_timeout, milliseconds(4000));
  EXPECT_EQ(route->max_body_bytes, 5u);
  EXPECT_EQ(route->buffer_bytes, 6000u);
}

TEST(Defaults, SnapshotDefaultsBeatFlagsAndRouteValuesBeatBoth) {
  SnapshotBuilder builder;
  builder.Cluster("c").Prefix("/");
  v1::Defaults* defaults = builder.Get().mutable_defaults();
  defaults->set_connect_timeout_ms(11);
  defaults->set_read_timeout_ms(12);
  defaults->set_send_timeout_ms(13);
  defaults->set_websocket_idle_timeout_ms(14);
  defaults->set_max_body_bytes(15);
  defaults->set_buffer_bytes(16000);
  builder.LastRoute().mutable_timeouts()->set_read_ms(22);
  builder.LastRoute().mutable_websocket()->set_idle_timeout_ms(24);
  builder.LastRoute().set_buffer_bytes(26000);
  BuildOptions options;
  options.connect_timeout = milliseconds(1);
  auto route = OnlyRoute(builder.Get(), options);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->connect_timeout, milliseconds(11));
  EXPECT_EQ(route->read_timeout, milliseconds(22));
  EXPECT_EQ(route->send_timeout, milliseconds(13));
  EXPECT_EQ(route->websocket_idle_timeout, milliseconds(24));
  EXPECT_EQ(route->max_body_bytes, 15u);
  EXPECT_EQ(route->buffer_bytes, 26000u);
}

TEST(Defaults, BodyLimitCanBeLiftedPerRoute) {
  SnapshotBuilder builder;
  builder.Cluster("c").Prefix("/");
  builder.Get().mutable_defaults()->set_max_body_bytes(100);
  builder.LastRoute().set_body_unlimited(true);
  EXPECT_EQ(OnlyRoute(builder.Get())->max_body_bytes, 0u);
  builder.LastRoute().set_body_unlimited(false);
  builder.LastRoute().set_max_body_bytes(7);
  EXPECT_EQ(OnlyRoute(builder.Get())->max_body_bytes, 7u);
}

TEST(Compile, RoutesShareTheirClusterAndCarryItsEndpoints) {
  SnapshotBuilder builder;
  builder.Cluster("ns/app:80", {"10.0.0.2", "fd00::2"}, 8080).Prefix("/a", "ns/app:80").Prefix("/b", "ns/app:80");
  builder.Get().mutable_clusters(0)->mutable_endpoints(1)->set_weight(3);
  builder.Get().mutable_clusters(0)->mutable_endpoints(1)->set_fallback(true);
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  auto a = (*config)->Match("", "/a");
  auto b = (*config)->Match("", "/b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->cluster, b->cluster);
  ASSERT_EQ(a->cluster->endpoints.size(), 2u);
  EXPECT_EQ(a->cluster->endpoints[0].id, "10.0.0.2:8080");
  EXPECT_EQ(a->cluster->endpoints[0].weight, 1u);  // 0 on the wire means 1
  EXPECT_EQ(a->cluster->endpoints[1].id, "[fd00::2]:8080");
  EXPECT_EQ(a->cluster->endpoints[1].weight, 3u);
  EXPECT_TRUE(a->cluster->endpoints[1].fallback);
  EXPECT_EQ((*config)->clusters().size(), 1u);
}

TEST(Compile, CustomHttpErrorsGetAnErrorRouteOnTheirCluster) {
  SnapshotBuilder builder;
  builder.Cluster("ns/app:80", {"10.0.0.2"}).Cluster("ns/errors:80", {"10.0.0.9"}).Prefix("/", "ns/app:80");
  v1::Route& route = builder.LastRoute();
  route.mutable_affinity()->set_mode(v1::Affinity::COOKIE_BALANCED);
  route.mutable_affinity()->set_cookie_name("PIER_AFFINITY");
  route.mutable_timeouts()->set_read_ms(1234);
  route.mutable_redirect()->set_hsts_max_age_s(600);
  route.mutable_custom_http_errors()->add_codes(503);
  route.mutable_custom_http_errors()->add_codes(404);
  route.mutable_custom_http_errors()->set_cluster("ns/errors:80");
  auto compiled = OnlyRoute(builder.Get());
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(compiled->error_codes, (std::vector<uint32_t>{404, 503}));
  ASSERT_NE(compiled->error_route, nullptr);
  const RouteConfig& errors = *compiled->error_route;
  ASSERT_NE(errors.cluster, nullptr);
  EXPECT_EQ(errors.cluster->name, "ns/errors:80");
  EXPECT_EQ(errors.name, compiled->name);
  EXPECT_EQ(errors.read_timeout, milliseconds(1234));  // the route's own policy...
  EXPECT_EQ(errors.proto.redirect().hsts_max_age_s(), 600u);
  EXPECT_EQ(errors.proto.affinity().mode(), v1::Affinity::NONE);  // ...without pinning anyone there
  EXPECT_FALSE(errors.proto.has_custom_http_errors());
  EXPECT_EQ(errors.error_route, nullptr);
}

TEST(Compile, UnavailableRoutesHaveNoClusterButAReason) {
  SnapshotBuilder builder;
  builder.Cluster("c").Prefix("/", "");
  builder.LastRoute().mutable_unavailable()->set_status(503);
  builder.LastRoute().mutable_unavailable()->set_reason("service ns/gone not found");
  auto route = OnlyRoute(builder.Get());
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->cluster, nullptr);
  EXPECT_EQ(route->unavailable_status, 503u);
  EXPECT_EQ(route->unavailable_reason, "service ns/gone not found");
}

TEST(Compile, SourceRangesAreParsedOnce) {
  SnapshotBuilder builder;
  builder.Cluster("c").Prefix("/");
  builder.LastRoute().mutable_access()->add_allow_cidrs("10.0.0.0/8");
  builder.LastRoute().mutable_access()->add_deny_cidrs("10.1.0.0/16");
  builder.LastRoute().mutable_limits()->add_exempt_cidrs("127.0.0.1");
  auto route = OnlyRoute(builder.Get());
  ASSERT_NE(route, nullptr);
  const auto inside = boost::asio::ip::make_address("10.2.3.4");
  EXPECT_TRUE(route->allow_sources.Contains(inside));
  EXPECT_FALSE(route->deny_sources.Contains(inside));
  EXPECT_TRUE(route->deny_sources.Contains(boost::asio::ip::make_address("10.1.3.4")));
  EXPECT_TRUE(route->limit_exempt_sources.Contains(boost::asio::ip::make_address("127.0.0.1")));
}

TEST(Compile, VersionAndInstanceAreKept) {
  SnapshotBuilder builder;
  builder.Version(42).Cluster("c").Prefix("/");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ((*config)->version(), 42u);
  EXPECT_EQ((*config)->controller_instance(), "test");
}

TEST(ConfigStoreTest, SwapPublishesTheNewConfigAndOldHoldersKeepTheirs) {
  ConfigStore store;
  EXPECT_EQ(store.Current(), nullptr);
  auto first = Config::Build(SnapshotBuilder().Version(1).Cluster("c").Prefix("/").Get());
  auto second = Config::Build(SnapshotBuilder().Version(2).Cluster("c").Prefix("/").Get());
  ASSERT_TRUE(first.ok() && second.ok());
  store.Swap(*first);
  auto held = store.Current();
  store.Swap(*second);
  EXPECT_EQ(store.Current()->version(), 2u);
  EXPECT_EQ(held->version(), 1u);
}

TEST(Canary, TheCanaryRouteIsReachedOnlyThroughItsMain) {
  SnapshotBuilder builder;
  builder.Cluster("main").Cluster("canary").Host("a.example").Prefix("/app", "main").Prefix("/app", "canary");
  builder.LastRoute().set_name("canary");
  builder.LastRoute().set_is_canary(true);
  v1::Canary& rules = *builder.Get().mutable_virtual_hosts(0)->mutable_routes(0)->mutable_canary();
  rules.set_route("canary");
  rules.set_header("x-canary");
  rules.set_header_pattern("^beta-[0-9]+$");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  auto route = (*config)->Match("a.example", "/app/x");
  ASSERT_NE(route, nullptr);
  EXPECT_FALSE(route->is_canary);
  EXPECT_EQ(route->cluster->name, "main");
  ASSERT_NE(route->canary, nullptr);
  EXPECT_TRUE(route->canary->is_canary);
  EXPECT_EQ(route->canary->cluster->name, "canary");
  ASSERT_TRUE(route->canary_header_pattern);
  EXPECT_TRUE(route->canary_header_pattern->Search("beta-12"));
  EXPECT_FALSE(route->canary_header_pattern->Search("BETA-12"));  // case-sensitive

  // Alone, a canary route is never matched.
  SnapshotBuilder alone;
  alone.Cluster("canary").Host("a.example").Prefix("/app", "canary");
  alone.LastRoute().set_is_canary(true);
  auto lone = Config::Build(alone.Get());
  ASSERT_TRUE(lone.ok()) << lone.error();
  EXPECT_EQ((*lone)->Match("a.example", "/app"), nullptr);
}

TEST(Canary, ARegexRouteMatchesFromTheStart) {
  SnapshotBuilder builder;
  builder.Cluster("c").Host("a.example").Prefix("/api(/|$)(.*)").Prefix("/");
  builder.Get().mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->set_type(v1::PathMatch::REGEX);
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ((*config)->Match("a.example", "/API/x")->match_type, v1::PathMatch::REGEX);
  EXPECT_EQ((*config)->Match("a.example", "/apix")->match_type, v1::PathMatch::PREFIX);
  EXPECT_EQ((*config)->Match("a.example", "/v1/api")->match_type, v1::PathMatch::PREFIX);
}

}  // namespace
}  // namespace pier::dataplane
