// Time for leader election and Event rate limiting, behind a seam so the state machines can be
// tested with a fake clock. Two clocks on purpose: durations (lease expiry, renew deadline, token
// refill) are judged on the monotonic clock; only timestamps written into API objects use UTC.
#pragma once

#include <chrono>

namespace pier::status {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace pier::status
