#include "upstream/canary.h"

#include <gtest/gtest.h>

#include <functional>

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

}  // namespace
}  // namespace pier::dataplane::upstream
