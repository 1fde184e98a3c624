// Choosing the endpoint for one request: what the HTTP session asks, per route.
//
// Order of precedence: a valid affinity cookie, then the upstream-hash-by key, then the
// route's policy (round_robin or least_conn). Ejected endpoints are skipped by all three unless
// every endpoint is ejected (then they are tried anyway: a guess beats a certain 503). See
// docs/load-balancing.md for what happens to sticky clients when endpoints come and go.
//
// Each io_context thread owns one BalancerSet (no locks); the endpoint tables and states behind
// it are shared through the process' EndpointRegistry.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <span>
#include <unordered_map>
#include <vector>

#include "routing/config.h"
#include "upstream/endpoint_state.h"
#include "upstream/endpoint_table.h"
#include "upstream/policies.h"
#include "upstream/request_keys.h"

namespace pier::dataplane::upstream {

// The outcome of a choice, kept with the exchange until it ends.
struct Choice {
  // Null when the cluster has no endpoint left to try.
  const UpstreamEndpoint* endpoint = nullptr;
  // Counts this request (and the tunnel it may become) on the endpoint for least_conn.
  EndpointLease lease;
  // Set-Cookie value to add to the response from `endpoint`; "" when the client's cookie
  // already names it (or the route has no affinity).
  std::string set_cookie;
  RequestKeys keys;
  // The endpoints this request tried before `endpoint` (their ids), oldest first.
  std::vector<std::string> tried;
};

class BalancerSet final {
 public:
  explicit BalancerSet(EndpointRegistry& registry) : registry_(registry) {}
  BalancerSet(const BalancerSet&) = delete;
  BalancerSet& operator=(const BalancerSet&) = delete;

  // `route.cluster` must be set; a cluster without endpoints gives a Choice without endpoint.
  Choice Choose(const RouteConfig& route, RequestKeys keys);

  // After a try on `failed.endpoint` failed (report a failed connect first): an endpoint this
  // request has not tried yet, decided on the same keys, or a Choice without endpoint when
  // every endpoint was tried. `failed` is left as it was; the caller bounds the tries.
  Choice ChooseAgain(const RouteConfig& route, const Choice& failed);

  // The request's affinity cookie for `route` names an endpoint of its cluster (ejected or
  // not): an earlier response of this route pinned the client there. False for a route without
  // cookie affinity or without endpoints. The canary decision asks it (canary.h).
  bool Pinned(const RouteConfig& route, const boost::beast::http::fields& request);

  // Passive health. ReportFailure returns true when the failure ejected the endpoint.
  bool ReportFailure(const Choice& choice);
  void ReportSuccess(const Choice& choice);

  std::size_t size() const noexcept { return views_.size(); }

 private:
  // One cluster as this thread sees it.
  struct ClusterView {
    std::shared_ptr<const ClusterConfig> cluster;  // the one `table` was last matched against
    std::shared_ptr<const EndpointTable> table;
    RoundRobinBalancer round_robin;
    LeastConnBalancer least_conn;
    std::chrono::steady_clock::time_point last_used;
  };

  ClusterView& ViewFor(const std::shared_ptr<const ClusterConfig>& cluster, std::chrono::steady_clock::time_point now);
  Choice Decide(const RouteConfig& route, ClusterView& view, RequestKeys keys, std::span<const uint32_t> excluded,
                HealthClock::time_point now);
  std::optional<uint32_t> Balance(const RouteConfig& route, ClusterView& view, const RequestKeys& keys,
                                  const Eligibility& eligible);
  void Prune(std::chrono::steady_clock::time_point now);

  EndpointRegistry& registry_;
  std::unordered_map<std::string, ClusterView> views_;  // by cluster name
  std::size_t prune_at_ = 0;
};

}  // namespace pier::dataplane::upstream
