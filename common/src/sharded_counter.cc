#include "pier/common/sharded_counter.h"

#include "pier/common/metrics.h"

namespace pier::metrics {

uint64_t ShardedCounterFamily::Child::Value() const noexcept {
  uint64_t total = 0;
  for (const auto& slot : slots_) total += slot.value.load(std::memory_order_relaxed);
  return total;
}

std::shared_ptr<ShardedCounterFamily> ShardedCounterFamily::Register(std::string name, std::string help) {
  auto family = std::make_shared<ShardedCounterFamily>(std::move(name), std::move(help));
  AddCollectable(family);
  return family;
}

ShardedCounterFamily::ShardedCounterFamily(std::string name, std::string help)
    : name_(std::move(name)), help_(std::move(help)) {}

ShardedCounterFamily::Child& ShardedCounterFamily::Add(const prometheus::Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& child = children_[labels];
  if (!child) child = std::make_unique<Child>();
  return *child;
}

std::vector<prometheus::MetricFamily> ShardedCounterFamily::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Counter;
  std::lock_guard lock(mutex_);
  for (const auto& [labels, child] : children_) {
    prometheus::ClientMetric metric;
    for (const auto& [name, value] : labels) metric.label.push_back({name, value});
    metric.counter.value = static_cast<double>(child->Value());
    family.metric.push_back(std::move(metric));
  }
  return {std::move(family)};
}

}  // namespace pier::metrics
