#include "limits/connection_limiter.h"

#include <utility>

namespace pier::dataplane::limits {

ConnectionLease::ConnectionLease(ConnectionLease&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)),
      client_shard_(std::exchange(other.client_shard_, nullptr)),
      client_key_(std::exchange(other.client_key_, nullptr)),
      route_shard_(std::exchange(other.route_shard_, nullptr)),
      route_key_(std::exchange(other.route_key_, nullptr)),
      counted_(std::exchange(other.counted_, false)) {}

ConnectionLease& ConnectionLease::operator=(ConnectionLease&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = std::exchange(other.limiter_, nullptr);
    client_shard_ = std::exchange(other.client_shard_, nullptr);
    client_key_ = std::exchange(other.client_key_, nullptr);
    route_shard_ = std::exchange(other.route_shard_, nullptr);
    route_key_ = std::exchange(other.route_key_, nullptr);
    counted_ = std::exchange(other.counted_, false);
  }
  return *this;
}

void ConnectionLease::Release() noexcept {
  if (limiter_ == nullptr) return;
  std::exchange(limiter_, nullptr)->Release(*this);
  client_shard_ = nullptr;
  client_key_ = nullptr;
  route_shard_ = nullptr;
  route_key_ = nullptr;
  counted_ = false;
}

ConnectionLimiter::Outcome ConnectionLimiter::Acquire(std::string_view route, const ClientKey& client,
                                                      const ConnectionLimits& limits, ConnectionLease& lease) {
  lease.Release();
  if (limits.per_client == 0 && limits.per_route == 0) return Outcome::kAcquired;
  // The lease owns each count from the moment it is taken, so a count is given back even if
  // a later step fails (the route is full, or an allocation throws).
  auto attach = [&] { lease.limiter_ = this; };

  if (limits.per_client != 0) {
    detail::ClientShard& shard = client_shards_[ShardOf(HashOf(route, client))];
    std::lock_guard lock(shard.mutex);
    auto it = shard.counts.find(RouteClientView{route, client});
    if (it == shard.counts.end()) {
      it = shard.counts.emplace(RouteClientKey{std::string(route), client}, 0).first;
      Adjust(entries_, gauges_.entries, 1);
    } else if (it->second >= limits.per_client) {
      return Outcome::kClientLimit;
    }
    ++it->second;
    attach();
    lease.client_shard_ = &shard;
    lease.client_key_ = &it->first;
  }

  if (limits.per_route != 0) {
    detail::RouteShard& shard = route_shards_[ShardOf(std::hash<std::string_view>{}(route))];
    bool full = false;
    {
      std::lock_guard lock(shard.mutex);
      auto it = shard.counts.find(route);
      if (it == shard.counts.end()) {
        it = shard.counts.emplace(std::string(route), 0).first;
        Adjust(entries_, gauges_.entries, 1);
      }
      full = it->second >= limits.per_route;
      if (!full) {
        ++it->second;
        attach();
        lease.route_shard_ = &shard;
        lease.route_key_ = &it->first;
      }
    }
    if (full) {
      // Gives the client's count back, outside the route shard's lock: one lock at a time,
      // so no order between shards can deadlock.
      lease.Release();
      return Outcome::kRouteLimit;
    }
  }
  lease.counted_ = true;
  Adjust(leases_, gauges_.leases, 1);
  return Outcome::kAcquired;
}

void ConnectionLimiter::Release(ConnectionLease& lease) noexcept {
  // Uncounted first, so the gauge never shows more leases than the tables hold.
  if (lease.counted_) Adjust(leases_, gauges_.leases, -1);
  if (lease.client_shard_ != nullptr) ReleaseClient(*lease.client_shard_, *lease.client_key_);
  if (lease.route_shard_ != nullptr) ReleaseRoute(*lease.route_shard_, *lease.route_key_);
}

void ConnectionLimiter::ReleaseClient(detail::ClientShard& shard, const RouteClientKey& key) noexcept {
  std::lock_guard lock(shard.mutex);
  // Hashing a key that is itself a node of the map: find cannot throw and cannot miss.
  auto it = shard.counts.find(key);
  if (it == shard.counts.end()) return;
  if (--it->second == 0) {
    shard.counts.erase(it);
    Adjust(entries_, gauges_.entries, -1);
  }
}

void ConnectionLimiter::ReleaseRoute(detail::RouteShard& shard, const std::string& key) noexcept {
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(key);
  if (it == shard.counts.end()) return;
  if (--it->second == 0) {
    shard.counts.erase(it);
    Adjust(entries_, gauges_.entries, -1);
  }
}

uint32_t ConnectionLimiter::ClientCount(std::string_view route, const ClientKey& client) {
  detail::ClientShard& shard = client_shards_[ShardOf(HashOf(route, client))];
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(RouteClientView{route, client});
  return it == shard.counts.end() ? 0 : it->second;
}

uint32_t ConnectionLimiter::RouteCount(std::string_view route) {
  detail::RouteShard& shard = route_shards_[ShardOf(std::hash<std::string_view>{}(route))];
  std::lock_guard lock(shard.mutex);
  auto it = shard.counts.find(route);
  return it == shard.counts.end() ? 0 : it->second;
}

void ConnectionLimiter::Adjust(std::atomic<std::size_t>& value, prometheus::Gauge* gauge, long delta) noexcept {
  value.fetch_add(static_cast<std::size_t>(delta), std::memory_order_relaxed);
  if (gauge == nullptr) return;
  if (delta > 0) {
    gauge->Increment(static_cast<double>(delta));
  } else {
    gauge->Decrement(static_cast<double>(-delta));
  }
}

}  // namespace pier::dataplane::limits
