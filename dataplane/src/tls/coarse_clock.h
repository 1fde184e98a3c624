// The time a deadline is counted from, read cheaply.
//
// steady_clock::now() is CLOCK_MONOTONIC, which the vDSO computes from the TSC: about 20 ns
// per read here, and the data path reads it for every deadline it sets (each read and write of
// a proxied request, each message through a tunnel). CLOCK_MONOTONIC_COARSE is the same clock
// as of the last timer tick, a plain load from the vDSO page (about 3 ns), behind the precise
// reading by less than one tick (4 ms at HZ=250). CoarseNow() adds that tick, so it is never
// earlier than steady_clock::now() and at most one tick later: a timeout counted from it never
// ends early and ends at most a tick late, which is nothing against timeouts of a second and
// more. Durations that are reported (metrics, the access log) keep steady_clock::now().
#pragma once

#include <time.h>

#include <chrono>

namespace pier::dataplane {

inline std::chrono::steady_clock::time_point CoarseNow() noexcept {
  using Duration = std::chrono::steady_clock::duration;
  static const Duration tick = [] {
    timespec resolution{};
    if (::clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) return Duration::min();
    return std::chrono::duration_cast<Duration>(std::chrono::seconds(resolution.tv_sec) +
                                                std::chrono::nanoseconds(resolution.tv_nsec));
  }();
  timespec now{};
  if (tick == Duration::min() || ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0) {
    return std::chrono::steady_clock::now();
  }
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<Duration>(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec)) +
      tick);
}

}  // namespace pier::dataplane
