// The config client's metrics, registered once per process on the shared registry.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace pier::dataplane {

struct ConfigMetrics {
  prometheus::Counter& applies_success;  // pier_config_applies_total{result="success"}
  prometheus::Counter& applies_failure;  // pier_config_applies_total{result="failure"}
  prometheus::Gauge& version;            // pier_config_version

  static ConfigMetrics& Get();
};

}  // namespace pier::dataplane
