// The limits' own metrics, declared in one place: refusals by reason (children of the shared
// pier_connections_rejected_total family) and how much the limit tables hold right now.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pier::dataplane::limits {

// Why admission refused a request; the names are the metric's reason label values.
enum class RefusalReason : uint8_t {
  kDeniedSource,      // allowlist-/denylist-source-range: 403
  kOriginNotAllowed,  // websocket-allowed-origins: 403
  kLimitConnections,  // limit-connections: 429
  kMaxConnections,    // max-connections: 429
  kRateLimited,       // limit-rps / limit-rpm: 429 + Retry-After
  kCount
};
std::string_view RefusalReasonName(RefusalReason reason) noexcept;

class LimitMetrics final {
 public:
  // Registered on pier::metrics::Registry() on first use; never destroyed.
  static LimitMetrics& Get();

  void CountRefusal(RefusalReason reason) { refused_[static_cast<std::size_t>(reason)]->Increment(); }

  // Requests and tunnels holding a limit-connections / max-connections count.
  prometheus::Gauge& connections_counted;
  // Entries in the (route, client) and route connection tables, and rate buckets.
  prometheus::Gauge& connection_entries;
  prometheus::Gauge& rate_buckets;

 private:
  LimitMetrics();
  std::array<prometheus::Counter*, static_cast<std::size_t>(RefusalReason::kCount)> refused_{};
};

}  // namespace pier::dataplane::limits
