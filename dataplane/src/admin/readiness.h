// Whether this dataplane should receive traffic: only once it serves a snapshot, and no longer
// once it drains. /readyz answers from here; load balancers and kubelet act on it.
#pragma once

#include <atomic>
#include <string>

#include "routing/config.h"

namespace pier::dataplane {

class Readiness final {
 public:
  explicit Readiness(const ConfigStore& store) : store_(store) {}

  // Called on SIGTERM, before listeners stop: peers stop sending new traffic first.
  void SetDraining() noexcept { draining_.store(true, std::memory_order_release); }
  bool draining() const noexcept { return draining_.load(std::memory_order_acquire); }

  // "" when ready, otherwise the reason (for the /readyz body and logs).
  std::string NotReadyReason() const;

 private:
  const ConfigStore& store_;
  std::atomic<bool> draining_{false};
};

}  // namespace pier::dataplane
