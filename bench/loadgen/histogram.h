// A log-linear latency histogram in the manner of HdrHistogram: 64 linear sub-buckets per power
// of two (under 1.6% error), constant-time recording with no allocation, mergeable across threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pier::bench {

class LatencyHistogram final {
 public:
  void Record(uint64_t value) noexcept;
  void Merge(const LatencyHistogram& other) noexcept;

  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The smallest recorded-bucket upper bound with at least `quantile` of the values at or below
  // it (0 when empty); never more than max().
  uint64_t ValueAt(double quantile) const noexcept;

  static std::size_t IndexOf(uint64_t value) noexcept;
  // The largest value that lands in bucket `index`.
  static uint64_t UpperBoundOf(std::size_t index) noexcept;

 private:
  static constexpr unsigned kSubBucketBits = 7;  // values below 128 are exact
  static constexpr std::size_t kHalf = std::size_t{1} << (kSubBucketBits - 1);
  static constexpr std::size_t kBuckets = (std::size_t{1} << kSubBucketBits) + (64 - kSubBucketBits) * kHalf;

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace pier::bench
