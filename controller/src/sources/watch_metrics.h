// pier_controller_watch_events_total{kind,type} as the manifests source counts it. The cluster
// source (controller/src/kube) registers the same family; the registry merges the two, so both
// modes feed one series set. Type names are the Kubernetes watch event names.
#pragma once

#include <prometheus/counter.h>

#include <array>

#include "model/objects.h"

namespace pier::sources {

enum class WatchEventType { kAdded, kModified, kDeleted };

class WatchMetrics final {
 public:
  // The process-wide instance, registered on pier::metrics::Registry() on first use; every
  // kind/type child exists from the start so dashboards see zeros, not gaps.
  static WatchMetrics& Get();

  void CountEvent(model::Kind kind, WatchEventType type) noexcept;

 private:
  WatchMetrics();
  static constexpr std::size_t kKinds = 5;
  static constexpr std::size_t kTypes = 3;
  std::array<std::array<prometheus::Counter*, kTypes>, kKinds> events_{};
};

}  // namespace pier::sources
