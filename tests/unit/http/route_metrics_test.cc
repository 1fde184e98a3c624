// The per-thread metric children: a route keeps its series, a new route gets its own, and the
// last-series shortcut of CountRequest never counts into the wrong (status, method). And when
// a route's series go: exported once more after the route is gone, then removed, never while a
// connection still uses them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http/proxy_metrics.h"
#include "pier/common/metrics.h"
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

// A scrape as the admin endpoint makes it (every family, then the registry's sweep); the
// lines of `ingress`'s series.
std::string Scrape(const std::string& ingress) {
  std::string lines;
  const std::string text = metrics::Serialize();
  const std::string needle = "ingress=\"" + ingress + "\"";
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) lines += line + "\n";
    start = end + 1;
  }
  return lines;
}

RouteSeries::Key Key(const std::string& ingress) { return {"metrics-test", ingress, "svc"}; }

TEST(RouteSeriesRegistry, ARouteThatIsGoneIsExportedAgainThenRemoved) {
  auto& registry = RouteSeriesRegistry::Get();
  registry.SetConfigured({Key("stays"), Key("goes")});
  {
    RouteMetrics stays("metrics-test", "stays", "svc");
    RouteMetrics goes("metrics-test", "goes", "svc");
    stays.CountRequest(200, Method::kGet);
    goes.CountRequest(200, Method::kGet);
    goes.CountUpstreamError(UpstreamError::kConnectRefused);
  }
  // Released by every thread, but the config still routes by both.
  EXPECT_NE(Scrape("goes"), "");
  registry.SetConfigured({Key("stays")});
  // The first scrape after the route went still shows its last counts...
  const std::string last = Scrape("goes");
  EXPECT_NE(last.find("pier_http_requests_total{code=\"200\",ingress=\"goes\",method=\"GET\",namespace=\"metrics-test\","
                      "service=\"svc\"} 1"),
            std::string::npos)
      << last;
  EXPECT_NE(last.find("reason=\"connect_refused\",service=\"svc\"} 1"), std::string::npos) << last;
  // ...so does the next (the first may have begun before the route went), which removes them
  // once collected: after it, none of them is left (requests, durations, errors, upgrades,
  // messages).
  EXPECT_EQ(Scrape("goes"), last);
  EXPECT_EQ(Scrape("goes"), "");
  EXPECT_NE(Scrape("stays").find("pier_http_requests_total"), std::string::npos);
}

TEST(RouteSeriesRegistry, AConnectionKeepsItsRoutesSeriesUntilItEnds) {
  auto& registry = RouteSeriesRegistry::Get();
  registry.SetConfigured({Key("tunnel")});
  std::optional<RouteMetrics> tunnel;
  tunnel.emplace("metrics-test", "tunnel", "svc");
  tunnel->series().websocket_active.Increment();
  registry.SetConfigured({});  // the Ingress is deleted while the tunnel stays open
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(Scrape("tunnel").find("pier_websocket_connections_active{ingress=\"tunnel\",namespace=\"metrics-test\","
                                    "service=\"svc\"} 1"),
              std::string::npos);
  }
  tunnel->series().websocket_active.Decrement();
  tunnel->series().websocket_duration.Observe(2.0);
  tunnel.reset();  // the tunnel ends
  const std::string last = Scrape("tunnel");
  EXPECT_NE(last.find("pier_websocket_connections_active{ingress=\"tunnel\",namespace=\"metrics-test\",service=\"svc\"} 0"),
            std::string::npos)
      << last;
  EXPECT_NE(last.find("pier_websocket_connection_duration_seconds_count{ingress=\"tunnel\""), std::string::npos) << last;
  Scrape("tunnel");
  EXPECT_EQ(Scrape("tunnel"), "");
}

TEST(RouteSeriesRegistry, ARouteThatComesBackBeforeTheScrapeKeepsItsCounts) {
  auto& registry = RouteSeriesRegistry::Get();
  registry.SetConfigured({Key("back")});
  RouteMetrics("metrics-test", "back", "svc").CountRequest(200, Method::kGet);
  registry.SetConfigured({});
  EXPECT_EQ(registry.retired() > 0, true);
  registry.SetConfigured({Key("back")});  // re-created with the same names
  Scrape("back");
  Scrape("back");
  RouteMetrics("metrics-test", "back", "svc").CountRequest(200, Method::kGet);
  EXPECT_EQ(RequestCount("back", "svc", "200", "GET"), 2);
}

TEST(RouteSeriesRegistry, UnscrapedRetiredSeriesGoAtAConfigChangeAfterTheRetention) {
  auto& registry = RouteSeriesRegistry::Get();
  const auto now = RouteSeriesRegistry::Clock::now();
  registry.SetConfigured({Key("unscraped")}, now);
  RouteMetrics("metrics-test", "unscraped", "svc").CountRequest(200, Method::kGet);
  registry.SetConfigured({}, now);
  EXPECT_EQ(RequestCount("unscraped", "svc", "200", "GET"), 1);  // retired, waiting for a scrape
  registry.SetConfigured({}, now + RouteSeriesRegistry::kRetentionWithoutScrape - std::chrono::seconds(1));
  EXPECT_EQ(RequestCount("unscraped", "svc", "200", "GET"), 1);
  registry.SetConfigured({}, now + RouteSeriesRegistry::kRetentionWithoutScrape);
  EXPECT_EQ(RequestCount("unscraped", "svc", "200", "GET"), 0);
  EXPECT_EQ(registry.retired(), 0u);
}

TEST(RouteMetricsCache, AConfigChangeReleasesTheChildrenOfRoutesThatAreGone) {
  auto& registry = RouteSeriesRegistry::Get();
  registry.SetConfigured({Key("cached-kept")});
  RouteMetricsCache cache;
  auto kept = Route("cached-kept", "svc");
  cache.For(kept).CountRequest(200, Method::kGet);
  {
    auto gone = Route("cached-gone", "svc");
    cache.For(gone).CountRequest(200, Method::kGet);
  }
  EXPECT_EQ(cache.size(), 2u);
  cache.PruneAfterConfigChange();  // no config change since the cache was made: nothing to do
  EXPECT_EQ(cache.size(), 2u);
  registry.SetConfigured({Key("cached-kept")});
  cache.PruneAfterConfigChange();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(Scrape("cached-gone"), "");
  Scrape("cached-gone");
  EXPECT_EQ(Scrape("cached-gone"), "");
  EXPECT_NE(Scrape("cached-kept"), "");
}

// Worker threads making and dropping views of routes while the config changes and scrapes
// sweep: a series is never removed while a view uses it (ASan would see the freed child), and
// once nothing uses or configures them, all of them go.
TEST(RouteSeriesRegistry, ViewsConfigChangesAndScrapesFromManyThreads) {
  auto& registry = RouteSeriesRegistry::Get();
  constexpr int kRoutes = 12;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&stop, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string ingress = "stress-" + std::to_string((i * 7 + t) % kRoutes);
        RouteMetrics view("metrics-test", ingress, "svc");
        view.CountRequest(200 + static_cast<unsigned>(i % 3), Method::kGet);
        view.CountUpgrade(UpgradeResult::kTunnelled);
        view.series().websocket_active.Increment();
        view.series().connect_duration.Observe(0.001);
        view.series().websocket_active.Decrement();
      }
    });
  }
  for (int round = 0; round < 200; ++round) {
    std::set<RouteSeries::Key> configured;
    for (int r = round % 3; r < kRoutes; r += 3) configured.insert(Key("stress-" + std::to_string(r)));
    registry.SetConfigured(std::move(configured));
    metrics::Serialize();
  }
  stop = true;
  for (auto& worker : workers) worker.join();
  registry.SetConfigured({});
  metrics::Serialize();
  metrics::Serialize();
  EXPECT_EQ(Scrape("stress-0") + Scrape("stress-5") + Scrape("stress-11"), "");
}

}  // namespace
}  // namespace pier::dataplane::http
