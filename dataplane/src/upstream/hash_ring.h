// Consistent hashing over a cluster's endpoints: a ring of points, each endpoint owning
// kPointsPerWeight points per unit of weight; a key belongs to the first point at or after its
// hash. Removing an endpoint moves only the keys it owned, adding it back restores them, and
// adding another one takes only its share from the rest.
//
// Points are placed by hashing the endpoint id ("address:port") with a fixed function, never by
// position in a list or by anything process-local, so every dataplane (any build, any thread,
// any order of endpoints) that sees the same endpoints sends a key to the same one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pier::dataplane::upstream {

// A fixed 64-bit hash (FNV-1a, then the MurmurHash3 finaliser so near-identical inputs such as
// "id#1" and "id#2" spread over the whole range). Stable across processes and platforms.
uint64_t StableHash(std::string_view data) noexcept;

class HashRing final {
 public:
  // Enough points that each endpoint's share stays within a few percent of its weight.
  static constexpr uint32_t kPointsPerWeight = 256;
  // A bound on memory for very large clusters: past it every endpoint gets fewer points (see
  // PointsPerWeight), which spreads keys less evenly but keeps the ring at most ~16 MiB.
  static constexpr std::size_t kMaxPoints = std::size_t{1} << 20;

  struct Member {
    std::string_view id;
    uint32_t weight = 1;  // 0 is treated as 1
  };

  HashRing() = default;
  // Member indices in lookups refer to `members`; ids should be distinct.
  static HashRing Build(std::span<const Member> members);

  bool empty() const noexcept { return points_.empty(); }
  std::size_t points() const noexcept { return points_.size(); }

  // The member owning `hash`, or nullopt for an empty ring.
  std::optional<uint32_t> Owner(uint64_t hash) const noexcept;

  // The first member clockwise from `hash` that `accept(index)` admits: the key's owner when it
  // is admitted, otherwise the member that would own the key without it. Nullopt when no member
  // is admitted.
  template <class Accept>
  std::optional<uint32_t> Find(uint64_t hash, Accept&& accept) const;

  // Points per unit of weight for a ring of this total weight.
  static uint32_t PointsPerWeight(uint64_t total_weight) noexcept;

 private:
  struct Point {
    uint64_t hash;
    uint32_t member;
  };
  std::size_t FirstAtOrAfter(uint64_t hash) const noexcept;

  std::vector<Point> points_;  // sorted by hash
  uint32_t members_ = 0;
};

template <class Accept>
std::optional<uint32_t> HashRing::Find(uint64_t hash, Accept&& accept) const {
  if (points_.empty()) return std::nullopt;
  std::size_t at = FirstAtOrAfter(hash);
  if (accept(points_[at].member)) return points_[at].member;
  // Rare path (the owner is ejected or excluded): walk on, asking each member once.
  std::vector<bool> asked(members_, false);
  asked[points_[at].member] = true;
  uint32_t remaining = members_ - 1;
  for (std::size_t step = 1; step < points_.size() && remaining > 0; ++step) {
    const uint32_t member = points_[(at + step) % points_.size()].member;
    if (asked[member]) continue;
    if (accept(member)) return member;
    asked[member] = true;
    --remaining;
  }
  return std::nullopt;
}

}  // namespace pier::dataplane::upstream
