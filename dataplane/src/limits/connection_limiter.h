// limit-connections and max-connections: how many requests and WebSocket tunnels a client (per
// route) and a route (all clients) have open on this dataplane right now, shared by every
// worker thread. A count is held by a ConnectionLease from admission until the exchange ends
// or, for a WebSocket, until its tunnel is gone; the lease releases exactly once whichever way
// that happens (normal end, error, timeout, drain), because its destructor does it. A table
// entry whose count drops to zero is removed, so the tables hold only clients that have
// something open.
#pragma once

#include <prometheus/gauge.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/client_key.h"
#include "limits/route_client_map.h"

namespace pier::dataplane::limits {

namespace detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

struct ClientShard {
  std::mutex mutex;
  RouteClientMap<uint32_t> counts;
};

struct RouteShard {
  std::mutex mutex;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> counts;
};

}  // namespace detail

class ConnectionLimiter;

class ConnectionLease final {
 public:
  ConnectionLease() = default;
  ConnectionLease(ConnectionLease&& other) noexcept;
  ConnectionLease& operator=(ConnectionLease&& other) noexcept;
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  ~ConnectionLease() { Release(); }

  // True while this lease holds a count.
  bool held() const noexcept { return limiter_ != nullptr; }
  void Release() noexcept;

 private:
  friend class ConnectionLimiter;

  ConnectionLimiter* limiter_ = nullptr;
  // Nodes of the limiter's maps: unordered_map never moves a node while it exists, and a node
  // whose count this lease holds cannot be erased. Null when that limit was not counted.
  detail::ClientShard* client_shard_ = nullptr;
  const RouteClientKey* client_key_ = nullptr;
  detail::RouteShard* route_shard_ = nullptr;
  const std::string* route_key_ = nullptr;
  // Whether leases() and its gauge count this lease: only once Acquire has succeeded, so a
  // connection refused by the route limit never shows in them, not even for an instant.
  bool counted_ = false;
};

struct ConnectionLimits {
  uint32_t per_client = 0;  // limit-connections; 0 = not counted
  uint32_t per_route = 0;   // max-connections; 0 = not counted
};

class ConnectionLimiter final {
 public:
  enum class Outcome { kAcquired, kClientLimit, kRouteLimit };

  struct Gauges {
    prometheus::Gauge* leases = nullptr;   // kept equal to leases()
    prometheus::Gauge* entries = nullptr;  // kept equal to entries()
  };

  ConnectionLimiter() : ConnectionLimiter(Gauges{}) {}
  explicit ConnectionLimiter(Gauges gauges) : gauges_(gauges) {}
  // Leases must not outlive the limiter (the proxy's state owns it and outlives every session).
  ConnectionLimiter(const ConnectionLimiter&) = delete;
  ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

  // Counts one more connection of `client` on `route` if that keeps both counts within their
  // limits; on kAcquired `lease` holds the counts (it stays empty when neither limit is set).
  // Check and increment happen under one lock, so concurrent callers never overshoot.
  Outcome Acquire(std::string_view route, const ClientKey& client, const ConnectionLimits& limits,
                  ConnectionLease& lease);

  // Leases holding a count, and (route, client) plus route entries in the tables.
  std::size_t leases() const noexcept { return leases_.load(std::memory_order_relaxed); }
  std::size_t entries() const noexcept { return entries_.load(std::memory_order_relaxed); }

  // What a count is now (0 when absent); for tests and diagnostics.
  uint32_t ClientCount(std::string_view route, const ClientKey& client);
  uint32_t RouteCount(std::string_view route);

 private:
  friend class ConnectionLease;

  void Release(ConnectionLease& lease) noexcept;
  void ReleaseClient(detail::ClientShard& shard, const RouteClientKey& key) noexcept;
  void ReleaseRoute(detail::RouteShard& shard, const std::string& key) noexcept;
  static void Adjust(std::atomic<std::size_t>& value, prometheus::Gauge* gauge, long delta) noexcept;

  const Gauges gauges_;
  std::atomic<std::size_t> leases_{0};
  std::atomic<std::size_t> entries_{0};
  std::array<detail::ClientShard, kShardCount> client_shards_;
  std::array<detail::RouteShard, kShardCount> route_shards_;
};

}  // namespace pier::dataplane::limits
