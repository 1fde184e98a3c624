#include <gtest/gtest.h>

#include "config/backoff.h"

namespace pier::dataplane {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheMaximumWithJitterBelowTheBase) {
  Backoff backoff({milliseconds(250), milliseconds(10000), 0.2}, /*seed=*/7);
  const long bases[] = {250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000};
  for (long base : bases) {
    const long delay = backoff.Next().count();
    EXPECT_LE(delay, base);
    EXPECT_GE(delay, base * 8 / 10 - 1);
  }
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff({milliseconds(100), milliseconds(1000), 0.0}, 1);
  EXPECT_EQ(backoff.Next(), milliseconds(100));
  EXPECT_EQ(backoff.Next(), milliseconds(200));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(100));
}

TEST(Backoff, JitterSpreadsDelays) {
  Backoff a({milliseconds(1000), milliseconds(1000), 0.5}, 1);
  Backoff b({milliseconds(1000), milliseconds(1000), 0.5}, 2);
  bool differ = false;
  for (int i = 0; i < 10; ++i) differ |= a.Next() != b.Next();
  EXPECT_TRUE(differ);
}

TEST(Backoff, NonsenseOptionsAreClamped) {
  Backoff backoff({milliseconds(0), milliseconds(0), 7.0}, 1);
  for (int i = 0; i < 5; ++i) EXPECT_GE(backoff.Next(), milliseconds(1));
}

}  // namespace
}  // namespace pier::dataplane
