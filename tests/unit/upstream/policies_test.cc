#include "upstream/policies.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "clusters.h"

namespace pier::dataplane::upstream {
namespace {

class PoliciesTest : public ::testing::Test {
 protected:
  std::shared_ptr<const EndpointTable> TableOf(std::vector<int> endpoints, std::vector<uint32_t> weights = {}) {
    return registry_.Table(*testing::Cluster(std::move(endpoints), std::move(weights)));
  }
  Eligibility All(const EndpointTable& table) { return Eligibility(table, HealthClock::now(), {}, false); }

  EndpointRegistry registry_;
};

TEST_F(PoliciesTest, RoundRobinCyclesEvenly) {
  auto table = TableOf(testing::Range(3));
  RoundRobinBalancer balancer;
  std::vector<uint32_t> order;
  for (int i = 0; i < 9; ++i) order.push_back(*balancer.Pick(*table, All(*table)));
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2}));
}

TEST_F(PoliciesTest, RoundRobinHonoursWeightsSmoothly) {
  auto table = TableOf({1, 2, 3}, {5, 1, 1});
  RoundRobinBalancer balancer;
  std::vector<uint32_t> order;
  for (int i = 0; i < 700; ++i) order.push_back(*balancer.Pick(*table, All(*table)));
  std::map<uint32_t, int> counts;
  for (uint32_t index : order) counts[index]++;
  EXPECT_EQ(counts[0], 500);
  EXPECT_EQ(counts[1], 100);
  EXPECT_EQ(counts[2], 100);
  // Smooth: every window of one full weight cycle holds each endpoint its weight's worth, and
  // the light endpoints are not served in one run at the end of it.
  for (std::size_t start = 0; start + 7 <= order.size(); start += 7) {
    std::map<uint32_t, int> window;
    for (std::size_t i = start; i < start + 7; ++i) window[order[i]]++;
    EXPECT_EQ(window[0], 5);
    EXPECT_EQ(window[1], 1);
    EXPECT_EQ(window[2], 1);
  }
  EXPECT_NE(std::vector<uint32_t>(order.begin(), order.begin() + 7), (std::vector<uint32_t>{0, 0, 0, 0, 0, 1, 2}));
}

TEST_F(PoliciesTest, RoundRobinSkipsIneligible) {
  auto table = TableOf(testing::Range(3));
  RoundRobinBalancer balancer;
  const std::vector<uint32_t> middle = {1};
  Eligibility not_middle(*table, HealthClock::now(), middle, false);
  for (int i = 0; i < 6; ++i) EXPECT_NE(balancer.Pick(*table, not_middle), 1u);

  auto weighted = TableOf({1, 2, 3}, {1, 2, 3});
  RoundRobinBalancer weighted_balancer;
  const std::vector<uint32_t> heavy = {2};
  Eligibility not_heavy(*weighted, HealthClock::now(), heavy, false);
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 30; ++i) counts[*weighted_balancer.Pick(*weighted, not_heavy)]++;
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 20);
  EXPECT_EQ(counts[2], 0);
}

TEST_F(PoliciesTest, RoundRobinSkipsEjectedAndGivesUpWhenNothingIsLeft) {
  auto table = TableOf(testing::Range(2));
  const auto now = HealthClock::now();
  RecordFailure(table->state(0), now, EjectionPolicy{});
  RoundRobinBalancer balancer;
  Eligibility healthy(*table, now, {}, false);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(balancer.Pick(*table, healthy), 1u);
  RecordFailure(table->state(1), now, EjectionPolicy{});
  EXPECT_FALSE(balancer.Pick(*table, healthy).has_value());
  Eligibility any(*table, now, {}, true);
  EXPECT_TRUE(balancer.Pick(*table, any).has_value());
}

TEST_F(PoliciesTest, LeastConnSpreadsLiveConnectionsEvenly) {
  auto table = TableOf(testing::Range(3));
  LeastConnBalancer balancer;
  std::vector<EndpointLease> open;  // long-lived tunnels: none ends during the test
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 30; ++i) {
    uint32_t index = *balancer.Pick(*table, All(*table));
    counts[index]++;
    open.emplace_back(table->shared_state(index));
  }
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 10);
  EXPECT_EQ(counts[2], 10);
}

TEST_F(PoliciesTest, LeastConnFillsTheEndpointWhoseTunnelsEnded) {
  auto table = TableOf(testing::Range(3));
  LeastConnBalancer balancer;
  std::vector<EndpointLease> on_first, others;
  for (int i = 0; i < 5; ++i) on_first.emplace_back(table->shared_state(0));
  for (int i = 0; i < 4; ++i) others.emplace_back(table->shared_state(1));
  for (int i = 0; i < 4; ++i) others.emplace_back(table->shared_state(2));
  on_first.clear();  // five tunnels on the first endpoint closed
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 4; ++i) {
    uint32_t index = *balancer.Pick(*table, All(*table));
    counts[index]++;
    others.emplace_back(table->shared_state(index));
  }
  EXPECT_EQ(counts[0], 4);
}

TEST_F(PoliciesTest, LeastConnWeighsConnectionsByWeight) {
  auto table = TableOf({1, 2}, {1, 3});
  LeastConnBalancer balancer;
  std::vector<EndpointLease> open;
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 40; ++i) {
    uint32_t index = *balancer.Pick(*table, All(*table));
    counts[index]++;
    open.emplace_back(table->shared_state(index));
  }
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 30);
}

TEST_F(PoliciesTest, LeastConnRotatesTiesWhenNothingStaysOpen) {
  auto table = TableOf(testing::Range(3));
  LeastConnBalancer balancer;
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 30; ++i) counts[*balancer.Pick(*table, All(*table))]++;  // each request ends at once
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 10);
  EXPECT_EQ(counts[2], 10);
}

TEST_F(PoliciesTest, LeastConnIgnoresIneligibleEvenWhenIdle) {
  auto table = TableOf(testing::Range(2));
  LeastConnBalancer balancer;
  std::vector<EndpointLease> open;
  for (int i = 0; i < 3; ++i) open.emplace_back(table->shared_state(1));
  const std::vector<uint32_t> first = {0};
  Eligibility not_first(*table, HealthClock::now(), first, false);
  EXPECT_EQ(balancer.Pick(*table, not_first), 1u);
}

}  // namespace
}  // namespace pier::dataplane::upstream
