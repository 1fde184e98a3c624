#include "http/proxy_metrics.h"

#include <algorithm>
#include <string>
#include <vector>

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
  static constexpr std::string_view kNames[] = {"accept_failed", "draining", "max_connections", "fd_exhausted",
                                                  "proxy_protocol"};
  auto index = static_cast<std::size_t>(reason);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

std::string_view PassthroughResultName(PassthroughResult result) noexcept {
  static constexpr std::string_view kNames[] = {"proxied", "denied", "unavailable", "connect_failed"};
  auto index = static_cast<std::size_t>(result);
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
      upstream_connect_duration(*metrics::PlainHistogramFamily::Register(
          "pier_upstream_connect_duration_seconds", "Time to establish a new upstream TCP connection.")),
      upstream_errors(*metrics::PlainCounterFamily::Register("pier_upstream_errors_total", "Upstream failures by reason.")),
      upstream_ejections(*metrics::PlainCounterFamily::Register(
          "pier_upstream_ejections_total", "Upstream endpoints ejected by passive health after a failed connection.")),
      upstream_retries(*metrics::PlainCounterFamily::Register(
          "pier_upstream_retries_total",
          "Requests sent to the upstream again, by reason: the reused keep-alive connection had been closed by the "
          "upstream, or a try failed as `proxy-next-upstream` lists and another endpoint was tried.")),
      websocket_active(*metrics::PlainGaugeFamily::Register("pier_websocket_connections_active", "Open WebSocket tunnels.")),
      websocket_upgrades(
          *metrics::PlainCounterFamily::Register("pier_websocket_upgrades_total", "WebSocket upgrade attempts by result.")),
      websocket_duration(*metrics::PlainHistogramFamily::Register("pier_websocket_connection_duration_seconds",
                                                                  "Lifetime of WebSocket tunnels.")),
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
                                   .Add({{"listener", "https"}})),
      passthrough_active(prometheus::BuildGauge()
                             .Name("pier_tls_passthrough_connections_active")
                             .Help("Open TLS connections passed through to a backend unread (ssl-passthrough).")
                             .Register(pier::metrics::Registry())
                             .Add({})) {
  auto& rejected_family = prometheus::BuildCounter()
                              .Name("pier_connections_rejected_total")
                              .Help("Client connections refused or closed before serving, by reason.")
                              .Register(pier::metrics::Registry());
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    rejected[i] = &rejected_family.Add({{"reason", std::string(RejectionName(static_cast<Rejection>(i)))}});
  }
  auto& passthrough_family =
      prometheus::BuildCounter()
          .Name("pier_tls_passthrough_connections_total")
          .Help("TLS connections whose ClientHello named an ssl-passthrough host, by result: proxied to an endpoint, "
                "or closed (denied by source ranges, unavailable, connect_failed).")
          .Register(pier::metrics::Registry());
  for (std::size_t i = 0; i < passthrough.size(); ++i) {
    passthrough[i] =
        &passthrough_family.Add({{"result", std::string(PassthroughResultName(static_cast<PassthroughResult>(i)))}});
  }
}

namespace {

prometheus::Labels With(prometheus::Labels labels, const char* name, std::string_view value) {
  labels.emplace(name, std::string(value));
  return labels;
}

prometheus::Labels RequestLabels(const prometheus::Labels& route, uint32_t key) {
  return With(With(route, "code", std::to_string(key >> 4)), "method", MethodName(static_cast<Method>(key & 0xf)));
}

// Runs RouteSeriesRegistry::Sweep at the end of every scrape: registered after every family it
// removes from, so their last values are collected first.
class SweepAfterScrape final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    RouteSeriesRegistry::Get().Sweep();
    return {};
  }
};

}  // namespace

RouteSeries::RouteSeries(Key route_key)
    : key(std::move(route_key)),
      labels{{"namespace", std::get<0>(key)}, {"ingress", std::get<1>(key)}, {"service", std::get<2>(key)}},
      request_duration(ProxyMetrics::Get().request_duration.Add(labels, ProxyMetrics::RequestBuckets())),
      connect_duration(ProxyMetrics::Get().upstream_connect_duration.Add(labels, ProxyMetrics::ConnectBuckets())),
      websocket_active(ProxyMetrics::Get().websocket_active.Add(labels)),
      websocket_duration(
          ProxyMetrics::Get().websocket_duration.Add(labels, ProxyMetrics::WebSocketDurationBuckets())),
      websocket_messages_in(ProxyMetrics::Get().websocket_messages.Add(With(labels, "direction", "in"))),
      websocket_messages_out(ProxyMetrics::Get().websocket_messages.Add(With(labels, "direction", "out"))),
      upstream_ejections(ProxyMetrics::Get().upstream_ejections.Add(labels)) {
  auto& metrics = ProxyMetrics::Get();
  for (std::size_t i = 0; i < upstream_errors.size(); ++i) {
    upstream_errors[i] =
        &metrics.upstream_errors.Add(With(labels, "reason", UpstreamErrorName(static_cast<UpstreamError>(i))));
  }
  for (std::size_t i = 0; i < upgrades.size(); ++i) {
    upgrades[i] = &metrics.websocket_upgrades.Add(With(labels, "result", UpgradeResultName(static_cast<UpgradeResult>(i))));
  }
  for (std::size_t i = 0; i < upstream_retries.size(); ++i) {
    upstream_retries[i] =
        &metrics.upstream_retries.Add(With(labels, "reason", UpstreamRetryName(static_cast<UpstreamRetry>(i))));
  }
}

RouteSeriesRegistry::Handle& RouteSeriesRegistry::Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (series_ != nullptr) RouteSeriesRegistry::Get().Release(*series_);
    series_ = std::exchange(other.series_, nullptr);
  }
  return *this;
}

RouteSeriesRegistry::Handle::~Handle() {
  if (series_ != nullptr) RouteSeriesRegistry::Get().Release(*series_);
}

RouteSeriesRegistry& RouteSeriesRegistry::Get() {
  static RouteSeriesRegistry* registry = [] {
    ProxyMetrics::Get();  // its families first: the sweep must come after their collection
    metrics::AddCollectable(std::make_shared<SweepAfterScrape>());
    return new RouteSeriesRegistry();  // never destroyed: threads may outlive statics
  }();
  return *registry;
}

RouteSeriesRegistry::Handle RouteSeriesRegistry::Acquire(std::string_view ingress_namespace, std::string_view ingress,
                                                         std::string_view service) {
  RouteSeries::Key key{std::string(ingress_namespace), std::string(ingress), std::string(service)};
  std::lock_guard lock(mutex_);
  auto& series = series_[key];
  if (!series) {
    series = std::make_unique<RouteSeries>(key);
    series->configured = configured_.contains(key);
  }
  ++series->users;
  series->retired = false;
  return Handle(series.get());
}

metrics::ShardedCounter& RouteSeriesRegistry::Request(RouteSeries& series, unsigned status, Method method) {
  const uint32_t key = (status << 4) | static_cast<uint32_t>(method);
  std::lock_guard lock(mutex_);
  auto& counter = series.requests[key];
  if (counter == nullptr) counter = &ProxyMetrics::Get().requests.Add(RequestLabels(series.labels, key));
  return *counter;
}

void RouteSeriesRegistry::Release(RouteSeries& series) {
  std::lock_guard lock(mutex_);
  if (--series.users == 0 && !series.configured) RetireLocked(series, Clock::now());
}

void RouteSeriesRegistry::SetConfigured(std::set<RouteSeries::Key> keys, Clock::time_point now) {
  {
    std::lock_guard lock(mutex_);
    configured_ = std::move(keys);
    for (auto it = series_.begin(); it != series_.end();) {
      RouteSeries& series = *it->second;
      series.configured = configured_.contains(series.key);
      if (series.configured) {
        series.retired = false;
      } else if (series.users == 0) {
        if (!series.retired) RetireLocked(series, now);
        if (now - series.retired_since >= kRetentionWithoutScrape) {
          RemoveLocked(series);
          it = series_.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  generation_.fetch_add(1, std::memory_order_release);
}

void RouteSeriesRegistry::SetConfiguredFrom(const Config& config) {
  std::set<RouteSeries::Key> keys;
  config.ForEachRoute([&keys](const RouteConfig& route) {
    keys.emplace(route.ingress_namespace, route.ingress_name, route.service);
  });
  SetConfigured(std::move(keys));
}

void RouteSeriesRegistry::Sweep() {
  std::lock_guard lock(mutex_);
  for (auto it = series_.begin(); it != series_.end();) {
    // Retired before the previous sweep ended: this scrape began after the retirement.
    if (it->second->retired && it->second->retired_at_sweep < sweeps_) {
      RemoveLocked(*it->second);
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  ++sweeps_;
}

std::size_t RouteSeriesRegistry::size() const {
  std::lock_guard lock(mutex_);
  return series_.size();
}

std::size_t RouteSeriesRegistry::retired() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(series_.begin(), series_.end(), [](const auto& item) { return item.second->retired; }));
}

void RouteSeriesRegistry::RetireLocked(RouteSeries& series, Clock::time_point now) {
  series.retired = true;
  series.retired_at_sweep = sweeps_;
  series.retired_since = now;
}

void RouteSeriesRegistry::RemoveLocked(RouteSeries& series) {
  auto& metrics = ProxyMetrics::Get();
  const auto& labels = series.labels;
  for (const auto& [key, counter] : series.requests) metrics.requests.Remove(RequestLabels(labels, key));
  metrics.request_duration.Remove(labels);
  metrics.upstream_connect_duration.Remove(labels);
  metrics.websocket_active.Remove(labels);
  metrics.websocket_duration.Remove(labels);
  metrics.websocket_messages.Remove(With(labels, "direction", "in"));
  metrics.websocket_messages.Remove(With(labels, "direction", "out"));
  metrics.upstream_ejections.Remove(labels);
  for (std::size_t i = 0; i < series.upstream_errors.size(); ++i) {
    metrics.upstream_errors.Remove(With(labels, "reason", UpstreamErrorName(static_cast<UpstreamError>(i))));
  }
  for (std::size_t i = 0; i < series.upgrades.size(); ++i) {
    metrics.websocket_upgrades.Remove(With(labels, "result", UpgradeResultName(static_cast<UpgradeResult>(i))));
  }
  for (std::size_t i = 0; i < series.upstream_retries.size(); ++i) {
    metrics.upstream_retries.Remove(With(labels, "reason", UpstreamRetryName(static_cast<UpstreamRetry>(i))));
  }
}

RouteMetrics::RouteMetrics(std::string_view ingress_namespace, std::string_view ingress, std::string_view service)
    : series_(RouteSeriesRegistry::Get().Acquire(ingress_namespace, ingress, service)) {}

void RouteMetrics::CountRequest(unsigned status, Method method) {
  uint32_t key = (status << 4) | static_cast<uint32_t>(method);
  // A route answers mostly one (status, method): the last series used skips the map.
  if (last_request_ == nullptr || key != last_request_key_) {
    auto it = requests_.find(key);
    if (it == requests_.end()) {
      it = requests_.emplace(key, &RouteSeriesRegistry::Get().Request(*series_, status, method)).first;
    }
    last_request_key_ = key;
    last_request_ = it->second;
  }
  last_request_->Increment();
}

RouteMetricsCache::RouteMetricsCache()
    : registry_(RouteSeriesRegistry::Get()),
      prune_at_(kInitialPruneThreshold),
      pruned_generation_(registry_.generation()),
      unrouted_("", "", "") {}

RouteMetrics& RouteMetricsCache::For(const std::shared_ptr<const RouteConfig>& route) {
  if (!route) return unrouted_;
  PruneAfterConfigChange();
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
  pruned_generation_ = registry_.generation();
  std::erase_if(entries_, [](const auto& item) { return item.second.route.expired(); });
  prune_at_ = std::max(kInitialPruneThreshold, entries_.size() * 2);
}

}  // namespace pier::dataplane::http
