#include "kube/backoff.h"

#include <gtest/gtest.h>

namespace pier::kube {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsToTheMaximumWithinTheJitterBand) {
  Backoff backoff({}, /*seed=*/42);
  double base = 800;
  for (int i = 0; i < 12; ++i) {
    const auto delay = backoff.Next();
    EXPECT_GE(delay.count(), static_cast<int64_t>(base * 0.8) - 1) << "attempt " << i;
    EXPECT_LE(delay.count(), std::min<int64_t>(static_cast<int64_t>(base * 1.2), 30000)) << "attempt " << i;
    base = std::min(base * 2, 30000.0);
  }
  // Many failures later the delay stays near the cap and never above it.
  for (int i = 0; i < 100; ++i) {
    const auto delay = backoff.Next();
    EXPECT_GE(delay, milliseconds(24000));
    EXPECT_LE(delay, milliseconds(30000));
  }
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff({}, 7);
  for (int i = 0; i < 6; ++i) (void)backoff.Next();
  backoff.Reset();
  const auto delay = backoff.Next();
  EXPECT_GE(delay, milliseconds(640));
  EXPECT_LE(delay, milliseconds(960));
}

TEST(Backoff, JitterSpreadsReplicas) {
  // Two controllers failing together should not retry in lock-step.
  Backoff a({}, 1);
  Backoff b({}, 2);
  int different = 0;
  for (int i = 0; i < 5; ++i) different += a.Next() != b.Next();
  EXPECT_GT(different, 0);
}

}  // namespace
}  // namespace pier::kube
