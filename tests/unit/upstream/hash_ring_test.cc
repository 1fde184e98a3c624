#include "upstream/hash_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace pier::dataplane::upstream {
namespace {

constexpr int kEndpoints = 10;
constexpr int kKeys = 10000;
// The remap bound the issue sets: removing one of N endpoints moves at most 1/N + 2% of keys.
constexpr double kSlack = 0.02;

std::vector<std::string> Ids(int count) {
  std::vector<std::string> ids;
  for (int i = 1; i <= count; ++i) ids.push_back("10.0.0." + std::to_string(i) + ":8080");
  return ids;
}

HashRing Ring(const std::vector<std::string>& ids, const std::vector<uint32_t>& weights = {}) {
  std::vector<HashRing::Member> members;
  for (std::size_t i = 0; i < ids.size(); ++i) members.push_back({ids[i], i < weights.size() ? weights[i] : 1});
  return HashRing::Build(members);
}

// Key -> owning endpoint id, for every test key.
std::vector<std::string> Owners(const HashRing& ring, const std::vector<std::string>& ids) {
  std::vector<std::string> owners;
  owners.reserve(kKeys);
  for (int k = 0; k < kKeys; ++k) owners.push_back(ids[*ring.Owner(StableHash("client-" + std::to_string(k)))]);
  return owners;
}

TEST(StableHash, NeverChangesAcrossBuilds) {
  // Changing the function remaps every sticky client of every deployed dataplane on upgrade,
  // and splits clients between old and new replicas during a rollout. These values are fixed.
  EXPECT_EQ(StableHash(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(StableHash("10.0.0.1:8080"), 0xe8c721156ed52b14ULL);
  EXPECT_EQ(StableHash("10.0.0.1:8080#0"), StableHash("10.0.0.1:8080#0"));
  EXPECT_NE(StableHash("10.0.0.1:8080#0"), StableHash("10.0.0.1:8080#1"));
}

TEST(HashRing, EmptyRingOwnsNothing) {
  HashRing ring = HashRing::Build({});
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.Owner(42).has_value());
  EXPECT_FALSE(ring.Find(42, [](uint32_t) { return true; }).has_value());
}

TEST(HashRing, SpreadsKeysEvenly) {
  auto ids = Ids(kEndpoints);
  std::map<std::string, int> counts;
  for (const auto& owner : Owners(Ring(ids), ids)) counts[owner]++;
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(kEndpoints));
  for (const auto& [id, count] : counts) {
    EXPECT_GT(count, kKeys / kEndpoints * 0.75) << id;
    EXPECT_LT(count, kKeys / kEndpoints * 1.25) << id;
  }
}

TEST(HashRing, RemovingAnEndpointMovesOnlyItsKeysAndAddingItBackRestoresThem) {
  const auto ids = Ids(kEndpoints);
  const auto before = Owners(Ring(ids), ids);
  for (int removed = 0; removed < kEndpoints; ++removed) {
    auto fewer = ids;
    fewer.erase(fewer.begin() + removed);
    const auto after = Owners(Ring(fewer), fewer);
    int moved = 0;
    for (int k = 0; k < kKeys; ++k) {
      if (before[k] == after[k]) continue;
      ++moved;
      ASSERT_EQ(before[k], ids[removed]) << "key " << k << " moved although its endpoint stayed";
    }
    EXPECT_LE(moved, kKeys * (1.0 / kEndpoints + kSlack)) << "removing " << ids[removed];

    // Back again, in a different position of the list: every key is home again.
    auto restored_ids = fewer;
    restored_ids.push_back(ids[removed]);
    EXPECT_EQ(Owners(Ring(restored_ids), restored_ids), before) << "re-adding " << ids[removed];
  }
}

TEST(HashRing, AddingAnEndpointTakesOnlyItsShare) {
  const auto ids = Ids(kEndpoints);
  const auto before = Owners(Ring(ids), ids);
  const auto more = Ids(kEndpoints + 1);
  const auto after = Owners(Ring(more), more);
  int moved = 0;
  for (int k = 0; k < kKeys; ++k) {
    if (before[k] == after[k]) continue;
    ++moved;
    EXPECT_EQ(after[k], more.back()) << "a key moved between two old endpoints";
  }
  EXPECT_GT(moved, 0);
  EXPECT_LE(moved, kKeys * (1.0 / (kEndpoints + 1) + kSlack));
}

TEST(HashRing, IndependentlyBuiltRingsAgreeWhateverTheOrder) {
  const auto ids = Ids(kEndpoints);
  auto shuffled = ids;
  std::mt19937 random(7);
  std::shuffle(shuffled.begin(), shuffled.end(), random);
  EXPECT_EQ(Owners(Ring(ids), ids), Owners(Ring(shuffled), shuffled));
}

TEST(HashRing, WeightsShapeTheShares) {
  const auto ids = Ids(3);
  std::map<std::string, int> counts;
  for (const auto& owner : Owners(Ring(ids, {1, 1, 2}), ids)) counts[owner]++;
  const double heavy = counts[ids[2]];
  EXPECT_GT(heavy / kKeys, 0.45);
  EXPECT_LT(heavy / kKeys, 0.55);
  EXPECT_GT(counts[ids[0]], kKeys / 5);
  EXPECT_GT(counts[ids[1]], kKeys / 5);
}

TEST(HashRing, FindSkipsRejectedMembersDeterministically) {
  const auto ids = Ids(4);
  HashRing ring = Ring(ids);
  for (int k = 0; k < 200; ++k) {
    const uint64_t hash = StableHash("key-" + std::to_string(k));
    const uint32_t owner = *ring.Owner(hash);
    EXPECT_EQ(ring.Find(hash, [](uint32_t) { return true; }), owner);
    auto next = ring.Find(hash, [&](uint32_t m) { return m != owner; });
    ASSERT_TRUE(next.has_value());
    EXPECT_NE(*next, owner);
    // The fallback is where the key would live without its owner: the same as a ring built
    // without that member.
    std::vector<std::string> without;
    for (uint32_t m = 0; m < ids.size(); ++m) {
      if (m != owner) without.push_back(ids[m]);
    }
    EXPECT_EQ(ids[*next], without[*Ring(without).Owner(hash)]);
  }
  EXPECT_FALSE(ring.Find(1, [](uint32_t) { return false; }).has_value());
}

TEST(HashRing, LargeClustersStayWithinTheMemoryBound) {
  EXPECT_EQ(HashRing::PointsPerWeight(10), HashRing::kPointsPerWeight);
  EXPECT_LE(uint64_t{50000} * HashRing::PointsPerWeight(50000), HashRing::kMaxPoints);
  EXPECT_GE(HashRing::PointsPerWeight(50'000'000), 1u);
}

}  // namespace
}  // namespace pier::dataplane::upstream
