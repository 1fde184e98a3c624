// Every metric of the data path, declared in one place (names are a contract, see DESIGN.md).
// Families are registered once per process; per-route children are looked up once per thread
// and route (RouteMetricsCache) so a request only increments pointers it already holds.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <boost/beast/http/verb.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>

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
  kNextEndpoint,     // the connection failed: sent to another endpoint
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
  kCount
};
std::string_view RejectionName(Rejection reason) noexcept;

// The process-wide families, registered on pier::metrics::Registry() on first use.
class ProxyMetrics final {
 public:
  static ProxyMetrics& Get();

  // The counters and the histogram every request or message updates are sharded per thread
  // (see pier/common/sharded_metrics.h); the rest are prometheus-cpp's.
  metrics::ShardedCounterFamily& requests;
  metrics::ShardedHistogramFamily& request_duration;
  prometheus::Family<prometheus::Histogram>& upstream_connect_duration;
  prometheus::Family<prometheus::Counter>& upstream_errors;
  // Not in DESIGN.md's list (an addition, documented in docs/load-balancing.md): endpoints
  // ejected by passive health after a failed connection.
  prometheus::Family<prometheus::Counter>& upstream_ejections;
  // Also an addition (docs/load-balancing.md): requests sent to the upstream again, by reason.
  // A stale keep-alive connection is not an upstream error (the request is answered all the
  // same), so without this it would be invisible.
  prometheus::Family<prometheus::Counter>& upstream_retries;
  prometheus::Family<prometheus::Gauge>& websocket_active;
  prometheus::Family<prometheus::Counter>& websocket_upgrades;
  prometheus::Family<prometheus::Histogram>& websocket_duration;
  // Messages through tunnels: "in" from clients, "out" to clients, as pier_bytes_total.
  metrics::ShardedCounterFamily& websocket_messages;

  // Bytes received from clients ("in") and sent to clients ("out"), HTTP and tunnels alike.
  metrics::ShardedCounterFamily& bytes;
  metrics::ShardedCounterFamily::Child& bytes_in;
  metrics::ShardedCounterFamily::Child& bytes_out;
  prometheus::Gauge& http_connections_active;
  prometheus::Gauge& https_connections_active;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Rejection::kCount)> rejected{};

  static const prometheus::Histogram::BucketBoundaries& RequestBuckets();
  static const prometheus::Histogram::BucketBoundaries& ConnectBuckets();
  static const prometheus::Histogram::BucketBoundaries& WebSocketDurationBuckets();

 private:
  ProxyMetrics();
};

// One route's children, as seen by one thread. Requests by (status, method) are added lazily
// (status codes come from upstreams); everything else is resolved up front.
class RouteMetrics final {
 public:
  RouteMetrics(std::string_view ingress_namespace, std::string_view ingress, std::string_view service);

  void CountRequest(unsigned status, Method method);
  void CountUpstreamError(UpstreamError error) { upstream_errors_[static_cast<std::size_t>(error)]->Increment(); }
  void CountUpgrade(UpgradeResult result) { upgrades_[static_cast<std::size_t>(result)]->Increment(); }
  void CountEjection() { upstream_ejections_->Increment(); }
  void CountRetry(UpstreamRetry reason) { upstream_retries_[static_cast<std::size_t>(reason)]->Increment(); }

  metrics::ShardedHistogramFamily::Child& request_duration;
  prometheus::Histogram& connect_duration;
  prometheus::Gauge& websocket_active;
  prometheus::Histogram& websocket_duration;
  metrics::ShardedCounterFamily::Child& websocket_messages_in;
  metrics::ShardedCounterFamily::Child& websocket_messages_out;

 private:
  prometheus::Labels labels_;
  std::unordered_map<uint32_t, metrics::ShardedCounterFamily::Child*> requests_;
  uint32_t last_request_key_ = 0;
  metrics::ShardedCounterFamily::Child* last_request_ = nullptr;
  std::array<prometheus::Counter*, static_cast<std::size_t>(UpstreamError::kCount)> upstream_errors_{};
  std::array<prometheus::Counter*, static_cast<std::size_t>(UpgradeResult::kCount)> upgrades_{};
  prometheus::Counter* upstream_ejections_ = nullptr;
  std::array<prometheus::Counter*, static_cast<std::size_t>(UpstreamRetry::kCount)> upstream_retries_{};
};

// Per-thread map route -> RouteMetrics. Entries are keyed by the RouteConfig's address and
// checked against a weak_ptr, so a new route reusing freed memory never inherits old labels;
// dead entries are pruned as the map grows.
class RouteMetricsCache final {
 public:
  RouteMetricsCache();
  // `route` may be null (no route matched): the series with empty route labels.
  RouteMetrics& For(const std::shared_ptr<const RouteConfig>& route);

 private:
  struct Entry {
    std::weak_ptr<const RouteConfig> route;
    std::unique_ptr<RouteMetrics> metrics;
  };
  void Prune();

  std::unordered_map<const RouteConfig*, Entry> entries_;
  std::size_t prune_at_;
  RouteMetrics unrouted_;
};

}  // namespace pier::dataplane::http
