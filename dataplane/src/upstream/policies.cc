#include "upstream/policies.h"

namespace pier::dataplane::upstream {

std::optional<uint32_t> RoundRobinBalancer::Pick(const EndpointTable& table, const Eligibility& eligible) {
  const uint32_t count = table.size();
  if (count == 0) return std::nullopt;
  if (table.equal_weights()) {
    for (uint32_t step = 0; step < count; ++step) {
      const uint32_t index = (next_ + step) % count;
      if (!eligible(index)) continue;
      next_ = (index + 1) % count;
      return index;
    }
    return std::nullopt;
  }
  if (current_.size() != count) current_.assign(count, 0);
  int64_t total = 0;
  std::optional<uint32_t> best;
  for (uint32_t index = 0; index < count; ++index) {
    if (!eligible(index)) continue;
    current_[index] += table.weight(index);
    total += table.weight(index);
    if (!best || current_[index] > current_[*best]) best = index;
  }
  if (best) current_[*best] -= total;
  return best;
}

void RoundRobinBalancer::Reset(const EndpointTable& table) {
  current_.assign(table.size(), 0);
  if (table.size() != 0) next_ %= table.size();
}

std::optional<uint32_t> LeastConnBalancer::Pick(const EndpointTable& table, const Eligibility& eligible) {
  const uint32_t count = table.size();
  if (count == 0) return std::nullopt;
  std::optional<uint32_t> best;
  int64_t best_active = 0;
  const uint32_t start = offset_ % count;
  for (uint32_t step = 0; step < count; ++step) {
    const uint32_t index = (start + step) % count;
    if (!eligible(index)) continue;
    // Another thread may release between the load and the lease: the count is a hint, exact
    // enough to spread load, never used for anything that must balance to zero.
    const int64_t active = std::max<int64_t>(table.state(index).active.load(std::memory_order_relaxed), 0);
    // active/weight < best_active/best_weight, without division.
    if (!best || active * table.weight(*best) < best_active * table.weight(index)) {
      best = index;
      best_active = active;
    }
  }
  offset_ = (start + 1) % count;
  return best;
}

}  // namespace pier::dataplane::upstream
