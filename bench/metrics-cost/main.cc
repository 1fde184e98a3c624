// pier-metrics-cost [--iterations N] [--json]: drives exactly the metric updates an HTTP session
// makes per request (http_session.cc FinishExchange, plus the route's cache lookup) and a tunnel
// makes per message (tunnel.cc Follow and OnWrite), on 1 and 2 threads sharing one route as the
// dataplane's workers do, and prints nanoseconds per request and per message.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/proxy_metrics.h"
#include "routing/config.h"

namespace {

using Clock = std::chrono::steady_clock;
using pier::dataplane::RouteConfig;
using pier::dataplane::http::Method;
using pier::dataplane::http::ProxyMetrics;
using pier::dataplane::http::RouteMetricsCache;

constexpr uint64_t kRequestBytesIn = 80;    // a small GET
constexpr uint64_t kRequestBytesOut = 120;  // a small 200
constexpr uint64_t kMessageBytes = 70;      // a 64-byte payload in one masked frame

// One request's worth, in the order FinishExchange does it.
void OneRequest(RouteMetricsCache& cache, const std::shared_ptr<const RouteConfig>& route, Clock::time_point started) {
  auto& metrics = cache.For(route);
  auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  metrics.CountRequest(200, Method::kGet);
  metrics.series().request_duration.Observe(elapsed);
  auto& totals = ProxyMetrics::Get();
  totals.bytes_in.Increment(kRequestBytesIn);
  totals.bytes_out.Increment(kRequestBytesOut);
}

// One message through a tunnel: counted when its final frame is parsed, then its bytes written.
void OneMessage(pier::metrics::ShardedCounterFamily::Child& messages, pier::metrics::ShardedCounterFamily::Child& bytes) {
  messages.Increment(1);
  bytes.Increment(kMessageBytes);
}

struct Cost {
  double ns_per_request = 0;
  double ns_per_message = 0;
};

// Every thread runs `iterations` of each; the cost is wall time per operation per thread, so
// on 2 threads contention on shared series shows up as a higher figure.
Cost Measure(unsigned threads, uint64_t iterations, const std::shared_ptr<const RouteConfig>& route) {
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> request_ns(threads), message_ns(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      RouteMetricsCache cache;
      auto& route_metrics = cache.For(route);
      ++ready;
      while (!go.load()) std::this_thread::yield();
      auto started = Clock::now();
      for (uint64_t i = 0; i < iterations; ++i) OneRequest(cache, route, started);
      auto middle = Clock::now();
      for (uint64_t i = 0; i < iterations; ++i) {
        // An echo is one message in each direction.
        if (i & 1) {
          OneMessage(route_metrics.series().websocket_messages_out, ProxyMetrics::Get().bytes_out);
        } else {
          OneMessage(route_metrics.series().websocket_messages_in, ProxyMetrics::Get().bytes_in);
        }
      }
      auto finished = Clock::now();
      request_ns[t] = std::chrono::duration<double, std::nano>(middle - started).count() / static_cast<double>(iterations);
      message_ns[t] = std::chrono::duration<double, std::nano>(finished - middle).count() / static_cast<double>(iterations);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go = true;
  for (auto& worker : workers) worker.join();
  Cost cost;
  for (unsigned t = 0; t < threads; ++t) {
    cost.ns_per_request += request_ns[t] / threads;
    cost.ns_per_message += message_ns[t] / threads;
  }
  return cost;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t iterations = 2'000'000;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: pier-metrics-cost [--iterations N] [--json]\n");
      return 2;
    }
  }
  if (iterations == 0) iterations = 1;
  auto route = std::make_shared<RouteConfig>();
  route->ingress_namespace = "default";
  route->ingress_name = "bench";
  route->service = "backend";
  std::shared_ptr<const RouteConfig> shared_route = route;

  Measure(1, iterations / 10 + 1, shared_route);  // warm up: series created, caches hot
  nlohmann::json report = nlohmann::json::array();
  for (unsigned threads : {1u, 2u}) {
    auto cost = Measure(threads, iterations, shared_route);
    report.push_back({{"threads", threads}, {"ns_per_request", cost.ns_per_request}, {"ns_per_message", cost.ns_per_message}});
    if (!json) {
      std::printf("%u thread(s): %.1f ns per request, %.1f ns per message\n", threads, cost.ns_per_request,
                  cost.ns_per_message);
    }
  }
  if (json) std::printf("%s\n", report.dump().c_str());
  return 0;
}
