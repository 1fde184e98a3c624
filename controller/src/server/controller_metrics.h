// The controller's own metrics (names are a contract, see DESIGN.md), declared once on the
// process registry. Components keep the children they update; nothing is looked up per event.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <map>
#include <mutex>
#include <string>

namespace pier::server {

class ControllerMetrics final {
 public:
  // Registered on pier::metrics::Registry() on first use.
  static ControllerMetrics& Get();

  prometheus::Counter& snapshots;                   // pier_controller_snapshots_total
  prometheus::Histogram& build_duration;            // pier_controller_snapshot_build_duration_seconds
  prometheus::Gauge& dataplanes_connected;          // pier_controller_dataplanes_connected
  prometheus::Counter& acks;                        // pier_controller_dataplane_acks_total{result="ack"}
  prometheus::Counter& nacks;                       // pier_controller_dataplane_acks_total{result="nack"}
  prometheus::Gauge& is_leader;                     // pier_controller_is_leader

  // pier_controller_invalid_annotations_total{annotation}. Keys are annotation names the
  // registry knows, so the label set stays small; children are created once and cached.
  void CountInvalidAnnotation(const std::string& annotation);
  double InvalidAnnotationCount(const std::string& annotation);

 private:
  ControllerMetrics();

  prometheus::Family<prometheus::Counter>& invalid_annotations_;
  std::mutex invalid_mutex_;
  std::map<std::string, prometheus::Counter*, std::less<>> invalid_children_;
};

}  // namespace pier::server
