#include "limits/limit_metrics.h"

#include <prometheus/family.h>

#include <string>

#include "pier/common/metrics.h"

namespace pier::dataplane::limits {

namespace {

prometheus::Family<prometheus::Gauge>& EntriesFamily() {
  return prometheus::BuildGauge()
      .Name("pier_limit_entries")
      .Help("Entries held by the limit tables (per-client and per-route connection counts, rate buckets).")
      .Register(pier::metrics::Registry());
}

}  // namespace

std::string_view RefusalReasonName(RefusalReason reason) noexcept {
  static constexpr std::string_view kNames[] = {"denied_source", "origin_not_allowed", "limit_connections",
                                                "max_connections", "rate_limited"};
  const auto index = static_cast<std::size_t>(reason);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

LimitMetrics& LimitMetrics::Get() {
  static LimitMetrics* metrics = new LimitMetrics();  // never destroyed: threads may outlive statics
  return *metrics;
}

LimitMetrics::LimitMetrics()
    : connections_counted(prometheus::BuildGauge()
                              .Name("pier_limit_connections_active")
                              .Help("Requests and WebSocket tunnels counted by limit-connections or max-connections.")
                              .Register(pier::metrics::Registry())
                              .Add({})),
      connection_entries(EntriesFamily().Add({{"table", "connections"}})),
      rate_buckets(EntriesFamily().Add({{"table", "rate"}})) {
  // The same family the listener counts its refusals in (the registry merges by name): one
  // pier_connections_rejected_total for every reason.
  auto& rejected = prometheus::BuildCounter()
                       .Name("pier_connections_rejected_total")
                       .Help("Client connections refused or closed before serving, by reason.")
                       .Register(pier::metrics::Registry());
  for (std::size_t i = 0; i < refused_.size(); ++i) {
    refused_[i] = &rejected.Add({{"reason", std::string(RefusalReasonName(static_cast<RefusalReason>(i)))}});
  }
}

}  // namespace pier::dataplane::limits
