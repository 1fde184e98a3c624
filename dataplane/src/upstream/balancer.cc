#include "upstream/balancer.h"

#include <algorithm>

#include "upstream/affinity_cookie.h"

namespace pier::dataplane::upstream {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A thread forgets a cluster it has not routed to for this long (once its map has grown), so
// clusters that left the configuration do not pin their tables forever.
constexpr std::chrono::minutes kViewIdleLifetime{10};
constexpr std::size_t kMinPruneAt = 64;

}  // namespace

BalancerSet::ClusterView& BalancerSet::ViewFor(const std::shared_ptr<const ClusterConfig>& cluster,
                                               SteadyClock::time_point now) {
  auto [it, inserted] = views_.try_emplace(cluster->name);
  ClusterView& view = it->second;
  view.last_used = now;
  // Every snapshot brings new ClusterConfig objects; the endpoints behind them mostly stay.
  if (view.cluster != cluster) {
    view.cluster = cluster;
    if (!view.table || !view.table->Matches(*cluster)) {
      view.table = registry_.Table(*cluster);
      view.round_robin.Reset(*view.table);
      view.least_conn.Reset(*view.table);
    }
  }
  if (inserted) Prune(now);
  return view;
}

void BalancerSet::Prune(SteadyClock::time_point now) {
  if (views_.size() < prune_at_) return;
  std::erase_if(views_, [&](const auto& entry) { return now - entry.second.last_used > kViewIdleLifetime; });
  prune_at_ = std::max(kMinPruneAt, 2 * views_.size());
}

std::optional<uint32_t> BalancerSet::Balance(const RouteConfig& route, ClusterView& view, const RequestKeys& keys,
                                             const Eligibility& eligible) {
  if (keys.hash_key) return view.table->ring().Find(StableHash(*keys.hash_key), eligible);
  if (route.proto.load_balancing().policy() == pier::v1::LoadBalancing::LEAST_CONN) {
    return view.least_conn.Pick(*view.table, eligible);
  }
  return view.round_robin.Pick(*view.table, eligible);
}

Choice BalancerSet::Decide(const RouteConfig& route, ClusterView& view, RequestKeys keys,
                           std::span<const uint32_t> excluded, HealthClock::time_point now) {
  const EndpointTable& table = *view.table;
  const Eligibility healthy(table, now, excluded, false);
  const Eligibility any(table, now, excluded, true);
  const pier::v1::Affinity& affinity = route.proto.affinity();

  std::optional<uint32_t> home;  // the endpoint the affinity cookie names, if it still exists
  if (affinity.mode() != pier::v1::Affinity::NONE && keys.affinity_token) home = table.FindToken(*keys.affinity_token);

  std::optional<uint32_t> chosen;
  if (home && healthy(*home)) chosen = home;
  if (!chosen) chosen = Balance(route, view, keys, healthy);
  if (!chosen) chosen = Balance(route, view, keys, any);  // everything ejected: try anyway

  Choice choice;
  if (!chosen) return choice;
  choice.endpoint = &view.cluster->endpoints[*chosen];
  choice.lease = EndpointLease(table.shared_state(*chosen));
  // A new or orphaned client gets a cookie. One whose endpoint is only ejected keeps its cookie
  // in persistent mode (it returns home once the endpoint recovers) and moves for good in
  // balanced mode.
  const bool pin = affinity.mode() != pier::v1::Affinity::NONE && chosen != home &&
                   (!home || affinity.mode() == pier::v1::Affinity::COOKIE_BALANCED);
  if (pin) choice.set_cookie = AffinitySetCookie(affinity, table.token(*chosen), keys.client_https);
  choice.keys = std::move(keys);
  return choice;
}

Choice BalancerSet::Choose(const RouteConfig& route, RequestKeys keys) {
  if (!route.cluster || route.cluster->endpoints.empty()) return {};
  const auto now = SteadyClock::now();
  ClusterView& view = ViewFor(route.cluster, now);
  return Decide(route, view, std::move(keys), {}, now);
}

Choice BalancerSet::ChooseAgain(const RouteConfig& route, const Choice& failed) {
  if (!failed.endpoint || !route.cluster || route.cluster->endpoints.empty()) return {};
  const auto now = SteadyClock::now();
  ClusterView& view = ViewFor(route.cluster, now);
  std::vector<std::string> tried = failed.tried;
  tried.push_back(failed.endpoint->id);
  // Ids, not indices: a snapshot between two tries may have rebuilt the table.
  std::vector<uint32_t> excluded;
  excluded.reserve(tried.size());
  for (const std::string& id : tried) {
    if (auto index = view.table->Find(id)) excluded.push_back(*index);
  }
  Choice choice = Decide(route, view, failed.keys, excluded, now);
  choice.tried = std::move(tried);
  return choice;
}

bool BalancerSet::Pinned(const RouteConfig& route, const boost::beast::http::fields& request) {
  if (!route.cluster || route.cluster->endpoints.empty()) return false;
  const std::optional<std::string> token = ReadAffinityToken(route.proto, request);
  if (!token) return false;
  return ViewFor(route.cluster, SteadyClock::now()).table->FindToken(*token).has_value();
}

bool BalancerSet::ReportFailure(const Choice& choice) {
  if (!choice.lease) return false;
  return RecordFailure(*choice.lease.state(), HealthClock::now(), registry_.ejection());
}

void BalancerSet::ReportSuccess(const Choice& choice) {
  if (choice.lease) RecordSuccess(*choice.lease.state());
}

}  // namespace pier::dataplane::upstream
