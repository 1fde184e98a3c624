// Where the limiters read the time: the steady clock in the proxy, a hand-driven one in tests,
// so refill and expiry are tested exactly instead of with sleeps.
#pragma once

#include <chrono>

namespace pier::dataplane::limits {

using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const noexcept = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const noexcept override { return std::chrono::steady_clock::now(); }
};

}  // namespace pier::dataplane::limits
