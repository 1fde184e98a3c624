#include "upstream/hash_ring.h"

#include <algorithm>
#include <string>

namespace pier::dataplane::upstream {

uint64_t StableHash(std::string_view data) noexcept {
  constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
  constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
  uint64_t hash = kFnvOffset;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return hash;
}

uint32_t HashRing::PointsPerWeight(uint64_t total_weight) noexcept {
  if (total_weight == 0) return kPointsPerWeight;
  const uint64_t fit = kMaxPoints / total_weight;
  return static_cast<uint32_t>(std::clamp<uint64_t>(fit, 1, kPointsPerWeight));
}

HashRing HashRing::Build(std::span<const Member> members) {
  HashRing ring;
  ring.members_ = static_cast<uint32_t>(members.size());
  uint64_t total_weight = 0;
  for (const Member& member : members) total_weight += std::max<uint32_t>(member.weight, 1);
  const uint32_t per_weight = PointsPerWeight(total_weight);
  ring.points_.reserve(total_weight * per_weight);

  std::string label;
  for (uint32_t index = 0; index < members.size(); ++index) {
    const Member& member = members[index];
    const uint64_t count = uint64_t{std::max<uint32_t>(member.weight, 1)} * per_weight;
    label.assign(member.id);
    label.push_back('#');
    const std::size_t prefix = label.size();
    for (uint64_t n = 0; n < count; ++n) {
      label.resize(prefix);
      label += std::to_string(n);
      ring.points_.push_back({StableHash(label), index});
    }
  }
  // Equal hashes are ordered by id, not by index, so the ring does not depend on the order the
  // members came in.
  std::sort(ring.points_.begin(), ring.points_.end(), [&](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return members[a.member].id < members[b.member].id;
  });
  return ring;
}

std::size_t HashRing::FirstAtOrAfter(uint64_t hash) const noexcept {
  auto it = std::lower_bound(points_.begin(), points_.end(), hash,
                             [](const Point& point, uint64_t value) { return point.hash < value; });
  return it == points_.end() ? 0 : static_cast<std::size_t>(it - points_.begin());
}

std::optional<uint32_t> HashRing::Owner(uint64_t hash) const noexcept {
  if (points_.empty()) return std::nullopt;
  return points_[FirstAtOrAfter(hash)].member;
}

}  // namespace pier::dataplane::upstream
