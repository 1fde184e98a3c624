// The load-balancing policies (the `load-balance` annotation), choosing among a cluster's
// endpoints those the caller admits. Each thread owns its own policy objects (their rotation
// state is per thread); what they read about endpoints (load, ejection) is shared.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "upstream/endpoint_table.h"
#include "upstream/passive_health.h"

namespace pier::dataplane::upstream {

// Which endpoints a pick may return: none of the excluded ones (those this request already
// tried) and, unless every endpoint is ejected, none that passive health ejected.
class Eligibility final {
 public:
  Eligibility(const EndpointTable& table, HealthClock::time_point now, std::span<const uint32_t> excluded,
              bool ignore_ejection) noexcept
      : table_(table), now_(now), excluded_(excluded), ignore_ejection_(ignore_ejection) {}

  bool operator()(uint32_t index) const noexcept {
    if (std::find(excluded_.begin(), excluded_.end(), index) != excluded_.end()) return false;
    return ignore_ejection_ || !IsEjected(table_.state(index), now_);
  }

 private:
  const EndpointTable& table_;
  HealthClock::time_point now_;
  std::span<const uint32_t> excluded_;
  bool ignore_ejection_;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // An eligible endpoint's index in `table`, or nullopt when none is eligible.
  virtual std::optional<uint32_t> Pick(const EndpointTable& table, const Eligibility& eligible) = 0;
  // The cluster's endpoints changed: forget per-endpoint state, keep the rotation going.
  virtual void Reset(const EndpointTable& table) = 0;
};

// Equal weights: plain rotation. Otherwise smooth weighted round robin (nginx's): over any
// window of total-weight picks each endpoint gets exactly its weight, interleaved rather than
// in runs.
class RoundRobinBalancer final : public Balancer {
 public:
  std::optional<uint32_t> Pick(const EndpointTable& table, const Eligibility& eligible) override;
  void Reset(const EndpointTable& table) override;

 private:
  uint32_t next_ = 0;
  std::vector<int64_t> current_;  // smooth WRR running weights, one per endpoint
};

// The endpoint with the fewest requests in flight plus open tunnels per unit of weight, counted
// across all threads of the process. Ties go round robin, so an idle cluster still spreads.
class LeastConnBalancer final : public Balancer {
 public:
  std::optional<uint32_t> Pick(const EndpointTable& table, const Eligibility& eligible) override;
  void Reset(const EndpointTable& table) override {}

 private:
  uint32_t offset_ = 0;
};

}  // namespace pier::dataplane::upstream
