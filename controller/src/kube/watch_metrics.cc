#include "kube/watch_metrics.h"

#include <prometheus/family.h>

#include <mutex>

#include "pier/common/metrics.h"

namespace pier::kube {
namespace {

struct Families {
  prometheus::Family<prometheus::Counter>& events;
  prometheus::Family<prometheus::Counter>& restarts;
};

Families& GetFamilies() {
  static Families families{
      prometheus::BuildCounter()
          .Name("pier_controller_watch_events_total")
          // Same text as the manifests source's registration of this family (sources/), so the
          // exposition does not depend on which registers first.
          .Help("Watch events received, by object kind and event type.")
          .Register(metrics::Registry()),
      prometheus::BuildCounter()
          .Name("pier_controller_watch_restarts_total")
          .Help("List/watch restarts, by kind and reason (closed, gone, error, throttled).")
          .Register(metrics::Registry()),
  };
  return families;
}

constexpr std::array kEventTypes = {WatchEventType::kAdded, WatchEventType::kModified, WatchEventType::kDeleted,
                                    WatchEventType::kBookmark, WatchEventType::kError};
constexpr std::array kReasons = {RestartReason::kClosed, RestartReason::kGone, RestartReason::kError,
                                 RestartReason::kThrottled};

}  // namespace

const char* RestartReasonName(RestartReason reason) {
  switch (reason) {
    case RestartReason::kClosed: return "closed";
    case RestartReason::kGone: return "gone";
    case RestartReason::kError: return "error";
    case RestartReason::kThrottled: return "throttled";
  }
  return "error";
}

WatchMetrics WatchMetricsFor(std::string_view kind) {
  // Family::Add is itself locked; this lock only keeps one kind's children consistent.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  Families& families = GetFamilies();
  WatchMetrics metrics;
  const std::string kind_label(kind);
  for (auto type : kEventTypes) {
    metrics.events[static_cast<size_t>(type)] =
        &families.events.Add({{"kind", kind_label}, {"type", WatchEventTypeName(type)}});
  }
  for (auto reason : kReasons) {
    metrics.restarts[static_cast<size_t>(reason)] =
        &families.restarts.Add({{"kind", kind_label}, {"reason", RestartReasonName(reason)}});
  }
  return metrics;
}

}  // namespace pier::kube
