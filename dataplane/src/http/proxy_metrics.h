// Every metric of the data path, declared in one place (names are a contract, see DESIGN.md).
// Families are registered once per process; per-route children are looked up once per thread
// and route (RouteMetricsCache) so a request only increments pointers it already holds. A
// route's series go when the route does (RouteSeriesRegistry).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <boost/beast/http/verb.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "pier/common/sharded_metrics.h"
#include "routing/config.h"

namespace pier::dataplane::http {

// A bounded label set for the method: a client cannot create series by inventing verbs.
enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kConnect, kTrace, kOther, kCount };
Method MethodOf(boost::beast::http::verb verb) noexcept;
std::string_view MethodName(Method method) noexcept;

enum class UpstreamError : uint8_t {
  kConnectTimeout,
  kConnectRefused,
  kConnectFailed,
  kWriteFailed,
  kReadTimeout,
  kReadFailed,  // reset or closed before a complete response
  kBadResponse,
  kInvalidAccept,
  kCount
};
std::string_view UpstreamErrorName(UpstreamError error) noexcept;

enum class UpstreamRetry : uint8_t {
  kStaleConnection,  // a reused keep-alive connection the upstream had closed: sent on a new one
  kNextEndpoint,     // a try failed as proxy-next-upstream names: sent to another endpoint
  kCount
};
std::string_view UpstreamRetryName(UpstreamRetry reason) noexcept;

enum class UpgradeResult : uint8_t {
  kTunnelled,      // 101 with a valid accept: the tunnel is open
  kDisabled,       // refused by the route (403, or 429 from its limits)
  kDeclined,       // the upstream answered something other than 101 (relayed as is)
  kInvalidAccept,  // 101 with a wrong Sec-WebSocket-Accept (502)
  kFailed,         // no upstream, connect or I/O error
  kCount
};
std::string_view UpgradeResultName(UpgradeResult result) noexcept;

enum class Rejection : uint8_t {
  kAcceptFailed,
  kDraining,
  kMaxConnections,  // --max-connections reached: closed at accept
  kFdExhausted,     // accept failed with EMFILE/ENFILE: accepting pauses briefly
  kProxyProtocol,   // --proxy-protocol: no valid PROXY header, or none in time: closed
  kCount
};
std::string_view RejectionName(Rejection reason) noexcept;

// What became of a TLS connection passed through unread (ssl-passthrough).
enum class PassthroughResult : uint8_t {
  kProxied,        // connected to an endpoint: its bytes went there
  kDenied,         // the route's source ranges do not admit the client: closed
  kUnavailable,    // the route has no endpoint (no Service, none ready, failed closed): closed
  kConnectFailed,  // no endpoint could be connected within the route's tries: closed
  kCount
};
std::string_view PassthroughResultName(PassthroughResult result) noexcept;

// The process-wide families, registered on pier::metrics::Registry() on first use.
class ProxyMetrics final {
 public:
  static ProxyMetrics& Get();

  // The counters and the histogram every request or message updates are sharded per thread
  // (see pier/common/sharded_metrics.h). The other per-route families are plain series of the
  // same file, which can be removed when their route goes; the rest are prometheus-cpp's.
  metrics::ShardedCounterFamily& requests;
  metrics::ShardedHistogramFamily& request_duration;
  metrics::PlainHistogramFamily& upstream_connect_duration;
  metrics::PlainCounterFamily& upstream_errors;
  // Not in DESIGN.md's list (an addition, documented in docs/load-balancing.md): endpoints
  // ejected by passive health after a failed connection.
  metrics::PlainCounterFamily& upstream_ejections;
  // Also an addition (docs/load-balancing.md): requests sent to the upstream again, by reason.
  // A stale keep-alive connection is not an upstream error (the request is answered all the
  // same), so without this it would be invisible.
  metrics::PlainCounterFamily& upstream_retries;
  metrics::PlainGaugeFamily& websocket_active;
  metrics::PlainCounterFamily& websocket_upgrades;
  metrics::PlainHistogramFamily& websocket_duration;
  // Messages through tunnels: "in" from clients, "out" to clients, as pier_bytes_total.
  metrics::ShardedCounterFamily& websocket_messages;

  // Bytes received from clients ("in") and sent to clients ("out"), HTTP and tunnels alike.
  metrics::ShardedCounterFamily& bytes;
  metrics::ShardedCounterFamily::Child& bytes_in;
  metrics::ShardedCounterFamily::Child& bytes_out;
  prometheus::Gauge& http_connections_active;
  prometheus::Gauge& https_connections_active;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Rejection::kCount)> rejected{};
  // ssl-passthrough: connections by result, and those open now (not per route: the route's
  // upstream series count its connect failures, retries and ejections).
  std::array<prometheus::Counter*, static_cast<std::size_t>(PassthroughResult::kCount)> passthrough{};
  prometheus::Gauge& passthrough_active;

  static const prometheus::Histogram::BucketBoundaries& RequestBuckets();
  static const prometheus::Histogram::BucketBoundaries& ConnectBuckets();
  static const prometheus::Histogram::BucketBoundaries& WebSocketDurationBuckets();

 private:
  ProxyMetrics();
};

// Every series labelled with one (namespace, ingress, service), shared by all threads and by
// every snapshot that routes by those labels. Made with the first request such a route serves.
struct RouteSeries {
  using Key = std::tuple<std::string, std::string, std::string>;  // namespace, ingress, service
  explicit RouteSeries(Key key);

  const Key key;
  const prometheus::Labels labels;
  metrics::ShardedHistogram& request_duration;
  metrics::PlainHistogram& connect_duration;
  metrics::PlainGauge& websocket_active;
  metrics::PlainHistogram& websocket_duration;
  metrics::ShardedCounter& websocket_messages_in;
  metrics::ShardedCounter& websocket_messages_out;
  metrics::PlainCounter& upstream_ejections;
  std::array<metrics::PlainCounter*, static_cast<std::size_t>(UpstreamError::kCount)> upstream_errors{};
  std::array<metrics::PlainCounter*, static_cast<std::size_t>(UpgradeResult::kCount)> upgrades{};
  std::array<metrics::PlainCounter*, static_cast<std::size_t>(UpstreamRetry::kCount)> upstream_retries{};

 private:
  friend class RouteSeriesRegistry;
  // The registry's bookkeeping, under its lock.
  std::map<uint32_t, metrics::ShardedCounter*> requests;  // by (status << 4 | method)
  std::size_t users = 0;                                  // RouteMetrics holding a Handle
  bool configured = false;                                // the applied config routes by these labels
  bool retired = false;                                   // neither: removed by a later scrape
  uint64_t retired_at_sweep = 0;
  std::chrono::steady_clock::time_point retired_since{};
};

// When a route's series go. They stay while the applied config has a route with their labels
// or a thread still uses them (a RouteMetrics: held by its thread's cache while the route
// object lives, i.e. while a config or a request or tunnel in flight holds it). After that they
// are retired: the second scrape after the retirement removes them once it has collected them,
// so at least one scrape that began after the retirement exported their last values, and then
// Prometheus sees no stale series. Without scrapes they are removed at the first config change
// kRetentionWithoutScrape after the retirement.
class RouteSeriesRegistry final {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kRetentionWithoutScrape{5};

  // A thread's claim on one RouteSeries; releases it when destroyed.
  class Handle final {
   public:
    Handle() = default;
    Handle(Handle&& other) noexcept : series_(std::exchange(other.series_, nullptr)) {}
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle();
    RouteSeries& operator*() const noexcept { return *series_; }
    RouteSeries* operator->() const noexcept { return series_; }

   private:
    friend class RouteSeriesRegistry;
    explicit Handle(RouteSeries* series) : series_(series) {}
    RouteSeries* series_ = nullptr;
  };

  // The process-wide registry; its scrape hook is registered after ProxyMetrics' families.
  static RouteSeriesRegistry& Get();

  Handle Acquire(std::string_view ingress_namespace, std::string_view ingress, std::string_view service);
  // The request counter of `series` for (status, method), made on first use.
  metrics::ShardedCounter& Request(RouteSeries& series, unsigned status, Method method);
  // After a snapshot is applied: the labels its routes carry. Series of other labels that no
  // thread uses are retired; retired series of these labels are kept again.
  void SetConfigured(std::set<RouteSeries::Key> keys, Clock::time_point now = Clock::now());
  // The same with the labels of every route of `config`.
  void SetConfiguredFrom(const Config& config);
  // At the end of a scrape (every family collected): removes what was retired before the
  // previous scrape's sweep.
  void Sweep();
  // Label sets with series, and how many of them are retired.
  std::size_t size() const;
  std::size_t retired() const;
  // Changes whenever SetConfigured runs: threads prune their RouteMetricsCache when it moved.
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  RouteSeriesRegistry() = default;
  void Release(RouteSeries& series);
  void RetireLocked(RouteSeries& series, Clock::time_point now);
  void RemoveLocked(RouteSeries& series);

  mutable std::mutex mutex_;
  std::map<RouteSeries::Key, std::unique_ptr<RouteSeries>> series_;
  std::set<RouteSeries::Key> configured_;
  uint64_t sweeps_ = 0;  // scrapes completed
  std::atomic<uint64_t> generation_{0};
};

// One route's children, as seen by one thread. Requests by (status, method) are added lazily
// (status codes come from upstreams); everything else is resolved up front.
class RouteMetrics final {
 public:
  RouteMetrics(std::string_view ingress_namespace, std::string_view ingress, std::string_view service);

  void CountRequest(unsigned status, Method method);
  void CountUpstreamError(UpstreamError error) { series_->upstream_errors[static_cast<std::size_t>(error)]->Increment(); }
  void CountUpgrade(UpgradeResult result) { series_->upgrades[static_cast<std::size_t>(result)]->Increment(); }
  void CountEjection() { series_->upstream_ejections.Increment(); }
  void CountRetry(UpstreamRetry reason) { series_->upstream_retries[static_cast<std::size_t>(reason)]->Increment(); }

  // Durations, open tunnels and messages, for the callers to update directly.
  RouteSeries& series() const noexcept { return *series_; }

 private:
  RouteSeriesRegistry::Handle series_;
  std::unordered_map<uint32_t, metrics::ShardedCounter*> requests_;
  uint32_t last_request_key_ = 0;
  metrics::ShardedCounter* last_request_ = nullptr;
};

// Per-thread map route -> RouteMetrics. Entries are keyed by the RouteConfig's address and
// checked against a weak_ptr, so a new route reusing freed memory never inherits old labels;
// dead entries are pruned as the map grows, at the first request after a config change, and
// by the worker's housekeeping timer (a tunnel that ends after its route was deleted), which
// releases their series.
class RouteMetricsCache final {
 public:
  RouteMetricsCache();
  // `route` may be null (no route matched): the series with empty route labels.
  RouteMetrics& For(const std::shared_ptr<const RouteConfig>& route);
  // Drops the entries of routes nothing holds any more, which releases their series.
  void Prune();
  // Prunes when the config changed since the last prune.
  void PruneAfterConfigChange() {
    if (registry_.generation() != pruned_generation_) Prune();
  }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::weak_ptr<const RouteConfig> route;
    std::unique_ptr<RouteMetrics> metrics;
  };

  RouteSeriesRegistry& registry_;
  std::unordered_map<const RouteConfig*, Entry> entries_;
  std::size_t prune_at_;
  uint64_t pruned_generation_ = 0;
  RouteMetrics unrouted_;
};

}  // namespace pier::dataplane::http
