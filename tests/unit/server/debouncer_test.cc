#include "server/debouncer.h"

#include <gtest/gtest.h>

namespace pier::server {
namespace {

using namespace std::chrono_literals;
using Clock = Debouncer::Clock;

class DebouncerTest : public ::testing::Test {
 protected:
  Debouncer debouncer_{100ms, 500ms};
  Clock::time_point t0_ = Clock::time_point{} + 1h;
};

TEST_F(DebouncerTest, IdleHasNoDeadline) {
  EXPECT_FALSE(debouncer_.Deadline());
  EXPECT_FALSE(debouncer_.Due(t0_));
  EXPECT_FALSE(debouncer_.Pending());
}

TEST_F(DebouncerTest, SingleChangeFiresAfterQuietPeriod) {
  debouncer_.Changed(t0_);
  EXPECT_EQ(*debouncer_.Deadline(), t0_ + 100ms);
  EXPECT_FALSE(debouncer_.Due(t0_ + 99ms));
  EXPECT_TRUE(debouncer_.Due(t0_ + 100ms));
}

TEST_F(DebouncerTest, EachChangeExtendsTheQuietPeriod) {
  debouncer_.Changed(t0_);
  debouncer_.Changed(t0_ + 80ms);
  EXPECT_FALSE(debouncer_.Due(t0_ + 150ms));
  EXPECT_EQ(*debouncer_.Deadline(), t0_ + 180ms);
}

TEST_F(DebouncerTest, SteadyTrickleStillFiresByMaxDelay) {
  for (auto t = 0ms; t <= 600ms; t += 50ms) {
    if (debouncer_.Due(t0_ + t)) {
      EXPECT_EQ(t, 500ms);
      return;
    }
    debouncer_.Changed(t0_ + t);
  }
  FAIL() << "never due despite continuous changes";
}

TEST_F(DebouncerTest, ResetStartsANewBurst) {
  debouncer_.Changed(t0_);
  debouncer_.Reset();
  EXPECT_FALSE(debouncer_.Deadline());
  debouncer_.Changed(t0_ + 1s);
  // The max delay counts from the first change of the new burst, not the old one.
  EXPECT_EQ(*debouncer_.Deadline(), t0_ + 1s + 100ms);
}

}  // namespace
}  // namespace pier::server
