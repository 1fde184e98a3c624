#include "pier/common/sharded_metrics.h"

#include <limits>

namespace pier::metrics {

namespace {

// counts: per bucket, the last one +Inf.
void FillHistogram(const std::vector<double>& bounds, const std::vector<uint64_t>& counts, double sum,
                   prometheus::ClientMetric& metric) {
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    prometheus::ClientMetric::Bucket bucket;
    bucket.cumulative_count = cumulative;
    bucket.upper_bound = i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back(bucket);
  }
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = sum;
}

}  // namespace

uint64_t ShardedCounter::Value() const noexcept {
  uint64_t total = 0;
  for (const auto& slot : slots_) total += slot.value.load(std::memory_order_relaxed);
  return total;
}

ShardedHistogram::ShardedHistogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  const std::size_t lines = (bounds_.size() + kCountsPerLine) / kCountsPerLine;  // bounds + 1 counts
  for (auto& slot : slots_) {
    slot.lines = std::make_unique<CountLine[]>(lines);
    for (std::size_t i = 0; i < lines; ++i) {
      for (auto& count : slot.lines[i].counts) count.store(0, std::memory_order_relaxed);
    }
  }
}

std::vector<uint64_t> ShardedHistogram::Counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1, 0);
  for (const auto& slot : slots_) {
    for (std::size_t i = 0; i < counts.size(); ++i) {
      counts[i] += slot.lines[i / kCountsPerLine].counts[i % kCountsPerLine].load(std::memory_order_relaxed);
    }
  }
  return counts;
}

double ShardedHistogram::Sum() const noexcept {
  double sum = 0;
  for (const auto& slot : slots_) sum += slot.sum.load(std::memory_order_relaxed);
  return sum;
}

void ShardedCounter::Fill(prometheus::ClientMetric& metric) const {
  metric.counter.value = static_cast<double>(Value());
}

void ShardedHistogram::Fill(prometheus::ClientMetric& metric) const {
  // Counts first, sum after: a scrape during traffic may see a sum a few observations ahead of
  // the counts, never a count without its bucket.
  const auto counts = Counts();
  FillHistogram(bounds_, counts, Sum(), metric);
}

void PlainCounter::Fill(prometheus::ClientMetric& metric) const {
  metric.counter.value = static_cast<double>(Value());
}

void PlainGauge::Fill(prometheus::ClientMetric& metric) const {
  metric.gauge.value = static_cast<double>(Value());
}

PlainHistogram::PlainHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

std::vector<uint64_t> PlainHistogram::Counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1, 0);
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = counts_[i].load(std::memory_order_relaxed);
  return counts;
}

void PlainHistogram::Fill(prometheus::ClientMetric& metric) const {
  const auto counts = Counts();  // before the sum, as ShardedHistogram::Fill
  FillHistogram(bounds_, counts, Sum(), metric);
}

}  // namespace pier::metrics
