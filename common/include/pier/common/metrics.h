// The process-wide Prometheus registry. Components declare their metric families on it once,
// at start-up, and keep references to the children they update (prometheus-cpp's Family::Add
// takes a lock; a child's Increment does not), so nothing on a hot path looks a metric up.
#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace pier::metrics {

prometheus::Registry& Registry();
std::shared_ptr<prometheus::Registry> RegistryPtr();

// The Prometheus text exposition (format 0.0.4) of everything registered.
std::string Serialize();

// pier_build_info{version} 1.
void RegisterBuildInfo(const std::string& version);

}  // namespace pier::metrics
