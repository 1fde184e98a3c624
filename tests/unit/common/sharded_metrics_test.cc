#include "pier/common/sharded_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/histogram.h>

#include <cmath>

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

namespace pier::metrics {
namespace {

TEST(ShardedHistogram, BucketsAsPrometheusCppDoes) {
  // A value goes to the first bucket whose bound is >= it; the last bucket is +Inf.
  ShardedHistogramFamily family("test_seconds", "Durations.");
  auto& child = family.Add({{"route", "r"}}, {0.1, 1, 10});
  for (double value : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0, 50.0}) child.Observe(value);
  auto families = family.Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].type, prometheus::MetricType::Histogram);
  ASSERT_EQ(families[0].metric.size(), 1u);
  const auto& histogram = families[0].metric[0].histogram;
  EXPECT_EQ(histogram.sample_count, 7u);
  EXPECT_DOUBLE_EQ(histogram.sample_sum, 106.65);
  ASSERT_EQ(histogram.bucket.size(), 4u);
  std::vector<uint64_t> cumulative;
  for (const auto& bucket : histogram.bucket) cumulative.push_back(bucket.cumulative_count);
  EXPECT_EQ(cumulative, (std::vector<uint64_t>{2, 4, 5, 7}));
  EXPECT_EQ(histogram.bucket[0].upper_bound, 0.1);
  EXPECT_TRUE(std::isinf(histogram.bucket[3].upper_bound));
  // The same observations through prometheus-cpp's Histogram land in the same buckets.
  prometheus::Histogram reference({0.1, 1, 10});
  for (double value : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0, 50.0}) reference.Observe(value);
  auto expected = reference.Collect().histogram;
  ASSERT_EQ(expected.bucket.size(), histogram.bucket.size());
  for (std::size_t i = 0; i < expected.bucket.size(); ++i) {
    EXPECT_EQ(expected.bucket[i].cumulative_count, histogram.bucket[i].cumulative_count) << i;
  }
}

TEST(ShardedHistogram, ManyBucketsAcrossCacheLines) {
  // 20 bounds: 21 counts per thread slot, over three cache lines. Every bucket gets a different
  // number of observations, so a count read from or written to the wrong place shows.
  std::vector<double> bounds;
  for (int i = 1; i <= 20; ++i) bounds.push_back(i * 0.5);
  ShardedHistogram child(bounds);
  prometheus::Histogram reference(bounds);
  for (int bucket = 0; bucket <= 20; ++bucket) {
    for (int n = 0; n <= bucket; ++n) {
      const double value = bucket * 0.5 + 0.25;  // inside (bounds[bucket-1], bounds[bucket]]
      child.Observe(value);
      reference.Observe(value);
    }
  }
  const auto counts = child.Counts();
  ASSERT_EQ(counts.size(), 21u);
  for (std::size_t i = 0; i < counts.size(); ++i) EXPECT_EQ(counts[i], i + 1) << i;
  auto expected = reference.Collect().histogram;
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    EXPECT_EQ(expected.bucket[i].cumulative_count, cumulative) << i;
  }
}

TEST(ShardedHistogram, ObservesFromManyThreadsExactly) {
  ShardedHistogramFamily family("test_threads_seconds", "Threads.");
  auto& child = family.Add({}, {1, 2});
  constexpr int kThreads = static_cast<int>(ShardedHistogramFamily::kSlots) + 3;
  constexpr int kObservations = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&child] {
      for (int i = 0; i < kObservations; ++i) child.Observe(i % 3 == 0 ? 0.5 : 1.5);
    });
  }
  for (auto& thread : threads) thread.join();
  auto counts = child.Counts();
  const uint64_t per_thread_low = (kObservations + 2) / 3;
  EXPECT_EQ(counts, (std::vector<uint64_t>{per_thread_low * kThreads, (kObservations - per_thread_low) * kThreads, 0}));
  EXPECT_DOUBLE_EQ(child.Sum(), kThreads * (0.5 * per_thread_low + 1.5 * (kObservations - per_thread_low)));
}

TEST(SeriesFamily, RemovesAChildByItsLabels) {
  PlainCounterFamily family("test_removed_total", "Removed.");
  family.Add({{"route", "a"}, {"reason", "x"}}).Increment(2);
  family.Add({{"route", "b"}, {"reason", "x"}}).Increment(3);
  family.Remove({{"reason", "x"}, {"route", "a"}});  // label order does not matter
  family.Remove({{"route", "none"}});                 // absent: nothing happens
  ASSERT_EQ(family.size(), 1u);
  const auto families = family.Collect();
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].counter.value, 3.0);
  // Added again, a removed series starts from zero.
  EXPECT_EQ(family.Add({{"route", "a"}, {"reason", "x"}}).Value(), 0u);
}

TEST(PlainSeries, CollectAsPrometheusCppsCounterGaugeAndHistogram) {
  PlainGaugeFamily gauges("test_open", "Open.");
  auto& gauge = gauges.Add({{"route", "r"}});
  gauge.Increment();
  gauge.Increment();
  gauge.Decrement();
  auto collected = gauges.Collect();
  EXPECT_EQ(collected[0].type, prometheus::MetricType::Gauge);
  EXPECT_EQ(collected[0].metric[0].gauge.value, 1.0);

  const std::vector<double> bounds = {0.1, 1, 10};
  PlainHistogramFamily histograms("test_plain_seconds", "Durations.");
  auto& plain = histograms.Add({{"route", "r"}}, bounds);
  prometheus::Histogram reference(bounds);
  for (double value : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0, 0.0}) {
    plain.Observe(value);
    reference.Observe(value);
  }
  const auto ours = histograms.Collect()[0].metric[0].histogram;
  const auto theirs = reference.Collect().histogram;
  EXPECT_EQ(histograms.Collect()[0].type, prometheus::MetricType::Histogram);
  ASSERT_EQ(ours.bucket.size(), theirs.bucket.size());
  for (std::size_t i = 0; i < ours.bucket.size(); ++i) {
    EXPECT_EQ(ours.bucket[i].cumulative_count, theirs.bucket[i].cumulative_count) << i;
    EXPECT_EQ(ours.bucket[i].upper_bound, theirs.bucket[i].upper_bound) << i;
  }
  EXPECT_EQ(ours.sample_count, theirs.sample_count);
  EXPECT_DOUBLE_EQ(ours.sample_sum, theirs.sample_sum);
}

}  // namespace
}  // namespace pier::metrics
