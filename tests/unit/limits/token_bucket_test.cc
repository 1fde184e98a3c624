#include "limits/token_bucket.h"

#include <gtest/gtest.h>

#include "manual_clock.h"

namespace pier::dataplane::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

int TakeAll(TokenBucket& bucket, const BucketSpec& spec, TimePoint now, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += bucket.Take(spec, now).allowed ? 1 : 0;
  return allowed;
}

TEST(TokenBucket, NewBucketAllowsTheWholeBurstAtOnce) {
  testing::ManualClock clock;
  const BucketSpec spec{20, 100};  // limit-rps 20 x limit-burst-multiplier 5
  TokenBucket bucket(spec, clock.Now());
  EXPECT_EQ(TakeAll(bucket, spec, clock.Now(), 200), 100);
}

TEST(TokenBucket, RefillsAtTheRate) {
  testing::ManualClock clock;
  const BucketSpec spec{20, 100};
  TokenBucket bucket(spec, clock.Now());
  ASSERT_EQ(TakeAll(bucket, spec, clock.Now(), 100), 100);
  clock.Advance(milliseconds(500));
  EXPECT_EQ(TakeAll(bucket, spec, clock.Now(), 100), 10);
  clock.Advance(milliseconds(49));  // 0.98 of a token
  EXPECT_FALSE(bucket.Take(spec, clock.Now()).allowed);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(bucket.Take(spec, clock.Now()).allowed);
}

TEST(TokenBucket, OneSecondOfTrafficGetsBurstPlusRate) {
  // What the integration test asserts: 200 requests spread over one second from a quiet
  // client get the capacity plus what the rate refills meanwhile through (19.9 tokens over
  // the 995 ms between the first and the last request).
  testing::ManualClock clock;
  const BucketSpec spec{20, 100};
  TokenBucket bucket(spec, clock.Now());
  int allowed = 0;
  for (int i = 0; i < 200; ++i) {
    allowed += bucket.Take(spec, clock.Now()).allowed ? 1 : 0;
    clock.Advance(milliseconds(5));
  }
  EXPECT_EQ(allowed, 100 + 19);
}

TEST(TokenBucket, NeverHoldsMoreThanCapacity) {
  testing::ManualClock clock;
  const BucketSpec spec{10, 3};
  TokenBucket bucket(spec, clock.Now());
  clock.Advance(seconds(3600));
  EXPECT_EQ(TakeAll(bucket, spec, clock.Now(), 10), 3);
}

TEST(TokenBucket, RetryAfterIsTheWaitForOneToken) {
  testing::ManualClock clock;
  const BucketSpec spec{0.5, 1};  // limit-rpm 30
  TokenBucket bucket(spec, clock.Now());
  ASSERT_TRUE(bucket.Take(spec, clock.Now()).allowed);
  TakeResult refused = bucket.Take(spec, clock.Now());
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(2));
  clock.Advance(milliseconds(1500));
  refused = bucket.Take(spec, clock.Now());
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(500));
  clock.Advance(milliseconds(500));
  EXPECT_TRUE(bucket.Take(spec, clock.Now()).allowed);
}

TEST(TokenBucket, RetryAfterSecondsRoundsUpAndIsAtLeastOne) {
  EXPECT_EQ(RetryAfterSeconds(nanoseconds(1)), 1u);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(50)), 1u);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1000)), 1u);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1001)), 2u);
  EXPECT_EQ(RetryAfterSeconds(seconds(59)), 59u);
  EXPECT_EQ(RetryAfterSeconds(nanoseconds(0)), 1u);
}

TEST(TokenBucket, ASmallerCapacityFromANewSnapshotAppliesAtOnce) {
  testing::ManualClock clock;
  TokenBucket bucket(BucketSpec{10, 50}, clock.Now());
  EXPECT_EQ(TakeAll(bucket, BucketSpec{10, 5}, clock.Now(), 20), 5);
}

TEST(TokenBucket, FullAtTellsWhenDroppingItLosesNothing) {
  testing::ManualClock clock;
  const BucketSpec spec{10, 20};
  TokenBucket bucket(spec, clock.Now());
  EXPECT_TRUE(bucket.FullAt(clock.Now()));
  ASSERT_EQ(TakeAll(bucket, spec, clock.Now(), 20), 20);
  EXPECT_FALSE(bucket.FullAt(clock.Now()));
  clock.Advance(milliseconds(1999));
  EXPECT_FALSE(bucket.FullAt(clock.Now()));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(bucket.FullAt(clock.Now()));
}

}  // namespace
}  // namespace pier::dataplane::limits
