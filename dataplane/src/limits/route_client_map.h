// The hash map behind both limit tables: (route name, client) -> value, looked up with a
// string_view so a request for a client already in the table allocates nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/client_key.h"

namespace pier::dataplane::limits {

struct RouteClientKey {
  std::string route;
  ClientKey client;
};

struct RouteClientHash {
  using is_transparent = void;
  std::size_t operator()(const RouteClientKey& key) const noexcept { return HashOf(key.route, key.client); }
  std::size_t operator()(const RouteClientView& key) const noexcept { return HashOf(key.route, key.client); }
};

struct RouteClientEqual {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const noexcept {
    return a.client == b.client && std::string_view(a.route) == std::string_view(b.route);
  }
};

template <typename Value>
using RouteClientMap = std::unordered_map<RouteClientKey, Value, RouteClientHash, RouteClientEqual>;

// Shards are picked by the same hash, with different bits than the buckets inside a shard use.
inline constexpr std::size_t kShardCount = 64;
inline std::size_t ShardOf(std::size_t hash) noexcept { return (hash >> 16) % kShardCount; }

}  // namespace pier::dataplane::limits
