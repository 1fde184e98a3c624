#include "limits/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "manual_clock.h"

namespace pier::dataplane::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

ClientKey Client(const char* text) { return ClientKey::From(boost::asio::ip::make_address(text)); }

TEST(RateLimiter, EachClientAndRouteHasItsOwnBucket) {
  testing::ManualClock clock;
  RateLimiter limiter;
  const BucketSpec spec{1, 2};
  for (const char* route : {"default/a/0/0", "default/b/0/0"}) {
    for (const char* client : {"10.0.0.1", "10.0.0.2"}) {
      EXPECT_EQ(limiter.Take(route, Client(client), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
      EXPECT_EQ(limiter.Take(route, Client(client), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
      auto refused = limiter.Take(route, Client(client), spec, clock.Now());
      EXPECT_EQ(refused.outcome, RateLimiter::Outcome::kLimited);
      EXPECT_EQ(refused.retry_after, seconds(1));
    }
  }
  EXPECT_EQ(limiter.size(), 4u);
}

TEST(RateLimiter, Ipv4MappedAddressesShareTheIpv4Bucket) {
  testing::ManualClock clock;
  RateLimiter limiter;
  const BucketSpec spec{1, 1};
  EXPECT_EQ(limiter.Take("r", Client("192.0.2.7"), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
  EXPECT_EQ(limiter.Take("r", Client("::ffff:192.0.2.7"), spec, clock.Now()).outcome, RateLimiter::Outcome::kLimited);
}

TEST(RateLimiter, FullBucketsExpireAndANewOneStartsFull) {
  testing::ManualClock clock;
  RateLimiter limiter(RateLimiter::Options{milliseconds(1000), 16384});
  const BucketSpec spec{10, 20};
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(limiter.Take("r", Client("10.0.0.1"), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
  }
  ASSERT_EQ(limiter.Take("r", Client("10.0.0.1"), spec, clock.Now()).outcome, RateLimiter::Outcome::kLimited);
  clock.Advance(milliseconds(1500));  // 15 of 20 tokens back: not full, so it must stay
  limiter.SweepAll(clock.Now());
  EXPECT_EQ(limiter.size(), 1u);
  clock.Advance(milliseconds(500));
  limiter.SweepAll(clock.Now());
  EXPECT_EQ(limiter.size(), 0u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(limiter.Take("r", Client("10.0.0.1"), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
  }
  EXPECT_EQ(limiter.Take("r", Client("10.0.0.1"), spec, clock.Now()).outcome, RateLimiter::Outcome::kLimited);
}

TEST(RateLimiter, TakeSweepsItsShardOnItsOwn) {
  testing::ManualClock clock;
  RateLimiter limiter(RateLimiter::Options{milliseconds(100), 16384});
  const BucketSpec spec{100, 1};
  for (int i = 0; i < 1000; ++i) {
    const std::string address = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    limiter.Take("r", Client(address.c_str()), spec, clock.Now());
  }
  EXPECT_EQ(limiter.size(), 1000u);
  // Every bucket is full again after 10 ms; each shard sweeps on its next Take after 100 ms.
  clock.Advance(milliseconds(200));
  for (int i = 0; i < 1000; ++i) {
    limiter.Take("r", Client("10.2.0.1"), spec, clock.Now());
    clock.Advance(milliseconds(1));
  }
  // One shard swept (the one 10.2.0.1 lives in); a sweep of all leaves only the live bucket.
  EXPECT_LT(limiter.size(), 1000u);
  limiter.SweepAll(clock.Now() + milliseconds(10));
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimiter, AFullTableRefusesNewClientsButServesKnownOnes) {
  testing::ManualClock clock;
  RateLimiter limiter(RateLimiter::Options{seconds(60), 1});
  const BucketSpec spec{1, 5};
  // 64 shards of one bucket each: fill them with clients that keep a non-full bucket.
  int refused_new = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string address = "10.3." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    auto result = limiter.Take("r", Client(address.c_str()), spec, clock.Now());
    if (result.outcome == RateLimiter::Outcome::kTableFull) ++refused_new;
  }
  EXPECT_EQ(limiter.size(), kShardCount);
  EXPECT_EQ(refused_new, 2000 - static_cast<int>(kShardCount));
  // The very first client got a bucket and keeps being served from it.
  EXPECT_EQ(limiter.Take("r", Client("10.3.0.0"), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
  // Once the buckets refill they may be dropped, and new clients get in.
  clock.Advance(seconds(5));
  EXPECT_EQ(limiter.Take("r", Client("10.9.9.9"), spec, clock.Now()).outcome, RateLimiter::Outcome::kAllowed);
}

TEST(RateLimiter, ConcurrentTakesNeverExceedTheBurst) {
  testing::ManualClock clock;  // frozen: no refill, so exactly the capacity may pass
  RateLimiter limiter;
  const BucketSpec spec{1, 500};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        auto result = limiter.Take("r", Client("10.0.0.1"), spec, clock.Now());
        if (result.outcome == RateLimiter::Outcome::kAllowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 500);
}

}  // namespace
}  // namespace pier::dataplane::limits
