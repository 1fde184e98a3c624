#include "server/controller_metrics.h"

#include "pier/common/metrics.h"

namespace pier::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

prometheus::Family<prometheus::Counter>& AckFamily() {
  return BuildCounter()
      .Name("pier_controller_dataplane_acks_total")
      .Help("Snapshot acknowledgements from dataplanes: result=ack (applied) or nack (rejected).")
      .Register(metrics::Registry());
}

// From a tiny cluster (~1 ms) to 10,000 Ingresses (seconds).
const prometheus::Histogram::BucketBoundaries kBuildBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,    1,     2.5,  5,     10};

}  // namespace

ControllerMetrics& ControllerMetrics::Get() {
  static ControllerMetrics metrics;
  return metrics;
}

ControllerMetrics::ControllerMetrics()
    : snapshots(BuildCounter()
                    .Name("pier_controller_snapshots_total")
                    .Help("Snapshots published (only builds whose content changed count).")
                    .Register(metrics::Registry())
                    .Add({})),
      build_duration(BuildHistogram()
                         .Name("pier_controller_snapshot_build_duration_seconds")
                         .Help("Time to translate the cluster state into a snapshot.")
                         .Register(metrics::Registry())
                         .Add({}, kBuildBuckets)),
      dataplanes_connected(BuildGauge()
                               .Name("pier_controller_dataplanes_connected")
                               .Help("Dataplane streams open (after their Hello).")
                               .Register(metrics::Registry())
                               .Add({})),
      acks(AckFamily().Add({{"result", "ack"}})),
      nacks(AckFamily().Add({{"result", "nack"}})),
      is_leader(BuildGauge()
                    .Name("pier_controller_is_leader")
                    .Help("1 when this controller is the one publishing (always 1 in manifests mode).")
                    .Register(metrics::Registry())
                    .Add({})),
      invalid_annotations_(BuildCounter()
                               .Name("pier_controller_invalid_annotations_total")
                               .Help("Annotation values rejected, by annotation key (counted when they appear).")
                               .Register(metrics::Registry())) {}

void ControllerMetrics::CountInvalidAnnotation(const std::string& annotation) {
  std::lock_guard lock(invalid_mutex_);
  auto it = invalid_children_.find(annotation);
  if (it == invalid_children_.end()) {
    it = invalid_children_.emplace(annotation, &invalid_annotations_.Add({{"annotation", annotation}})).first;
  }
  it->second->Increment();
}

double ControllerMetrics::InvalidAnnotationCount(const std::string& annotation) {
  std::lock_guard lock(invalid_mutex_);
  auto it = invalid_children_.find(annotation);
  return it == invalid_children_.end() ? 0 : it->second->Value();
}

}  // namespace pier::server
