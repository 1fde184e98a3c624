#include "histogram.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace pier::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (uint64_t v = 0; v < 128; ++v) {
    EXPECT_EQ(LatencyHistogram::IndexOf(v), v);
    EXPECT_EQ(LatencyHistogram::UpperBoundOf(LatencyHistogram::IndexOf(v)), v);
  }
}

TEST(LatencyHistogram, BucketsCoverEveryValueWithinTwoPercent) {
  for (uint64_t v : {128ull, 129ull, 255ull, 256ull, 1000ull, 123456ull, 987654321ull, 1ull << 40, ~0ull}) {
    auto index = LatencyHistogram::IndexOf(v);
    auto upper = LatencyHistogram::UpperBoundOf(index);
    EXPECT_GE(upper, v) << v;
    EXPECT_LE(static_cast<double>(upper - v), static_cast<double>(v) * 0.02) << v;
    if (index > 0) {
      EXPECT_LT(LatencyHistogram::UpperBoundOf(index - 1), v) << v;
    }
  }
}

TEST(LatencyHistogram, QuantilesOfAUniformRun) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.Record(v * 1000);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.max(), 10'000'000u);
  EXPECT_NEAR(static_cast<double>(h.ValueAt(0.5)), 5'000'000.0, 5'000'000.0 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.ValueAt(0.99)), 9'900'000.0, 9'900'000.0 * 0.02);
  EXPECT_EQ(h.ValueAt(1.0), h.max());
  EXPECT_NEAR(h.mean(), 5'000'500.0, 1.0);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsTheMax) {
  LatencyHistogram a, b;
  a.Record(10);
  b.Record(20);
  b.Record(5000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 5000u);
  EXPECT_EQ(a.ValueAt(0.5), 20u);
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.ValueAt(0.99), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

}  // namespace
}  // namespace pier::bench
