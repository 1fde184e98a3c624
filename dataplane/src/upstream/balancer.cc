#include "upstream/balancer.h"

namespace pier::dataplane::upstream {

const UpstreamEndpoint* RoundRobinBalancer::Pick(const ClusterConfig& cluster, const PickContext&) {
  if (cluster.endpoints.empty()) return nullptr;
  // The list can shrink between two picks (a new snapshot); the modulo keeps it in range.
  const UpstreamEndpoint* chosen = &cluster.endpoints[next_ % cluster.endpoints.size()];
  next_ = (next_ + 1) % cluster.endpoints.size();
  return chosen;
}

Balancer& BalancerSet::For(const RouteConfig& route) {
  const std::string& key = route.cluster ? route.cluster->name : route.name;
  auto it = balancers_.find(key);
  if (it == balancers_.end()) {
    it = balancers_.emplace(key, std::make_unique<RoundRobinBalancer>()).first;
  }
  return *it->second;
}

}  // namespace pier::dataplane::upstream
