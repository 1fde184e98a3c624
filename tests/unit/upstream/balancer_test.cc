#include "upstream/balancer.h"

#include <gtest/gtest.h>

#include <map>

namespace pier::dataplane::upstream {
namespace {

ClusterConfig Cluster(int endpoints) {
  ClusterConfig cluster;
  cluster.name = "default/app:80";
  for (int i = 0; i < endpoints; ++i) {
    UpstreamEndpoint endpoint;
    endpoint.address = {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(9000 + i)};
    endpoint.id = "127.0.0.1:" + std::to_string(9000 + i);
    cluster.endpoints.push_back(endpoint);
  }
  return cluster;
}

TEST(RoundRobin, CyclesThroughEveryEndpointEvenly) {
  auto cluster = Cluster(3);
  RoundRobinBalancer balancer;
  std::map<std::string, int> picks;
  std::vector<std::string> order;
  for (int i = 0; i < 9; ++i) {
    const auto* endpoint = balancer.Pick(cluster, {});
    ASSERT_NE(endpoint, nullptr);
    picks[endpoint->id]++;
    order.push_back(endpoint->id);
  }
  for (const auto& [id, count] : picks) EXPECT_EQ(count, 3) << id;
  EXPECT_EQ(order[0], order[3]);
  EXPECT_NE(order[0], order[1]);
  EXPECT_NE(order[1], order[2]);
}

TEST(RoundRobin, EmptyClusterGivesNull) {
  auto cluster = Cluster(0);
  RoundRobinBalancer balancer;
  EXPECT_EQ(balancer.Pick(cluster, {}), nullptr);
}

TEST(RoundRobin, SurvivesTheClusterShrinking) {
  auto big = Cluster(5);
  auto small = Cluster(2);
  RoundRobinBalancer balancer;
  for (int i = 0; i < 4; ++i) balancer.Pick(big, {});
  for (int i = 0; i < 4; ++i) {
    const auto* endpoint = balancer.Pick(small, {});
    ASSERT_NE(endpoint, nullptr);
    EXPECT_TRUE(endpoint >= &small.endpoints.front() && endpoint <= &small.endpoints.back());
  }
}

TEST(BalancerSet, OneBalancerPerClusterName) {
  auto cluster = std::make_shared<ClusterConfig>(Cluster(2));
  RouteConfig a;
  a.name = "default/a/0/0";
  a.cluster = cluster;
  RouteConfig b;
  b.name = "default/b/0/0";
  b.cluster = cluster;
  BalancerSet set;
  // Two routes to one cluster share the rotation.
  EXPECT_EQ(&set.For(a), &set.For(b));
  auto first = set.For(a).Pick(*cluster, {});
  auto second = set.For(b).Pick(*cluster, {});
  EXPECT_NE(first, second);
  EXPECT_EQ(set.size(), 1u);
}

}  // namespace
}  // namespace pier::dataplane::upstream
