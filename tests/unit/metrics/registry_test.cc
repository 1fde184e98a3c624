#include <gtest/gtest.h>
#include <prometheus/gauge.h>

#include <memory>

#include "pier/common/metrics.h"
#include "pier/common/process_metrics.h"

namespace pier::metrics {
namespace {

class FixedCollectable final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::ClientMetric metric;
    metric.gauge.value = 42;
    return {prometheus::MetricFamily{"test_scrape_time_gauge", "Computed at scrape time.",
                                     prometheus::MetricType::Gauge, {metric}}};
  }
};

TEST(Serialize, ExposesTheRegistryAndEveryAddedCollectable) {
  prometheus::BuildGauge().Name("test_registered_gauge").Help("Registered.").Register(Registry()).Add({}).Set(7);
  AddCollectable(std::make_shared<FixedCollectable>());
  const std::string text = Serialize();
  EXPECT_NE(text.find("\ntest_registered_gauge 7"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE test_scrape_time_gauge gauge\ntest_scrape_time_gauge 42"), std::string::npos) << text;
}

TEST(RegisterProcessMetrics, AddsTheCollectorOnce) {
  RegisterProcessMetrics();
  RegisterProcessMetrics();
  std::size_t families = 0;
  for (const auto& family : CollectAll()) {
    if (family.name == "process_cpu_seconds_total") ++families;
  }
  EXPECT_EQ(families, 1u);
}

}  // namespace
}  // namespace pier::metrics
