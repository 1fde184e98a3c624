// Choosing an endpoint of a cluster for one request. Round robin today; least_conn, consistent
// hashing and cookie affinity implement the same interface later, so the HTTP session only
// ever asks a Balancer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "routing/config.h"

namespace pier::dataplane::upstream {

// What a policy may look at. Filled lazily by later policies (hash keys, cookies); round robin
// needs nothing.
struct PickContext {
  std::string_view client_address;
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // Null only when the cluster has no endpoints.
  virtual const UpstreamEndpoint* Pick(const ClusterConfig& cluster, const PickContext& context) = 0;
};

// Plain rotation over the endpoint list. Weights are not honoured yet.
class RoundRobinBalancer final : public Balancer {
 public:
  const UpstreamEndpoint* Pick(const ClusterConfig& cluster, const PickContext& context) override;

 private:
  std::size_t next_ = 0;
};

// One thread's balancers, one per cluster name. Keyed by name, not by ClusterConfig, so the
// rotation carries on across snapshots instead of restarting at the first endpoint every time
// endpoints change. Not thread-safe: each io_context thread owns one.
class BalancerSet final {
 public:
  Balancer& For(const RouteConfig& route);
  std::size_t size() const noexcept { return balancers_.size(); }

 private:
  std::unordered_map<std::string, std::unique_ptr<Balancer>> balancers_;
};

}  // namespace pier::dataplane::upstream
