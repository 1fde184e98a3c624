// When to rebuild after a burst of changes: once things have been quiet for `quiet`, but never
// later than `max_delay` after the first change of the burst (a steady trickle of endpoint
// updates must not postpone a snapshot forever). Pure: time is passed in, so tests need no clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace pier::server {

class Debouncer final {
 public:
  using Clock = std::chrono::steady_clock;

  Debouncer(Clock::duration quiet, Clock::duration max_delay) : quiet_(quiet), max_delay_(max_delay) {}

  void Changed(Clock::time_point now) noexcept {
    if (!first_) first_ = now;
    last_ = now;
  }

  // When the pending burst should be built; empty when nothing is pending.
  std::optional<Clock::time_point> Deadline() const noexcept {
    if (!first_) return std::nullopt;
    return std::min(last_ + quiet_, *first_ + max_delay_);
  }

  bool Due(Clock::time_point now) const noexcept {
    auto deadline = Deadline();
    return deadline && now >= *deadline;
  }

  bool Pending() const noexcept { return first_.has_value(); }

  // The burst was built.
  void Reset() noexcept { first_.reset(); }

 private:
  Clock::duration quiet_;
  Clock::duration max_delay_;
  std::optional<Clock::time_point> first_;
  Clock::time_point last_{};
};

}  // namespace pier::server
