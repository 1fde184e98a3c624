// The process-wide Prometheus registry. Components declare their metric families on it once,
// at start-up, and keep references to the children they update (prometheus-cpp's Family::Add
// takes a lock; a child's Increment does not), so nothing on a hot path looks a metric up.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

namespace pier::metrics {

prometheus::Registry& Registry();
std::shared_ptr<prometheus::Registry> RegistryPtr();

// Collectors computed at scrape time (process_*), exposed after the registry's families.
void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

// Everything exposed: the registry's families, then every added collectable's.
std::vector<prometheus::MetricFamily> CollectAll();

// The Prometheus text exposition (format 0.0.4) of CollectAll().
std::string Serialize();

// pier_build_info{version} 1.
void RegisterBuildInfo(const std::string& version);

}  // namespace pier::metrics
