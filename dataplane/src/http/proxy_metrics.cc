#include "http/proxy_metrics.h"

#include "pier/common/metrics.h"

namespace pier::dataplane::http {

namespace bhttp = boost::beast::http;

namespace {
constexpr std::size_t kInitialPruneThreshold = 64;
}  // namespace

Method MethodOf(bhttp::verb verb) noexcept {
  switch (verb) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::options: return Method::kOptions;
    case bhttp::verb::connect: return Method::kConnect;
    case bhttp::verb::trace: return Method::kTrace;
    default: return Method::kOther;
  }
}

std::string_view MethodName(Method method) noexcept {
  static constexpr std::string_view kNames[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                                "PATCH",   "OPTIONS", "CONNECT", "TRACE", "OTHER"};
  auto index = static_cast<std::size_t>(method);
  return index < std::size(kNames) ? kNames[index] : "OTHER";
}

std::string_view UpstreamErrorName(UpstreamError error) noexcept {
  static constexpr std::string_view kNames[] = {"connect_timeout", "connect_refused", "connect_failed",
                                                "write_failed",    "read_timeout",    "read_failed",
                                                "bad_response",    "invalid_accept"};
  auto index = static_cast<std::size_t>(error);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string_view UpstreamRetryName(UpstreamRetry reason) noexcept {
  static constexpr std::string_view kNames[] = {"stale_connection", "next_endpoint"};
  auto index = static_cast<std::size_t>(reason);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string_view UpgradeResultName(UpgradeResult result) noexcept {
  static constexpr std::string_view kNames[] = {"tunnelled", "disabled", "declined", "invalid_accept", "failed"};
  auto index = static_cast<std::size_t>(result);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string_view RejectionName(Rejection reason) noexcept {
  static constexpr std::string_view kNames[] = {"accept_failed", "draining", "max_connections", "fd_exhausted"};
  auto index = static_cast<std::size_t>(reason);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

const prometheus::Histogram::BucketBoundaries& ProxyMetrics::RequestBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                   0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  return kBuckets;
}

const prometheus::Histogram::BucketBoundaries& ProxyMetrics::ConnectBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                   0.05,   0.1,   0.25,   0.5,   1,    2.5, 5, 10};
  return kBuckets;
}

const prometheus::Histogram::BucketBoundaries& ProxyMetrics::WebSocketDurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {1,    5,    10,    30,    60,    300,  600,
                                                                   1800, 3600, 7200, 14400, 43200, 86400};
  return kBuckets;
}

ProxyMetrics& ProxyMetrics::Get() {
  static ProxyMetrics* metrics = new ProxyMetrics();  // never destroyed: threads may outlive statics
  return *metrics;
}

ProxyMetrics::ProxyMetrics()
    : requests(*metrics::ShardedCounterFamily::Register("pier_http_requests_total",
                                                        "HTTP requests answered, by status code and method.")),
      request_duration(*metrics::ShardedHistogramFamily::Register(
          "pier_http_request_duration_seconds", "Time from the request header to the end of the response.")),
      upstream_connect_duration(prometheus::BuildHistogram()
                                    .Name("pier_upstream_connect_duration_seconds")
                                    .Help("Time to establish a new upstream TCP connection.")
                                    .Register(pier::metrics::Registry())),
      upstream_errors(prometheus::BuildCounter()
                          .Name("pier_upstream_errors_total")
                          .Help("Upstream failures by reason.")
                          .Register(pier::metrics::Registry())),
      upstream_ejections(prometheus::BuildCounter()
                             .Name("pier_upstream_ejections_total")
                             .Help("Upstream endpoints ejected by passive health after a failed connection.")
                             .Register(pier::metrics::Registry())),
      upstream_retries(prometheus::BuildCounter()
                           .Name("pier_upstream_retries_total")
                           .Help("Requests sent to the upstream again, by reason: the reused keep-alive "
                                 "connection had been closed by the upstream, or the connection failed and "
                                 "another endpoint was tried.")
                           .Register(pier::metrics::Registry())),
      websocket_active(prometheus::BuildGauge()
                           .Name("pier_websocket_connections_active")
                           .Help("Open WebSocket tunnels.")
                           .Register(pier::metrics::Registry())),
      websocket_upgrades(prometheus::BuildCounter()
                             .Name("pier_websocket_upgrades_total")
                             .Help("WebSocket upgrade attempts by result.")
                             .Register(pier::metrics::Registry())),
      websocket_duration(prometheus::BuildHistogram()
                             .Name("pier_websocket_connection_duration_seconds")
                             .Help("Lifetime of WebSocket tunnels.")
                             .Register(pier::metrics::Registry())),
      websocket_messages(*metrics::ShardedCounterFamily::Register(
          "pier_websocket_messages_total",
          "WebSocket messages (final data frames) through tunnels, from (in) and to (out) clients.")),
      bytes(*metrics::ShardedCounterFamily::Register("pier_bytes_total",
                                                     "Bytes received from (in) and sent to (out) clients.")),
      bytes_in(bytes.Add({{"direction", "in"}})),
      bytes_out(bytes.Add({{"direction", "out"}})),
      http_connections_active(prometheus::BuildGauge()
                                  .Name("pier_connections_active")
                                  .Help("Open client connections by listener.")
                                  .Register(pier::metrics::Registry())
                                  .Add({{"listener", "http"}})),
      https_connections_active(prometheus::BuildGauge()
                                   .Name("pier_connections_active")
                                   .Help("Open client connections by listener.")
                                   .Register(pier::metrics::Registry())
                                   .Add({{"listener", "https"}})) {
  auto& rejected_family = prometheus::BuildCounter()
                              .Name("pier_connections_rejected_total")
                              .Help("Client connections refused or closed before serving, by reason.")
                              .Register(pier::metrics::Registry());
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    rejected[i] = &rejected_family.Add({{"reason", std::string(RejectionName(static_cast<Rejection>(i)))}});
  }
}

RouteMetrics::RouteMetrics(std::string_view ingress_namespace, std::string_view ingress, std::string_view service)
    : request_duration(ProxyMetrics::Get().request_duration.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)}},
          ProxyMetrics::RequestBuckets())),
      connect_duration(ProxyMetrics::Get().upstream_connect_duration.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)}},
          ProxyMetrics::ConnectBuckets())),
      websocket_active(ProxyMetrics::Get().websocket_active.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)}})),
      websocket_duration(ProxyMetrics::Get().websocket_duration.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)}},
          ProxyMetrics::WebSocketDurationBuckets())),
      websocket_messages_in(ProxyMetrics::Get().websocket_messages.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)},
           {"direction", "in"}})),
      websocket_messages_out(ProxyMetrics::Get().websocket_messages.Add(
          {{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)},
           {"direction", "out"}})),
      labels_{{"namespace", std::string(ingress_namespace)}, {"ingress", std::string(ingress)}, {"service", std::string(service)}} {
  auto& metrics = ProxyMetrics::Get();
  for (std::size_t i = 0; i < upstream_errors_.size(); ++i) {
    auto labels = labels_;
    labels.emplace("reason", std::string(UpstreamErrorName(static_cast<UpstreamError>(i))));
    upstream_errors_[i] = &metrics.upstream_errors.Add(labels);
  }
  for (std::size_t i = 0; i < upgrades_.size(); ++i) {
    auto labels = labels_;
    labels.emplace("result", std::string(UpgradeResultName(static_cast<UpgradeResult>(i))));
    upgrades_[i] = &metrics.websocket_upgrades.Add(labels);
  }
  upstream_ejections_ = &metrics.upstream_ejections.Add(labels_);
  for (std::size_t i = 0; i < upstream_retries_.size(); ++i) {
    auto labels = labels_;
    labels.emplace("reason", std::string(UpstreamRetryName(static_cast<UpstreamRetry>(i))));
    upstream_retries_[i] = &metrics.upstream_retries.Add(labels);
  }
}

void RouteMetrics::CountRequest(unsigned status, Method method) {
  uint32_t key = (status << 4) | static_cast<uint32_t>(method);
  // A route answers mostly one (status, method): the last series used skips the map.
  if (last_request_ == nullptr || key != last_request_key_) {
    auto it = requests_.find(key);
    if (it == requests_.end()) {
      auto labels = labels_;
      labels.emplace("code", std::to_string(status));
      labels.emplace("method", std::string(MethodName(method)));
      it = requests_.emplace(key, &ProxyMetrics::Get().requests.Add(labels)).first;
    }
    last_request_key_ = key;
    last_request_ = it->second;
  }
  last_request_->Increment();
}

RouteMetricsCache::RouteMetricsCache() : prune_at_(kInitialPruneThreshold), unrouted_("", "", "") {}

RouteMetrics& RouteMetricsCache::For(const std::shared_ptr<const RouteConfig>& route) {
  if (!route) return unrouted_;
  auto it = entries_.find(route.get());
  if (it != entries_.end()) {
    // Same control block, same route. Comparing owners touches no reference count, where
    // lock() would increment and decrement one that every worker thread shares, per request.
    // A new route at a recycled address cannot match: the cached weak_ptr keeps the old
    // control block allocated.
    const auto& cached = it->second.route;
    if (!cached.owner_before(route) && !route.owner_before(cached)) return *it->second.metrics;
    entries_.erase(it);
  }
  if (entries_.size() >= prune_at_) Prune();
  auto metrics = std::make_unique<RouteMetrics>(route->ingress_namespace, route->ingress_name, route->service);
  auto& ref = *metrics;
  entries_.emplace(route.get(), Entry{route, std::move(metrics)});
  return ref;
}

void RouteMetricsCache::Prune() {
  std::erase_if(entries_, [](const auto& item) { return item.second.route.expired(); });
  prune_at_ = std::max(kInitialPruneThreshold, entries_.size() * 2);
}

}  // namespace pier::dataplane::http
