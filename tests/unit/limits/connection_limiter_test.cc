#include "limits/connection_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace pier::dataplane::limits {
namespace {

ClientKey Client(const char* text) { return ClientKey::From(boost::asio::ip::make_address(text)); }

using Outcome = ConnectionLimiter::Outcome;

TEST(ConnectionLimiter, PerClientLimitIsExactAndFreedByRelease) {
  ConnectionLimiter limiter;
  std::vector<ConnectionLease> leases(10);
  for (auto& lease : leases) ASSERT_EQ(limiter.Acquire("r", Client("127.0.0.1"), {10, 0}, lease), Outcome::kAcquired);
  ConnectionLease eleventh;
  EXPECT_EQ(limiter.Acquire("r", Client("127.0.0.1"), {10, 0}, eleventh), Outcome::kClientLimit);
  EXPECT_FALSE(eleventh.held());
  EXPECT_EQ(limiter.ClientCount("r", Client("127.0.0.1")), 10u);

  leases[3].Release();
  EXPECT_EQ(limiter.Acquire("r", Client("127.0.0.1"), {10, 0}, eleventh), Outcome::kAcquired);
  EXPECT_TRUE(eleventh.held());
}

TEST(ConnectionLimiter, ClientsAndRoutesAreCountedSeparately) {
  ConnectionLimiter limiter;
  ConnectionLease a, b, c, d;
  EXPECT_EQ(limiter.Acquire("r1", Client("127.0.0.1"), {1, 0}, a), Outcome::kAcquired);
  EXPECT_EQ(limiter.Acquire("r1", Client("127.0.0.2"), {1, 0}, b), Outcome::kAcquired);
  EXPECT_EQ(limiter.Acquire("r2", Client("127.0.0.1"), {1, 0}, c), Outcome::kAcquired);
  EXPECT_EQ(limiter.Acquire("r1", Client("127.0.0.1"), {1, 0}, d), Outcome::kClientLimit);
  EXPECT_EQ(limiter.Acquire("r1", Client("::ffff:127.0.0.1"), {1, 0}, d), Outcome::kClientLimit);
}

TEST(ConnectionLimiter, RouteLimitCountsEveryClientAndGivesTheClientCountBack) {
  ConnectionLimiter limiter;
  ConnectionLease a, b, c;
  EXPECT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {5, 2}, a), Outcome::kAcquired);
  EXPECT_EQ(limiter.Acquire("r", Client("10.0.0.2"), {5, 2}, b), Outcome::kAcquired);
  EXPECT_EQ(limiter.Acquire("r", Client("10.0.0.3"), {5, 2}, c), Outcome::kRouteLimit);
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.3")), 0u);
  EXPECT_EQ(limiter.RouteCount("r"), 2u);
  EXPECT_EQ(limiter.leases(), 2u);
  b.Release();
  EXPECT_EQ(limiter.Acquire("r", Client("10.0.0.3"), {5, 2}, c), Outcome::kAcquired);
}

TEST(ConnectionLimiter, NoLimitsMeansNothingIsCounted) {
  ConnectionLimiter limiter;
  ConnectionLease lease;
  EXPECT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {0, 0}, lease), Outcome::kAcquired);
  EXPECT_FALSE(lease.held());
  EXPECT_EQ(limiter.entries(), 0u);
}

TEST(ConnectionLimiter, EntriesAtZeroAreRemoved) {
  ConnectionLimiter limiter;
  {
    std::vector<ConnectionLease> leases(100);
    for (int i = 0; i < 100; ++i) {
      const std::string address = "10.0." + std::to_string(i) + ".1";
      ASSERT_EQ(limiter.Acquire("r", Client(address.c_str()), {3, 1000}, leases[i]), Outcome::kAcquired);
    }
    EXPECT_EQ(limiter.entries(), 101u);  // 100 clients + the route
    EXPECT_EQ(limiter.leases(), 100u);
  }
  EXPECT_EQ(limiter.entries(), 0u);
  EXPECT_EQ(limiter.leases(), 0u);
  EXPECT_EQ(limiter.RouteCount("r"), 0u);
}

TEST(ConnectionLimiter, ALeaseReleasesExactlyOnceWhereverItMoves) {
  ConnectionLimiter limiter;
  ConnectionLease first;
  ASSERT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {2, 0}, first), Outcome::kAcquired);
  ConnectionLease moved(std::move(first));
  EXPECT_FALSE(first.held());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  first.Release();
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.1")), 1u);
  ConnectionLease assigned;
  assigned = std::move(moved);
  moved.Release();
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.1")), 1u);
  assigned.Release();
  assigned.Release();
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.1")), 0u);
  EXPECT_EQ(limiter.leases(), 0u);

  // Assigning over a held lease releases what it held.
  ConnectionLease a, b;
  ASSERT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {2, 0}, a), Outcome::kAcquired);
  ASSERT_EQ(limiter.Acquire("r", Client("10.0.0.2"), {2, 0}, b), Outcome::kAcquired);
  a = std::move(b);
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.1")), 0u);
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.2")), 1u);
}

TEST(ConnectionLimiter, AcquiringIntoAHeldLeaseReleasesTheOldCountFirst) {
  ConnectionLimiter limiter;
  ConnectionLease lease;
  ASSERT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {1, 0}, lease), Outcome::kAcquired);
  ASSERT_EQ(limiter.Acquire("r", Client("10.0.0.1"), {1, 0}, lease), Outcome::kAcquired);
  EXPECT_EQ(limiter.ClientCount("r", Client("10.0.0.1")), 1u);
}

TEST(ConnectionLimiter, ConcurrentClientsNeverExceedTheLimitAndEndAtZero) {
  ConnectionLimiter limiter;
  constexpr uint32_t kPerClient = 10;
  constexpr uint32_t kPerRoute = 15;
  std::atomic<int> refused{0};
  std::atomic<bool> over_limit{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const ClientKey client = Client(t % 2 == 0 ? "127.0.0.1" : "127.0.0.2");
      std::vector<ConnectionLease> held;
      for (int i = 0; i < 5000; ++i) {
        ConnectionLease lease;
        if (limiter.Acquire("r", client, {kPerClient, kPerRoute}, lease) == Outcome::kAcquired) {
          if (limiter.ClientCount("r", client) > kPerClient || limiter.RouteCount("r") > kPerRoute) over_limit = true;
          // The lease count (the pier_limit_connections_active gauge) counts only leases that
          // got in: a connection the route refuses must not show in it even for an instant.
          if (limiter.leases() > kPerRoute) over_limit = true;
          held.push_back(std::move(lease));
        } else {
          ++refused;
        }
        // Holding up to 12 at a time: one thread alone reaches the per-client limit.
        if (held.size() > 11 || i % 13 == 0) held.clear();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(over_limit.load());
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(limiter.leases(), 0u);
  EXPECT_EQ(limiter.entries(), 0u);
}

}  // namespace
}  // namespace pier::dataplane::limits
