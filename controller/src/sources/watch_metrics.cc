#include "sources/watch_metrics.h"

#include "pier/common/metrics.h"

namespace pier::sources {
namespace {

constexpr model::Kind kAllKinds[] = {model::Kind::kIngress, model::Kind::kIngressClass, model::Kind::kService,
                                     model::Kind::kEndpointSlice, model::Kind::kSecret};
constexpr const char* kTypeNames[] = {"ADDED", "MODIFIED", "DELETED"};

}  // namespace

WatchMetrics& WatchMetrics::Get() {
  static WatchMetrics metrics;
  return metrics;
}

WatchMetrics::WatchMetrics() {
  static_assert(std::size(kAllKinds) == kKinds && std::size(kTypeNames) == kTypes);
  auto& events = prometheus::BuildCounter()
                     .Name("pier_controller_watch_events_total")
                     .Help("Watch events received, by object kind and event type.")
                     .Register(metrics::Registry());
  for (model::Kind kind : kAllKinds) {
    for (std::size_t type = 0; type < kTypes; ++type) {
      events_[static_cast<std::size_t>(kind)][type] =
          &events.Add({{"kind", model::KindName(kind)}, {"type", kTypeNames[type]}});
    }
  }
}

void WatchMetrics::CountEvent(model::Kind kind, WatchEventType type) noexcept {
  events_[static_cast<std::size_t>(kind)][static_cast<std::size_t>(type)]->Increment();
}

}  // namespace pier::sources
