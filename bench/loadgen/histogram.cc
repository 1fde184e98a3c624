#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pier::bench {

std::size_t LatencyHistogram::IndexOf(uint64_t value) noexcept {
  constexpr uint64_t kExact = uint64_t{1} << kSubBucketBits;
  if (value < kExact) return static_cast<std::size_t>(value);
  // value has its top bit at position msb >= kSubBucketBits: keep the kSubBucketBits top bits.
  unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(value));
  unsigned shift = msb - (kSubBucketBits - 1);
  uint64_t top = value >> shift;  // in [kHalf, 2 * kHalf)
  return static_cast<std::size_t>(kExact + (shift - 1) * kHalf + (top - kHalf));
}

uint64_t LatencyHistogram::UpperBoundOf(std::size_t index) noexcept {
  constexpr std::size_t kExact = std::size_t{1} << kSubBucketBits;
  if (index < kExact) return index;
  std::size_t rest = index - kExact;
  unsigned shift = static_cast<unsigned>(rest / kHalf) + 1;
  uint64_t top = (rest % kHalf) + kHalf;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t value) noexcept {
  ++counts_[IndexOf(value)];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::ValueAt(double quantile) const noexcept {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  auto wanted = static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  wanted = std::max<uint64_t>(wanted, 1);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(UpperBoundOf(i), max_);
  }
  return max_;
}

}  // namespace pier::bench
