#include "config/backoff.h"

#include <algorithm>

namespace pier::dataplane {

Backoff::Backoff(BackoffOptions options, uint64_t seed) : options_(options), base_(options.initial), random_(seed) {
  options_.initial = std::max(options_.initial, std::chrono::milliseconds(1));
  options_.max = std::max(options_.max, options_.initial);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  base_ = options_.initial;
}

std::chrono::milliseconds Backoff::Next() {
  const double base = static_cast<double>(base_.count());
  std::uniform_real_distribution<double> spread(base * (1.0 - options_.jitter), base);
  const auto delay = std::chrono::milliseconds(static_cast<int64_t>(spread(random_)));
  base_ = std::min(base_ * 2, options_.max);
  return std::max(delay, std::chrono::milliseconds(1));
}

}  // namespace pier::dataplane
