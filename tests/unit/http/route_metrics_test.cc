// The per-thread metric children: a route keeps its series, a new route gets its own, and the
// last-series shortcut of CountRequest never counts into the wrong (status, method).
#include <gtest/gtest.h>

#include <memory>

#include "http/proxy_metrics.h"
#include "routing/config.h"

namespace pier::dataplane::http {
namespace {

std::shared_ptr<const RouteConfig> Route(const char* ingress, const char* service) {
  auto route = std::make_shared<RouteConfig>();
  route->ingress_namespace = "metrics-test";
  route->ingress_name = ingress;
  route->service = service;
  return route;
}

double RequestCount(const char* ingress, const char* service, const char* code, const char* method) {
  for (const auto& family : ProxyMetrics::Get().requests.Collect()) {
    for (const auto& metric : family.metric) {
      int matched = 0;
      for (const auto& label : metric.label) {
        if ((label.name == "namespace" && label.value == "metrics-test") ||
            (label.name == "ingress" && label.value == ingress) || (label.name == "service" && label.value == service) ||
            (label.name == "code" && label.value == code) || (label.name == "method" && label.value == method)) {
          ++matched;
        }
      }
      if (matched == 5) return metric.counter.value;
    }
  }
  return 0;
}

TEST(RouteMetricsCache, ARouteKeepsItsChildren) {
  RouteMetricsCache cache;
  auto route = Route("keep", "svc");
  EXPECT_EQ(&cache.For(route), &cache.For(route));
  auto copy = route;  // another owner of the same route
  EXPECT_EQ(&cache.For(route), &cache.For(copy));
}

TEST(RouteMetricsCache, ANewRouteNeverInheritsAnOldOnesLabels) {
  RouteMetricsCache cache;
  cache.For(Route("old", "svc")).CountRequest(200, Method::kGet);
  // The old route is gone; whatever address the new one gets, its requests are its own.
  for (int i = 0; i < 100; ++i) {
    auto fresh = Route("fresh", "svc");
    cache.For(fresh).CountRequest(200, Method::kGet);
  }
  EXPECT_EQ(RequestCount("old", "svc", "200", "GET"), 1);
  EXPECT_EQ(RequestCount("fresh", "svc", "200", "GET"), 100);
}

TEST(RouteMetrics, AlternatingStatusesCountIntoTheirOwnSeries) {
  RouteMetrics metrics("metrics-test", "alternate", "svc");
  for (int i = 0; i < 3; ++i) {
    metrics.CountRequest(200, Method::kGet);
    metrics.CountRequest(404, Method::kGet);
    metrics.CountRequest(200, Method::kPost);
  }
  metrics.CountRequest(200, Method::kGet);
  EXPECT_EQ(RequestCount("alternate", "svc", "200", "GET"), 4);
  EXPECT_EQ(RequestCount("alternate", "svc", "404", "GET"), 3);
  EXPECT_EQ(RequestCount("alternate", "svc", "200", "POST"), 3);
}

}  // namespace
}  // namespace pier::dataplane::http
