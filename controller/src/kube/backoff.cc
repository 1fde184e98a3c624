#include "kube/backoff.h"

#include <algorithm>

namespace pier::kube {

Backoff::Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), current_(policy.initial), random_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  std::uniform_real_distribution<double> spread(1.0 - policy_.jitter, 1.0 + policy_.jitter);
  const double jittered = static_cast<double>(current_.count()) * spread(random_);
  const auto delay = std::min(std::chrono::milliseconds(static_cast<int64_t>(jittered)), policy_.max);
  const double grown = static_cast<double>(current_.count()) * policy_.factor;
  current_ = std::min(std::chrono::milliseconds(static_cast<int64_t>(grown)), policy_.max);
  return delay;
}

}  // namespace pier::kube
