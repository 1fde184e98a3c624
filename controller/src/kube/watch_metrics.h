// The controller's list/watch metrics (names fixed by DESIGN.md) on the process registry. The
// manifests source registers pier_controller_watch_events_total too (sources/watch_metrics.h);
// prometheus-cpp merges same-name registrations into one family. Each informer keeps references
// to its own children so counting an event is a plain atomic add.
#pragma once

#include <prometheus/counter.h>

#include <array>
#include <string_view>

#include "kube/watch_event.h"

namespace pier::kube {

enum class RestartReason { kClosed, kGone, kError, kThrottled };

const char* RestartReasonName(RestartReason reason);

// The children for one kind: pier_controller_watch_events_total{kind,type} and
// pier_controller_watch_restarts_total{kind,reason}.
struct WatchMetrics {
  std::array<prometheus::Counter*, 5> events{};    // indexed by WatchEventType
  std::array<prometheus::Counter*, 4> restarts{};  // indexed by RestartReason

  void CountEvent(WatchEventType type) { events[static_cast<size_t>(type)]->Increment(); }
  void CountRestart(RestartReason reason) { restarts[static_cast<size_t>(reason)]->Increment(); }
};

// Thread-safe; the families are registered on the first call. Every label combination is
// created up front so dashboards see zeros rather than missing series.
WatchMetrics WatchMetricsFor(std::string_view kind);

}  // namespace pier::kube
