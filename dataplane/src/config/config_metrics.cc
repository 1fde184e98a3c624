#include "config/config_metrics.h"

#include "pier/common/metrics.h"

namespace pier::dataplane {

ConfigMetrics& ConfigMetrics::Get() {
  static ConfigMetrics metrics = [] {
    auto& applies = prometheus::BuildCounter()
                        .Name("pier_config_applies_total")
                        .Help("Snapshots received from the controller, by whether they were applied.")
                        .Register(metrics::Registry());
    auto& version = prometheus::BuildGauge()
                        .Name("pier_config_version")
                        .Help("Version of the snapshot this dataplane serves; 0 before the first.")
                        .Register(metrics::Registry());
    return ConfigMetrics{applies.Add({{"result", "success"}}), applies.Add({{"result", "failure"}}), version.Add({})};
  }();
  return metrics;
}

}  // namespace pier::dataplane
