#include "pier/common/sharded_counter.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "pier/common/metrics.h"

namespace pier::metrics {
namespace {

TEST(ShardedCounter, AddsFromManyThreadsExactly) {
  ShardedCounterFamily family("test_adds_total", "Adds.");
  auto& child = family.Add({{"kind", "a"}});
  // More threads than slots, so some share a slot: every add still counts.
  constexpr int kThreads = static_cast<int>(ShardedCounterFamily::kSlots) + 4;
  constexpr uint64_t kAdds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&child, t] {
      for (uint64_t i = 0; i < kAdds; ++i) child.Increment(static_cast<uint64_t>(t) + 1);
    });
  }
  for (auto& thread : threads) thread.join();
  uint64_t expected = 0;
  for (int t = 0; t < kThreads; ++t) expected += kAdds * (static_cast<uint64_t>(t) + 1);
  EXPECT_EQ(child.Value(), expected);
}

TEST(ShardedCounter, SameLabelsSameChild) {
  ShardedCounterFamily family("test_children_total", "Children.");
  auto& a = family.Add({{"x", "1"}, {"y", "2"}});
  auto& b = family.Add({{"y", "2"}, {"x", "1"}});
  auto& c = family.Add({{"x", "1"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(ShardedCounter, CollectsAsAPrometheusCounterFamily) {
  ShardedCounterFamily family("test_bytes_total", "Bytes by direction.");
  family.Add({{"direction", "in"}}).Increment(5);
  family.Add({{"direction", "out"}}).Increment(7);
  family.Add({{"direction", "out"}}).Increment();
  auto families = family.Collect();
  ASSERT_EQ(families.size(), 1u);
  const auto& collected = families[0];
  EXPECT_EQ(collected.name, "test_bytes_total");
  EXPECT_EQ(collected.help, "Bytes by direction.");
  EXPECT_EQ(collected.type, prometheus::MetricType::Counter);
  ASSERT_EQ(collected.metric.size(), 2u);
  for (const auto& metric : collected.metric) {
    ASSERT_EQ(metric.label.size(), 1u);
    EXPECT_EQ(metric.label[0].name, "direction");
    EXPECT_EQ(metric.counter.value, metric.label[0].value == "in" ? 5.0 : 8.0);
  }
}

TEST(ShardedCounter, RegisteredFamiliesAreScraped) {
  auto family = ShardedCounterFamily::Register("test_scraped_total", "Scraped.");
  family->Add({{"route", "r"}}).Increment(3);
  std::string text = Serialize();
  EXPECT_NE(text.find("# TYPE test_scraped_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("test_scraped_total{route=\"r\"} 3"), std::string::npos) << text;
}

}  // namespace
}  // namespace pier::metrics
