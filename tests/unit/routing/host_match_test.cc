#include <gtest/gtest.h>

#include <string>

#include "routing/config.h"
#include "snapshot_builder.h"

namespace pier::dataplane {
namespace {

using testing::SnapshotBuilder;

class HostMatch : public ::testing::Test {
 protected:
  void SetUp() override {
    SnapshotBuilder builder;
    builder.Cluster("c");
    for (const char* host : {"example.com", "*.example.com", "a.example.com", "*.b.example.com", "other.org", ""}) {
      builder.Host(host).Prefix("/");
      builder.LastRoute().set_name(host);
    }
    auto config = Config::Build(builder.Get());
    ASSERT_TRUE(config.ok()) << config.error();
    config_ = *config;
  }

  std::string RouteFor(std::string_view host) const {
    auto route = config_->Match(host, "/x");
    return route ? route->name : "<none>";
  }

  std::shared_ptr<const Config> config_;
};

TEST_F(HostMatch, ExactHostWinsOverWildcard) {
  EXPECT_EQ(RouteFor("a.example.com"), "a.example.com");
  EXPECT_EQ(RouteFor("example.com"), "example.com");
}

TEST_F(HostMatch, WildcardCoversExactlyOneLabel) {
  EXPECT_EQ(RouteFor("z.example.com"), "*.example.com");
  EXPECT_EQ(RouteFor("x.b.example.com"), "*.b.example.com");
  // Two labels below *.example.com: not covered, falls to the catch-all.
  EXPECT_EQ(RouteFor("x.y.example.com"), "");
  EXPECT_EQ(RouteFor(".example.com"), "");
}

TEST_F(HostMatch, WildcardDoesNotCoverItsParent) {
  SnapshotBuilder builder;
  builder.Cluster("c").Host("*.example.com").Prefix("/");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_NE((*config)->Match("a.example.com", "/"), nullptr);
  EXPECT_EQ((*config)->Match("example.com", "/"), nullptr);
  EXPECT_EQ((*config)->Match("a.b.example.com", "/"), nullptr);
}

TEST_F(HostMatch, CaseAndPortAreIgnored) {
  EXPECT_EQ(RouteFor("A.Example.COM"), "a.example.com");
  EXPECT_EQ(RouteFor("a.example.com:8080"), "a.example.com");
  EXPECT_EQ(RouteFor("Z.EXAMPLE.COM:443"), "*.example.com");
  EXPECT_EQ(RouteFor("other.org."), "other.org");
}

TEST_F(HostMatch, UnknownHostsAndAddressesGoToTheCatchAll) {
  EXPECT_EQ(RouteFor("unknown.net"), "");
  EXPECT_EQ(RouteFor("127.0.0.1:8080"), "");
  EXPECT_EQ(RouteFor("[::1]:8080"), "");
  EXPECT_EQ(RouteFor(""), "");
}

TEST_F(HostMatch, NoCatchAllMeansNoRoute) {
  auto config = Config::Build(SnapshotBuilder().Cluster("c").Host("example.com").Prefix("/api").Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ((*config)->Match("unknown.net", "/api"), nullptr);
  EXPECT_EQ((*config)->Match("example.com", "/other"), nullptr);
  EXPECT_NE((*config)->Match("EXAMPLE.com:80", "/api/v1"), nullptr);
}

TEST(HostFallThrough, PathMissInAHostDoesNotFallToOtherHosts) {
  // One virtual host decides: the most specific one that exists. A path it does not route is a
  // 404, whatever wildcard or host-less rules say (ingress-nginx users rely on this).
  SnapshotBuilder builder;
  builder.Cluster("c").Host("example.com").Prefix("/api");
  builder.LastRoute().set_name("api");
  builder.Host("*.example.com").Prefix("/ws");
  builder.LastRoute().set_name("ws");
  builder.Host("").Prefix("/");
  builder.LastRoute().set_name("default");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ((*config)->Match("example.com", "/api")->name, "api");
  EXPECT_EQ((*config)->Match("example.com", "/ws"), nullptr);
  EXPECT_EQ((*config)->Match("a.example.com", "/ws")->name, "ws");
  EXPECT_EQ((*config)->Match("a.example.com", "/api"), nullptr);
  EXPECT_EQ((*config)->Match("other.org", "/api")->name, "default");
}

TEST(FindHost, ReturnsTheVirtualHostThatMatchWouldTry) {
  SnapshotBuilder builder;
  builder.Cluster("c").Host("example.com").Prefix("/").Host("*.example.com").Prefix("/");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  ASSERT_NE((*config)->FindHost("EXAMPLE.COM:443"), nullptr);
  EXPECT_EQ((*config)->FindHost("EXAMPLE.COM:443")->host, "example.com");
  EXPECT_EQ((*config)->FindHost("www.example.com")->host, "*.example.com");
  EXPECT_EQ((*config)->FindHost("example.org"), nullptr);
}

}  // namespace
}  // namespace pier::dataplane
