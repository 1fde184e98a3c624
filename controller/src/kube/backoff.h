// Exponential backoff with jitter for re-listing and re-watching after errors, so a restarted
// API server is not hit by every controller replica at the same instant.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace pier::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};
  std::chrono::milliseconds max{30000};
  double factor = 2.0;
  double jitter = 0.2;  // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
};

class Backoff final {
 public:
  explicit Backoff(BackoffPolicy policy = {}, uint64_t seed = std::random_device{}());

  // The delay before the next attempt; each call grows the base delay up to the maximum.
  // Never more than policy.max, jitter included.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits the initial delay again.
  void Reset() { current_ = policy_.initial; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds current_;
  std::mt19937_64 random_;
};

}  // namespace pier::kube
