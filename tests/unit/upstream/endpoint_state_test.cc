#include "upstream/endpoint_state.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "clusters.h"
#include "upstream/endpoint_table.h"

namespace pier::dataplane::upstream {
namespace {

TEST(EndpointLease, CountsWhileAlive) {
  auto state = std::make_shared<EndpointState>("10.0.0.1:8080");
  {
    EndpointLease lease(state);
    EXPECT_EQ(state->active.load(), 1);
    EndpointLease second(state);
    EXPECT_EQ(state->active.load(), 2);
  }
  EXPECT_EQ(state->active.load(), 0);
}

TEST(EndpointLease, MovesDecrementExactlyOnce) {
  auto state = std::make_shared<EndpointState>("10.0.0.1:8080");
  EndpointLease moved_into;
  {
    EndpointLease lease(state);
    EndpointLease middle(std::move(lease));
    moved_into = std::move(middle);
    EXPECT_EQ(state->active.load(), 1);
  }
  EXPECT_EQ(state->active.load(), 1) << "moved-from leases must not release";
  moved_into.Release();
  moved_into.Release();
  EXPECT_EQ(state->active.load(), 0);
  EXPECT_FALSE(moved_into);
}

TEST(EndpointLease, AssigningReleasesTheOldOne) {
  auto a = std::make_shared<EndpointState>("a:1");
  auto b = std::make_shared<EndpointState>("b:1");
  EndpointLease lease(a);
  lease = EndpointLease(b);
  EXPECT_EQ(a->active.load(), 0);
  EXPECT_EQ(b->active.load(), 1);
}

TEST(EndpointLease, ThreadsBalanceToZero) {
  auto state = std::make_shared<EndpointState>("10.0.0.1:8080");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([state] {
      for (int i = 0; i < 10000; ++i) EndpointLease lease(state);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(state->active.load(), 0);
}

TEST(EndpointRegistry, OneTablePerEndpointListAcrossSnapshots) {
  EndpointRegistry registry;
  auto first = testing::Cluster(testing::Range(3));
  auto same = testing::Cluster(testing::Range(3));  // the next snapshot's copy
  auto table = registry.Table(*first);
  EXPECT_EQ(registry.Table(*same).get(), table.get());

  auto changed = testing::Cluster({1, 2, 4});
  auto other = registry.Table(*changed);
  EXPECT_NE(other.get(), table.get());
  // Endpoints that stay keep their state (load, ejection) in the new table.
  EXPECT_EQ(&other->state(0), &table->state(0));
  EXPECT_EQ(&other->state(1), &table->state(1));
}

TEST(EndpointRegistry, ClustersSharingAnEndpointShareItsState) {
  EndpointRegistry registry;
  auto a = testing::Cluster({1, 2});
  auto b = testing::Cluster({2, 3});
  b->name = "default/other:80";
  auto ta = registry.Table(*a);
  auto tb = registry.Table(*b);
  EXPECT_EQ(&ta->state(1), &tb->state(0));
}

TEST(EndpointRegistry, ForgetsWhatNobodyHolds) {
  EndpointRegistry registry;
  {
    auto table = registry.Table(*testing::Cluster(testing::Range(5)));
    EXPECT_EQ(registry.tracked_endpoints(), 5u);
  }
  EXPECT_EQ(registry.tracked_endpoints(), 0u);
}

TEST(EndpointTable, MatchesOnlyTheSameEndpointsAndWeights) {
  EndpointRegistry registry;
  auto table = registry.Table(*testing::Cluster({1, 2}, {1, 2}));
  EXPECT_TRUE(table->Matches(*testing::Cluster({1, 2}, {1, 2})));
  EXPECT_FALSE(table->Matches(*testing::Cluster({1, 2}, {1, 1})));
  EXPECT_FALSE(table->Matches(*testing::Cluster({2, 1}, {2, 1})));
  EXPECT_FALSE(table->Matches(*testing::Cluster({1})));
  EXPECT_FALSE(table->equal_weights());
}

TEST(EndpointTable, TokensMapBackToTheirEndpoint) {
  EndpointRegistry registry;
  auto table = registry.Table(*testing::Cluster(testing::Range(4)));
  for (uint32_t i = 0; i < table->size(); ++i) EXPECT_EQ(table->FindToken(table->token(i)), i);
  EXPECT_FALSE(table->FindToken("0000000000000000"));
  EXPECT_FALSE(table->FindToken("short"));
  EXPECT_FALSE(table->FindToken(""));
}

}  // namespace
}  // namespace pier::dataplane::upstream
