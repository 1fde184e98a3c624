#include "upstream/canary.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "clusters.h"
#include "upstream/affinity_cookie.h"
#include "upstream/balancer.h"

namespace pier::dataplane::upstream {
namespace {

namespace bhttp = boost::beast::http;

RouteConfig WithRules(const std::function<void(v1::Canary&)>& set) {
  RouteConfig route;
  set(*route.proto.mutable_canary());
  if (!route.proto.canary().header_pattern().empty()) {
    route.canary_header_pattern = *match::PathRegex::Compile(route.proto.canary().header_pattern(), false);
  }
  return route;
}

bhttp::fields Request(std::initializer_list<std::pair<const char*, const char*>> headers) {
  bhttp::fields fields;
  for (const auto& [name, value] : headers) fields.insert(name, value);
  return fields;
}

constexpr uint32_t kLowDraw = 1;    // below any weight > 0
constexpr uint32_t kHighDraw = 100; // above any weight < 100

TEST(Canary, HeaderAlwaysAndNeverDecideOtherValuesFallThrough) {
  const RouteConfig route = WithRules([](v1::Canary& c) {
    c.set_header("x-canary");
    c.set_weight(50);
  });
  EXPECT_TRUE(WantsCanary(route, Request({{"X-Canary", "always"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(route, Request({{"x-canary", "never"}}), kLowDraw));
  EXPECT_TRUE(WantsCanary(route, Request({{"x-canary", "maybe"}}), kLowDraw));  // the weight decides
  EXPECT_FALSE(WantsCanary(route, Request({{"x-canary", "maybe"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(route, Request({}), 51));
  EXPECT_TRUE(WantsCanary(route, Request({}), 50));
}

TEST(Canary, AHeaderValueOrPatternReplacesAlways) {
  const RouteConfig by_value = WithRules([](v1::Canary& c) {
    c.set_header("x-region");
    c.set_header_value("eu-west");
  });
  EXPECT_TRUE(WantsCanary(by_value, Request({{"x-region", "eu-west"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(by_value, Request({{"x-region", "always"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(by_value, Request({{"x-region", "EU-WEST"}}), kHighDraw));

  const RouteConfig by_pattern = WithRules([](v1::Canary& c) {
    c.set_header("x-user");
    c.set_header_pattern("^(alice|bob)$");
  });
  EXPECT_TRUE(WantsCanary(by_pattern, Request({{"x-user", "bob"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(by_pattern, Request({{"x-user", "bobby"}}), kHighDraw));
}

TEST(Canary, TheCookieComesAfterTheHeader) {
  const RouteConfig route = WithRules([](v1::Canary& c) {
    c.set_header("x-canary");
    c.set_cookie("canary");
  });
  EXPECT_TRUE(WantsCanary(route, Request({{"Cookie", "a=1; canary=always"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(route, Request({{"Cookie", "canary=never"}}), kLowDraw));
  EXPECT_FALSE(WantsCanary(route, Request({{"x-canary", "never"}, {"Cookie", "canary=always"}}), kLowDraw));
  EXPECT_TRUE(WantsCanary(route, Request({{"x-canary", "always"}, {"Cookie", "canary=never"}}), kHighDraw));
  EXPECT_TRUE(WantsCanary(route, Request({{"Cookie", "x=1"}, {"Cookie", "canary=always"}}), kHighDraw));
  EXPECT_FALSE(WantsCanary(route, Request({{"Cookie", "canary=yes"}}), kLowDraw));  // weight 0
}

TEST(Canary, TheDrawCoversItsRange) {
  EXPECT_EQ(CanaryTotal(v1::Canary{}), 100u);
  bool low = false;
  bool high = false;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t draw = DrawCanary(10);
    ASSERT_GE(draw, 1u);
    ASSERT_LE(draw, 10u);
    low = low || draw == 1;
    high = high || draw == 10;
  }
  EXPECT_TRUE(low && high);
}

// A main route on endpoints 1-2 and its canary on endpoints 3-4, both with cookie affinity
// under one cookie name (the default), split by `weight`.
class StickyCanaryTest : public ::testing::Test {
 protected:
  void Split(uint32_t weight, uint32_t total = 0) {
    auto canary_cluster = testing::Cluster({3, 4});
    canary_cluster->name = "default/app-v2:80";
    canary_ = std::make_shared<RouteConfig>(testing::CookieRoute(canary_cluster, v1::Affinity::COOKIE_BALANCED));
    main_ = testing::CookieRoute(testing::Cluster({1, 2}), v1::Affinity::COOKIE_BALANCED);
    main_.canary = canary_;
    main_.proto.mutable_canary()->set_header("x-canary");
    main_.proto.mutable_canary()->set_weight(weight);
    main_.proto.mutable_canary()->set_weight_total(total);
  }
  static bhttp::fields PinnedTo(int endpoint, std::string extra_cookie = {}) {
    const std::string cookie = "PIER_AFFINITY=" + AffinityToken(testing::Endpoint(endpoint).id);
    return Request({{"Cookie", (extra_cookie.empty() ? cookie : extra_cookie + "; " + cookie).c_str()}});
  }
  // How many of `n` decisions for `request` picked the canary.
  int CanaryShare(const bhttp::fields& request, int n = 400) {
    int canary = 0;
    for (int i = 0; i < n; ++i) canary += ChooseCanary(main_, request, balancers_) ? 1 : 0;
    return canary;
  }

  EndpointRegistry registry_;
  BalancerSet balancers_{registry_};
  std::shared_ptr<RouteConfig> canary_;
  RouteConfig main_;
};

TEST_F(StickyCanaryTest, APinnedClientStaysWhereItsCookiePointsWhileTheWeightSplits) {
  Split(50);
  EXPECT_EQ(CanaryShare(PinnedTo(1)), 0);
  EXPECT_EQ(CanaryShare(PinnedTo(2, "theme=dark")), 0);
  EXPECT_EQ(CanaryShare(PinnedTo(4)), 400);
  // No cookie, or one naming an endpoint neither route has (gone since): the weight draws.
  const int fresh = CanaryShare(Request({}));
  EXPECT_GT(fresh, 100);
  EXPECT_LT(fresh, 300);
  const int orphan = CanaryShare(PinnedTo(9));
  EXPECT_GT(orphan, 100);
  EXPECT_LT(orphan, 300);
}

TEST_F(StickyCanaryTest, TheHeaderAndCookieRulesComeBeforeAffinity) {
  Split(50);
  bhttp::fields forced = PinnedTo(1);
  forced.insert("x-canary", "always");
  EXPECT_EQ(CanaryShare(forced), 400);
  bhttp::fields kept = PinnedTo(3);
  kept.insert("x-canary", "never");
  EXPECT_EQ(CanaryShare(kept), 0);
}

TEST_F(StickyCanaryTest, NoneOrAllOfTheWeightMovesPinnedClientsToo) {
  Split(0);
  EXPECT_EQ(CanaryShare(PinnedTo(3)), 0);  // the canary is being rolled back
  Split(100);
  EXPECT_EQ(CanaryShare(PinnedTo(1)), 400);  // everyone is being moved over
  Split(10, 10);
  EXPECT_EQ(CanaryShare(PinnedTo(2)), 400);
  Split(9, 10);
  EXPECT_EQ(CanaryShare(PinnedTo(2)), 0);
}

TEST_F(StickyCanaryTest, ACanaryWithoutAffinityPinsNobody) {
  Split(50);
  canary_->proto.clear_affinity();
  const int share = CanaryShare(PinnedTo(3));
  EXPECT_GT(share, 100);
  EXPECT_LT(share, 300);
  EXPECT_EQ(CanaryShare(PinnedTo(1)), 0);
}

TEST_F(StickyCanaryTest, LegacyBehaviorDrawsForPinnedClientsToo) {
  Split(50);
  main_.proto.mutable_canary()->set_ignore_affinity(true);
  for (int endpoint : {1, 4}) {
    const int share = CanaryShare(PinnedTo(endpoint));
    EXPECT_GT(share, 100) << endpoint;
    EXPECT_LT(share, 300) << endpoint;
  }
  // The header and cookie rules still decide first.
  bhttp::fields forced = PinnedTo(1);
  forced.insert("x-canary", "always");
  EXPECT_EQ(CanaryShare(forced), 400);
}

}  // namespace
}  // namespace pier::dataplane::upstream
