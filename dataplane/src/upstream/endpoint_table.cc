#include "upstream/endpoint_table.h"

#include <algorithm>

#include "upstream/affinity_cookie.h"

namespace pier::dataplane::upstream {
namespace {

// Dead weak entries are swept when a map doubles past this, so it stays proportional to what
// is alive without scanning on every insertion.
constexpr std::size_t kMinPruneAt = 256;

uint32_t ClampWeight(uint32_t weight) noexcept { return std::clamp<uint32_t>(weight, 1, EndpointTable::kMaxWeight); }

}  // namespace

EndpointTable::EndpointTable(const ClusterConfig& cluster, std::vector<std::shared_ptr<EndpointState>> states)
    : states_(std::move(states)) {
  ids_.reserve(cluster.endpoints.size());
  weights_.reserve(cluster.endpoints.size());
  raw_weights_.reserve(cluster.endpoints.size());
  for (const UpstreamEndpoint& endpoint : cluster.endpoints) {
    ids_.push_back(endpoint.id);
    raw_weights_.push_back(endpoint.weight);
    weights_.push_back(ClampWeight(endpoint.weight));
    equal_weights_ = equal_weights_ && weights_.back() == weights_.front();
  }
}

bool EndpointTable::Matches(const ClusterConfig& cluster) const noexcept {
  if (cluster.endpoints.size() != ids_.size()) return false;
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (cluster.endpoints[i].id != ids_[i] || cluster.endpoints[i].weight != raw_weights_[i]) return false;
  }
  return true;
}

std::optional<uint32_t> EndpointTable::Find(std::string_view id) const noexcept {
  for (uint32_t i = 0; i < size(); ++i) {
    if (ids_[i] == id) return i;
  }
  return std::nullopt;
}

const HashRing& EndpointTable::ring() const {
  std::call_once(ring_once_, [this] {
    std::vector<HashRing::Member> members;
    members.reserve(ids_.size());
    for (uint32_t i = 0; i < size(); ++i) members.push_back({ids_[i], weights_[i]});
    ring_ = HashRing::Build(members);
  });
  return ring_;
}

const std::string& EndpointTable::token(uint32_t index) const {
  FindToken({});  // builds the tokens on first use
  return tokens_[index];
}

std::optional<uint32_t> EndpointTable::FindToken(std::string_view token) const {
  std::call_once(tokens_once_, [this] {
    tokens_.reserve(ids_.size());
    for (uint32_t i = 0; i < size(); ++i) {
      tokens_.push_back(AffinityToken(ids_[i]));
      // Two ids with one 64-bit token would be a SHA-256 collision; the first keeps it either way,
      // the same on every dataplane, since the order is the snapshot's.
      token_index_.emplace(tokens_.back(), i);
    }
  });
  if (token.size() != kAffinityTokenLength) return std::nullopt;
  auto it = token_index_.find(std::string(token));
  if (it == token_index_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const EndpointTable> EndpointRegistry::Table(const ClusterConfig& cluster) {
  std::lock_guard lock(mutex_);
  if (auto it = tables_.find(cluster.name); it != tables_.end()) {
    if (auto table = it->second.lock(); table && table->Matches(cluster)) return table;
  }
  std::vector<std::shared_ptr<EndpointState>> states;
  states.reserve(cluster.endpoints.size());
  for (const UpstreamEndpoint& endpoint : cluster.endpoints) states.push_back(StateLocked(endpoint.id));
  auto table = std::make_shared<const EndpointTable>(cluster, std::move(states));
  tables_[cluster.name] = table;
  PruneLocked();
  return table;
}

std::shared_ptr<EndpointState> EndpointRegistry::StateLocked(const std::string& id) {
  auto& slot = states_[id];
  if (auto state = slot.lock()) return state;
  auto state = std::make_shared<EndpointState>(id);
  slot = state;
  return state;
}

void EndpointRegistry::PruneLocked() {
  if (states_.size() + tables_.size() < prune_at_) return;
  std::erase_if(states_, [](const auto& entry) { return entry.second.expired(); });
  std::erase_if(tables_, [](const auto& entry) { return entry.second.expired(); });
  prune_at_ = std::max(kMinPruneAt, 2 * (states_.size() + tables_.size()));
}

std::size_t EndpointRegistry::tracked_endpoints() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(states_.begin(), states_.end(), [](const auto& entry) { return !entry.second.expired(); }));
}

}  // namespace pier::dataplane::upstream
