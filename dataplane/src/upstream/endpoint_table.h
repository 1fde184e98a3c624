// One cluster's endpoints as the balancers see them: ids, weights, the shared per-endpoint
// state, and (built on first use) the hash ring and the affinity cookie values. A table is
// immutable and shared by every thread for as long as the cluster's endpoints stay the same, so
// a snapshot that changes something else costs no rebuild, and each ring or set of cookie values
// is computed once per process rather than once per thread.
//
// EndpointRegistry hands out the tables and the EndpointStates behind them. It is the only part
// of balancing with a lock, taken when a thread first meets a cluster or its endpoints change,
// never per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routing/config.h"
#include "upstream/endpoint_state.h"
#include "upstream/hash_ring.h"
#include "upstream/passive_health.h"

namespace pier::dataplane::upstream {

class EndpointTable final {
 public:
  // Weights above this are clamped: they only shape shares, and the ring holds
  // kPointsPerWeight points per unit.
  static constexpr uint32_t kMaxWeight = 100;

  // `states[i]` is the state of `cluster.endpoints[i]`.
  EndpointTable(const ClusterConfig& cluster, std::vector<std::shared_ptr<EndpointState>> states);
  EndpointTable(const EndpointTable&) = delete;
  EndpointTable& operator=(const EndpointTable&) = delete;

  // True when `cluster` lists the same endpoints with the same weights in the same order, so
  // an index into this table is an index into cluster.endpoints.
  bool Matches(const ClusterConfig& cluster) const noexcept;

  uint32_t size() const noexcept { return static_cast<uint32_t>(ids_.size()); }
  const std::string& id(uint32_t index) const noexcept { return ids_[index]; }
  uint32_t weight(uint32_t index) const noexcept { return weights_[index]; }
  bool equal_weights() const noexcept { return equal_weights_; }
  EndpointState& state(uint32_t index) const noexcept { return *states_[index]; }
  const std::shared_ptr<EndpointState>& shared_state(uint32_t index) const noexcept { return states_[index]; }
  std::optional<uint32_t> Find(std::string_view id) const noexcept;

  // Consistent-hash ring over the endpoint ids; built by the first caller.
  const HashRing& ring() const;
  // Affinity cookie value of an endpoint, and the reverse lookup; computed by the first caller.
  const std::string& token(uint32_t index) const;
  std::optional<uint32_t> FindToken(std::string_view token) const;

 private:
  std::vector<std::string> ids_;
  std::vector<uint32_t> weights_;
  std::vector<uint32_t> raw_weights_;  // as in the snapshot, for Matches
  std::vector<std::shared_ptr<EndpointState>> states_;
  bool equal_weights_ = true;

  mutable std::once_flag ring_once_;
  mutable HashRing ring_;
  mutable std::once_flag tokens_once_;
  mutable std::vector<std::string> tokens_;
  mutable std::unordered_map<std::string, uint32_t> token_index_;
};

class EndpointRegistry final {
 public:
  explicit EndpointRegistry(EjectionPolicy ejection = {}) : ejection_(ejection) {}
  EndpointRegistry(const EndpointRegistry&) = delete;
  EndpointRegistry& operator=(const EndpointRegistry&) = delete;

  // The table for the cluster's current endpoints: the one already in use when another thread
  // built it for the same endpoints, a new one otherwise. Endpoints keep their EndpointState
  // (load, ejection) across tables, and across clusters that share an address and port.
  std::shared_ptr<const EndpointTable> Table(const ClusterConfig& cluster);

  const EjectionPolicy& ejection() const noexcept { return ejection_; }
  // Endpoints with live state (held by some table or lease); for tests and pruning checks.
  std::size_t tracked_endpoints() const;

 private:
  std::shared_ptr<EndpointState> StateLocked(const std::string& id);
  void PruneLocked();

  const EjectionPolicy ejection_;
  mutable std::mutex mutex_;
  // Weak: a state lives as long as a table or a lease needs it, a table as long as a thread does.
  std::unordered_map<std::string, std::weak_ptr<EndpointState>> states_;
  std::unordered_map<std::string, std::weak_ptr<const EndpointTable>> tables_;  // by cluster name
  std::size_t prune_at_ = 0;
};

}  // namespace pier::dataplane::upstream
