#include "upstream/passive_health.h"

#include <algorithm>

namespace pier::dataplane::upstream {
namespace {

// 2^20 times the base is beyond any sane maximum; the shift must not overflow.
constexpr uint32_t kMaxDoublings = 20;

int64_t Nanos(HealthClock::time_point time) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

bool IsEjected(const EndpointState& state, HealthClock::time_point now) noexcept {
  return state.ejected_until_ns.load(std::memory_order_relaxed) > Nanos(now);
}

bool RecordFailure(EndpointState& state, HealthClock::time_point now, const EjectionPolicy& policy) noexcept {
  const int64_t now_ns = Nanos(now);
  int64_t until = state.ejected_until_ns.load(std::memory_order_relaxed);
  if (until > now_ns) return false;
  const uint32_t previous = state.consecutive_ejections.load(std::memory_order_relaxed);
  const auto doubled = policy.base * (int64_t{1} << std::min(previous, kMaxDoublings));
  const auto period = std::min<std::chrono::nanoseconds>(doubled, policy.max);
  // Two threads failing at once: the first to store wins, the other's failure is part of it.
  if (!state.ejected_until_ns.compare_exchange_strong(until, now_ns + period.count(), std::memory_order_relaxed)) {
    return false;
  }
  state.consecutive_ejections.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void RecordSuccess(EndpointState& state) noexcept {
  // Read first: a healthy endpoint's cache line is not written on every request.
  if (state.consecutive_ejections.load(std::memory_order_relaxed) != 0) {
    state.consecutive_ejections.store(0, std::memory_order_relaxed);
  }
}

}  // namespace pier::dataplane::upstream
