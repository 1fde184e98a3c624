// Metric families of our own: sharded children that many threads update without sharing a cache
// line, plain ones for the series that are rarely updated, and children that can be removed by
// their labels at the cost of one map lookup.
//
// prometheus-cpp's Counter is one atomic<double> updated with a compare-and-swap loop, and its
// Histogram two of them per observation: when two worker threads update the same series for
// every request, each update moves the cache line from the other core (measured with
// pier-metrics-cost: most of the cost of a request's metrics on 2 threads). Here each child
// keeps a slot per thread (threads beyond kSlots share slots; updates stay exact), and a scrape
// sums them. Counter values are whole numbers (bytes, messages). A child costs kSlots cache
// lines or more (512 bytes for a counter) against prometheus-cpp's few dozen, so this is for
// the series every request or message touches, not for every metric. The plain children
// (PlainCounter, PlainGauge, PlainHistogram) are one set of atomics each, as prometheus-cpp's,
// but their family removes a child in O(log n) where prometheus::Family::Remove walks every
// child (2 ms per removal with 80,000 children, measured): per-route series go when their
// route does (see dataplane/src/http/proxy_metrics.h).
//
// The families are exposed through pier::metrics::AddCollectable, after the registry's families.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pier/common/metrics.h"

namespace pier::metrics {

inline constexpr std::size_t kShardSlots = 8;

// The slot the calling thread writes to (each new thread takes the next one, round robin).
inline std::size_t ShardSlotOfThisThread() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kShardSlots;
  return slot;
}

// A histogram's bucket for `value`, as prometheus-cpp's Histogram: the first whose upper bound
// is >= value; bounds.size() is +Inf.
inline std::size_t BucketOf(const std::vector<double>& bounds, double value) noexcept {
  return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
}

inline void AddTo(std::atomic<double>& sum, double value) noexcept {
  double current = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(current, current + value, std::memory_order_relaxed)) {
  }
}

// One counter series.
class ShardedCounter {
 public:
  void Increment(uint64_t value = 1) noexcept {
    slots_[ShardSlotOfThisThread()].value.fetch_add(value, std::memory_order_relaxed);
  }
  uint64_t Value() const noexcept;
  // The scrape: this series as one metric of a counter family.
  void Fill(prometheus::ClientMetric& metric) const;

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  std::array<Slot, kShardSlots> slots_{};
};

// One histogram series: observations by bucket (upper bounds, "le", as prometheus-cpp's
// Histogram: a value goes to the first bucket whose bound is >= it) and their sum.
class ShardedHistogram {
 public:
  explicit ShardedHistogram(std::vector<double> bounds);
  void Observe(double value) noexcept {
    const std::size_t bucket = BucketOf(bounds_, value);
    Slot& slot = slots_[ShardSlotOfThisThread()];
    slot.lines[bucket / kCountsPerLine].counts[bucket % kCountsPerLine].fetch_add(1, std::memory_order_relaxed);
    AddTo(slot.sum, value);
  }
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Per bucket (the last one is +Inf), not cumulative.
  std::vector<uint64_t> Counts() const;
  double Sum() const noexcept;
  // The scrape: this series as one metric of a histogram family (cumulative buckets, +Inf last).
  void Fill(prometheus::ClientMetric& metric) const;

 private:
  static constexpr std::size_t kCountsPerLine = 8;
  // A slot's bucket counts come in whole cache lines of their own, so no two threads' counts
  // ever share a line.
  struct alignas(64) CountLine {
    std::atomic<uint64_t> counts[kCountsPerLine];
  };
  struct alignas(64) Slot {
    std::unique_ptr<CountLine[]> lines;  // bounds + 1 counts, rounded up to whole lines
    std::atomic<double> sum{0};
  };
  std::vector<double> bounds_;
  std::array<Slot, kShardSlots> slots_;
};

// One counter series that is updated rarely (errors, upgrades): one atomic shared by all threads.
class PlainCounter {
 public:
  void Increment(uint64_t value = 1) noexcept { value_.fetch_add(value, std::memory_order_relaxed); }
  uint64_t Value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void Fill(prometheus::ClientMetric& metric) const;

 private:
  std::atomic<uint64_t> value_{0};
};

// One gauge series of whole numbers (open tunnels).
class PlainGauge {
 public:
  void Increment() noexcept { value_.fetch_add(1, std::memory_order_relaxed); }
  void Decrement() noexcept { value_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t Value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void Fill(prometheus::ClientMetric& metric) const;

 private:
  std::atomic<int64_t> value_{0};
};

// One histogram series that is observed rarely (connects, tunnel lifetimes): buckets as
// ShardedHistogram's, in one set of counts.
class PlainHistogram {
 public:
  explicit PlainHistogram(std::vector<double> bounds);
  void Observe(double value) noexcept {
    counts_[BucketOf(bounds_, value)].fetch_add(1, std::memory_order_relaxed);
    AddTo(sum_, value);
  }
  // Per bucket (the last one is +Inf), not cumulative.
  std::vector<uint64_t> Counts() const;
  double Sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  void Fill(prometheus::ClientMetric& metric) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds + 1
  std::atomic<double> sum_{0};
};

// A family of series of type ChildT (one of the classes above): children by labels, made once
// under a lock, and a scrape that turns each child into one metric.
template <class ChildT, prometheus::MetricType kType>
class SeriesFamily final : public prometheus::Collectable {
 public:
  using Child = ChildT;
  static constexpr std::size_t kSlots = kShardSlots;

  // Makes a family and registers it for scraping (pier::metrics::AddCollectable).
  static std::shared_ptr<SeriesFamily> Register(std::string name, std::string help) {
    auto family = std::make_shared<SeriesFamily>(std::move(name), std::move(help));
    AddCollectable(family);
    return family;
  }
  SeriesFamily(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

  // The child for `labels`; the same object for the same labels. Takes a lock: call it when
  // setting up, and keep the reference.
  Child& Add(const prometheus::Labels& labels)
    requires std::is_default_constructible_v<Child>
  {
    return AddChild(labels);
  }
  // The same for a histogram; its ascending `bounds` are used when the child is made.
  Child& Add(const prometheus::Labels& labels, const std::vector<double>& bounds)
    requires std::is_constructible_v<Child, std::vector<double>>
  {
    return AddChild(labels, bounds);
  }

  // Removes the child for `labels`, if there is one. References to it must be gone: whoever
  // holds them decides when (see RouteSeriesRegistry in dataplane/src/http/proxy_metrics.h).
  void Remove(const prometheus::Labels& labels) {
    std::lock_guard lock(mutex_);
    children_.erase(labels);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return children_.size();
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = name_;
    family.help = help_;
    family.type = kType;
    std::lock_guard lock(mutex_);
    for (const auto& [labels, child] : children_) {
      prometheus::ClientMetric metric;
      for (const auto& [name, value] : labels) metric.label.push_back({name, value});
      child->Fill(metric);
      family.metric.push_back(std::move(metric));
    }
    return {std::move(family)};
  }

 private:
  template <class... Args>
  Child& AddChild(const prometheus::Labels& labels, Args&&... args) {
    std::lock_guard lock(mutex_);
    auto& child = children_[labels];
    if (!child) child = std::make_unique<Child>(std::forward<Args>(args)...);
    return *child;
  }

  const std::string name_;
  const std::string help_;
  mutable std::mutex mutex_;
  std::map<prometheus::Labels, std::unique_ptr<Child>> children_;
};

using ShardedCounterFamily = SeriesFamily<ShardedCounter, prometheus::MetricType::Counter>;
using ShardedHistogramFamily = SeriesFamily<ShardedHistogram, prometheus::MetricType::Histogram>;
using PlainCounterFamily = SeriesFamily<PlainCounter, prometheus::MetricType::Counter>;
using PlainGaugeFamily = SeriesFamily<PlainGauge, prometheus::MetricType::Gauge>;
using PlainHistogramFamily = SeriesFamily<PlainHistogram, prometheus::MetricType::Histogram>;

}  // namespace pier::metrics
