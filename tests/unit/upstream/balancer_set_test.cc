#include "upstream/balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>

#include "clusters.h"
#include "upstream/affinity_cookie.h"

namespace pier::dataplane::upstream {
namespace {

using pier::v1::Affinity;
using testing::Cluster;
using testing::CookieRoute;
using testing::Range;
using testing::Route;

RequestKeys WithToken(std::string token) {
  RequestKeys keys;
  keys.affinity_token = std::move(token);
  return keys;
}

RequestKeys WithHashKey(std::string key) {
  RequestKeys keys;
  keys.hash_key = std::move(key);
  return keys;
}

// The cookie value a Set-Cookie header carries ("NAME=VALUE; ...").
std::string CookieValue(const std::string& set_cookie) {
  auto start = set_cookie.find('=') + 1;
  return set_cookie.substr(start, set_cookie.find(';') - start);
}

class BalancerSetTest : public ::testing::Test {
 protected:
  EndpointRegistry registry_;
  BalancerSet set_{registry_};
};

TEST_F(BalancerSetTest, RoundRobinByDefault) {
  auto route = Route(Cluster(Range(3)));
  std::map<std::string, int> counts;
  for (int i = 0; i < 30; ++i) counts[set_.Choose(route, {}).endpoint->id]++;
  EXPECT_EQ(counts.size(), 3u);
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 10) << id;
}

TEST_F(BalancerSetTest, RoutesToOneClusterShareItsRotation) {
  auto cluster = Cluster(Range(2));
  auto a = Route(cluster);
  auto b = Route(cluster);
  b.name = "default/b/0/0";
  EXPECT_NE(set_.Choose(a, {}).endpoint->id, set_.Choose(b, {}).endpoint->id);
  EXPECT_EQ(set_.size(), 1u);
}

TEST_F(BalancerSetTest, EmptyClusterHasNoChoice) {
  auto route = Route(Cluster({}));
  EXPECT_EQ(set_.Choose(route, {}).endpoint, nullptr);
  RouteConfig unresolved;
  EXPECT_EQ(set_.Choose(unresolved, {}).endpoint, nullptr);
}

TEST_F(BalancerSetTest, LeastConnCountsHeldChoices) {
  auto route = Route(Cluster(Range(3)));
  route.proto.mutable_load_balancing()->set_policy(pier::v1::LoadBalancing::LEAST_CONN);
  std::vector<Choice> tunnels;
  std::map<std::string, int> counts;
  for (int i = 0; i < 30; ++i) {
    tunnels.push_back(set_.Choose(route, {}));
    counts[tunnels.back().endpoint->id]++;
  }
  for (const auto& [id, count] : counts) EXPECT_EQ(count, 10) << id;
  // Every one of them counted once, and uncounted once when its holder went.
  tunnels.clear();
  auto table = registry_.Table(*route.cluster);
  for (uint32_t i = 0; i < table->size(); ++i) EXPECT_EQ(table->state(i).active.load(), 0);
}

TEST_F(BalancerSetTest, LeastConnIsSharedBetweenThreads) {
  // Two threads' sets, one process registry: tunnels one thread opened count for the other.
  BalancerSet other_thread(registry_);
  auto route = Route(Cluster(Range(2)));
  route.proto.mutable_load_balancing()->set_policy(pier::v1::LoadBalancing::LEAST_CONN);
  std::vector<Choice> open;
  for (int i = 0; i < 3; ++i) open.push_back(set_.Choose(route, WithHashKey("pinned")));
  const std::string loaded = open.front().endpoint->id;
  for (int i = 0; i < 3; ++i) {
    open.push_back(other_thread.Choose(route, {}));
    EXPECT_NE(open.back().endpoint->id, loaded) << "pick " << i;
  }
}

TEST_F(BalancerSetTest, IndependentlyBuiltBalancersAgreeOnEveryHashKey) {
  // Two dataplanes: separate processes, separate registries, the same snapshot.
  EndpointRegistry other_registry;
  BalancerSet other(other_registry);
  auto route = Route(Cluster(Range(10)));
  route.proto.mutable_load_balancing()->mutable_hash_by()->set_source(pier::v1::HashKey::REMOTE_ADDR);
  auto other_route = Route(Cluster(Range(10)));
  other_route.proto = route.proto;
  std::set<std::string> used;
  for (int k = 0; k < 10000; ++k) {
    std::string key = "198.51.100." + std::to_string(k % 256) + "/" + std::to_string(k);
    auto mine = set_.Choose(route, WithHashKey(key));
    auto theirs = other.Choose(other_route, WithHashKey(key));
    ASSERT_EQ(mine.endpoint->id, theirs.endpoint->id) << key;
    used.insert(mine.endpoint->id);
  }
  EXPECT_EQ(used.size(), 10u);
}

TEST_F(BalancerSetTest, SameHashKeySameEndpointWhateverThePolicy) {
  auto route = Route(Cluster(Range(5)));
  route.proto.mutable_load_balancing()->set_policy(pier::v1::LoadBalancing::LEAST_CONN);
  auto first = set_.Choose(route, WithHashKey("alice"));
  std::vector<Choice> open;
  for (int i = 0; i < 20; ++i) {
    open.push_back(set_.Choose(route, WithHashKey("alice")));
    EXPECT_EQ(open.back().endpoint->id, first.endpoint->id);
  }
}

TEST_F(BalancerSetTest, MissingHashKeyIsBalancedByPolicy) {
  auto route = Route(Cluster(Range(3)));
  route.proto.mutable_load_balancing()->mutable_hash_by()->set_source(pier::v1::HashKey::HEADER);
  std::set<std::string> used;
  for (int i = 0; i < 3; ++i) used.insert(set_.Choose(route, {}).endpoint->id);
  EXPECT_EQ(used.size(), 3u);
}

TEST_F(BalancerSetTest, NewClientGetsACookieNamingItsEndpoint) {
  auto route = CookieRoute(Cluster(Range(3)), Affinity::COOKIE_BALANCED);
  route.proto.mutable_affinity()->set_cookie_path("/ws");
  auto choice = set_.Choose(route, {});
  ASSERT_NE(choice.endpoint, nullptr);
  EXPECT_EQ(choice.set_cookie, "PIER_AFFINITY=" + AffinityToken(choice.endpoint->id) + "; Path=/ws; HttpOnly");
}

TEST_F(BalancerSetTest, CookieKeepsTheClientOnItsEndpointWithoutResettingIt) {
  auto route = CookieRoute(Cluster(Range(3)), Affinity::COOKIE_BALANCED);
  for (int client = 0; client < 30; ++client) {
    auto first = set_.Choose(route, {});
    const std::string token = CookieValue(first.set_cookie);
    for (int again = 0; again < 5; ++again) {
      auto next = set_.Choose(route, WithToken(token));
      EXPECT_EQ(next.endpoint->id, first.endpoint->id);
      EXPECT_TRUE(next.set_cookie.empty()) << "a valid cookie is not set again";
    }
  }
}

TEST_F(BalancerSetTest, AnotherDataplaneReadsTheCookieTheSameWay) {
  EndpointRegistry other_registry;
  BalancerSet other(other_registry);
  auto route = CookieRoute(Cluster(Range(5)), Affinity::COOKIE_BALANCED);
  auto other_route = CookieRoute(Cluster(Range(5)), Affinity::COOKIE_BALANCED);
  for (int client = 0; client < 50; ++client) {
    auto first = set_.Choose(route, {});
    auto there = other.Choose(other_route, WithToken(CookieValue(first.set_cookie)));
    EXPECT_EQ(there.endpoint->id, first.endpoint->id);
    EXPECT_TRUE(there.set_cookie.empty());
  }
}

TEST_F(BalancerSetTest, UnknownCookieIsReplaced) {
  auto route = CookieRoute(Cluster(Range(3)), Affinity::COOKIE_PERSISTENT);
  for (std::string token : {"", "garbage", "0000000000000000", "10.0.0.1:8080"}) {
    auto choice = set_.Choose(route, WithToken(token));
    ASSERT_NE(choice.endpoint, nullptr);
    EXPECT_EQ(CookieValue(choice.set_cookie), AffinityToken(choice.endpoint->id)) << token;
  }
}

TEST_F(BalancerSetTest, OnlyTheRemovedEndpointsClientsMoveAndGetANewCookie) {
  for (auto mode : {Affinity::COOKIE_BALANCED, Affinity::COOKIE_PERSISTENT}) {
    auto route = CookieRoute(Cluster(Range(3)), mode);
    std::map<std::string, std::string> home;  // token -> endpoint id
    for (int client = 0; client < 30; ++client) {
      auto choice = set_.Choose(route, {});
      home[CookieValue(choice.set_cookie)] = choice.endpoint->id;
    }
    auto shrunk = CookieRoute(Cluster({1, 3}), mode);  // 10.0.0.2 left the Service
    for (const auto& [token, id] : home) {
      auto choice = set_.Choose(shrunk, WithToken(token));
      if (id == "10.0.0.2:8080") {
        EXPECT_NE(choice.endpoint->id, id);
        EXPECT_EQ(CookieValue(choice.set_cookie), AffinityToken(choice.endpoint->id));
      } else {
        EXPECT_EQ(choice.endpoint->id, id);
        EXPECT_TRUE(choice.set_cookie.empty());
      }
    }
    // Scale-out: a new endpoint takes new clients, never an existing one.
    auto grown = CookieRoute(Cluster(Range(4)), mode);
    for (const auto& [token, id] : home) {
      if (id == "10.0.0.2:8080") continue;
      EXPECT_EQ(set_.Choose(grown, WithToken(token)).endpoint->id, id);
    }
  }
}

TEST_F(BalancerSetTest, EjectedHomeBalancedMovesForGoodPersistentComesBack) {
  EndpointRegistry registry(EjectionPolicy{std::chrono::milliseconds(50), std::chrono::milliseconds(50)});
  BalancerSet set(registry);
  for (auto mode : {Affinity::COOKIE_BALANCED, Affinity::COOKIE_PERSISTENT}) {
    auto route = CookieRoute(Cluster(Range(3)), mode);
    auto first = set.Choose(route, {});
    const std::string token = CookieValue(first.set_cookie);
    ASSERT_TRUE(set.ReportFailure(first));

    auto during = set.Choose(route, WithToken(token));
    EXPECT_NE(during.endpoint->id, first.endpoint->id) << "an ejected endpoint is skipped";
    if (mode == Affinity::COOKIE_BALANCED) {
      EXPECT_EQ(CookieValue(during.set_cookie), AffinityToken(during.endpoint->id));
    } else {
      EXPECT_TRUE(during.set_cookie.empty()) << "persistent: the cookie still names the home endpoint";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    auto after = set.Choose(route, WithToken(token));
    EXPECT_EQ(after.endpoint->id, first.endpoint->id) << "the old cookie leads home once the ejection ended";
    set.ReportSuccess(after);
  }
}

TEST_F(BalancerSetTest, EjectedEndpointsAreSkippedUntilAllAre) {
  auto route = Route(Cluster(Range(3)));
  for (int i = 0; i < 2; ++i) {
    auto choice = set_.Choose(route, {});
    set_.ReportFailure(choice);
  }
  std::set<std::string> used;
  for (int i = 0; i < 6; ++i) used.insert(set_.Choose(route, {}).endpoint->id);
  EXPECT_EQ(used.size(), 1u);
  set_.ReportFailure(set_.Choose(route, {}));
  EXPECT_NE(set_.Choose(route, {}).endpoint, nullptr) << "all ejected: tried anyway";
}

TEST_F(BalancerSetTest, HashKeysOfAnEjectedEndpointFallBackToTheirNextOwner) {
  auto route = Route(Cluster(Range(4)));
  route.proto.mutable_load_balancing()->mutable_hash_by()->set_source(pier::v1::HashKey::COOKIE);
  auto first = set_.Choose(route, WithHashKey("user-7"));
  set_.ReportFailure(first);
  auto moved = set_.Choose(route, WithHashKey("user-7"));
  EXPECT_NE(moved.endpoint->id, first.endpoint->id);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(set_.Choose(route, WithHashKey("user-7")).endpoint->id, moved.endpoint->id);
}

TEST_F(BalancerSetTest, ChooseAgainAvoidsTheFailedEndpoint) {
  auto route = CookieRoute(Cluster(Range(2)), Affinity::COOKIE_BALANCED);
  auto first = set_.Choose(route, {});
  set_.ReportFailure(first);
  auto retry = set_.ChooseAgain(route, first);
  ASSERT_NE(retry.endpoint, nullptr);
  EXPECT_NE(retry.endpoint->id, first.endpoint->id);
  EXPECT_EQ(retry.tried, std::vector<std::string>{first.endpoint->id});
  EXPECT_EQ(CookieValue(retry.set_cookie), AffinityToken(retry.endpoint->id)) << "the cookie follows the retry";
  EXPECT_EQ(set_.ChooseAgain(route, retry).endpoint, nullptr) << "both endpoints were tried";
}

TEST_F(BalancerSetTest, ChooseAgainWalksEveryEndpointOnceAndNoneTwice) {
  auto route = Route(Cluster(Range(4)));
  auto choice = set_.Choose(route, {});
  std::set<std::string> seen;
  while (choice.endpoint) {
    EXPECT_TRUE(seen.insert(choice.endpoint->id).second) << choice.endpoint->id << " tried twice";
    choice = set_.ChooseAgain(route, choice);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(BalancerSetTest, ChooseAgainKeepsTheTriedEndpointsAcrossANewSnapshot) {
  auto route = Route(Cluster(Range(3)));
  auto first = set_.Choose(route, {});
  auto second = set_.ChooseAgain(route, first);
  // The snapshot changes between two tries: the same endpoints in a new table.
  auto next_snapshot = Route(Cluster(Range(3)));
  auto third = set_.ChooseAgain(next_snapshot, second);
  ASSERT_NE(third.endpoint, nullptr);
  EXPECT_NE(third.endpoint->id, first.endpoint->id);
  EXPECT_NE(third.endpoint->id, second.endpoint->id);
  EXPECT_EQ(set_.ChooseAgain(next_snapshot, third).endpoint, nullptr);
}

TEST_F(BalancerSetTest, ChooseAgainEvenWhenTheOtherEndpointIsEjected) {
  auto route = Route(Cluster(Range(2)));
  auto a = set_.Choose(route, {});
  auto b = set_.Choose(route, {});
  set_.ReportFailure(b);
  set_.ReportFailure(a);
  auto retry = set_.ChooseAgain(route, a);
  ASSERT_NE(retry.endpoint, nullptr);
  EXPECT_EQ(retry.endpoint->id, b.endpoint->id);
}

TEST_F(BalancerSetTest, NoRetryWithASingleEndpoint) {
  auto route = Route(Cluster(Range(1)));
  auto first = set_.Choose(route, {});
  set_.ReportFailure(first);
  EXPECT_EQ(set_.ChooseAgain(route, first).endpoint, nullptr);
}

TEST_F(BalancerSetTest, NewSnapshotWithTheSameEndpointsKeepsTheRotation) {
  auto route = Route(Cluster(Range(3)));
  auto first = set_.Choose(route, {}).endpoint->id;
  auto next_snapshot = Route(Cluster(Range(3)));
  EXPECT_NE(set_.Choose(next_snapshot, {}).endpoint->id, first);
}

}  // namespace
}  // namespace pier::dataplane::upstream
