// Reconnect delays: exponential with jitter, so a fleet of dataplanes that lost the same
// controller does not reconnect in lockstep when it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace pier::dataplane {

struct BackoffOptions {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{10000};
  // Each delay is drawn from [base * (1 - jitter), base].
  double jitter = 0.2;
};

class Backoff final {
 public:
  explicit Backoff(BackoffOptions options, uint64_t seed = std::random_device{}());

  // The delay before the next attempt; the base doubles after each call, up to max.
  std::chrono::milliseconds Next();
  // Back to the initial delay, after a connection that worked.
  void Reset() noexcept { base_ = options_.initial; }

 private:
  BackoffOptions options_;
  std::chrono::milliseconds base_;
  std::mt19937_64 random_;
};

}  // namespace pier::dataplane
