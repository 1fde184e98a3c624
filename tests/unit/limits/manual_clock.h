// A clock the test moves by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "limits/clock.h"

namespace pier::dataplane::limits::testing {

class ManualClock final : public Clock {
 public:
  TimePoint Now() const noexcept override { return TimePoint(std::chrono::nanoseconds(now_ns_.load())); }
  void Advance(std::chrono::nanoseconds by) { now_ns_ += by.count(); }

 private:
  // Far from the epoch, so "a long time ago" is representable.
  std::atomic<int64_t> now_ns_{int64_t{1'000'000} * 1'000'000'000};
};

}  // namespace pier::dataplane::limits::testing
