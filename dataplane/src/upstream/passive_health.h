// Passive health: an endpoint that refuses or resets connections is skipped for a while, so
// the requests after the first failure do not pay for it too. There are no probes: the first
// request after the ejection ends is the probe, and a success resets the backoff.
//
// Ejections double with each consecutive one (base, 2x base, 4x base... up to max). Failures of
// requests that were already under way when the endpoint got ejected do not extend it: a burst
// of concurrent failures is one ejection, not a jump to the maximum.
#pragma once

#include <chrono>
#include <cstdint>

#include "upstream/endpoint_state.h"

namespace pier::dataplane::upstream {

struct EjectionPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds max{30000};
};

using HealthClock = std::chrono::steady_clock;

bool IsEjected(const EndpointState& state, HealthClock::time_point now) noexcept;

// A connect failure or reset. Returns true when this failure started a new ejection (for the
// ejection counter), false when the endpoint was already ejected.
bool RecordFailure(EndpointState& state, HealthClock::time_point now, const EjectionPolicy& policy) noexcept;

// A connection that worked: the next ejection starts again from the base period.
void RecordSuccess(EndpointState& state) noexcept;

}  // namespace pier::dataplane::upstream
