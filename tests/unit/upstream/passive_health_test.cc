#include "upstream/passive_health.h"

#include <gtest/gtest.h>

namespace pier::dataplane::upstream {
namespace {

using std::chrono::milliseconds;

class PassiveHealthTest : public ::testing::Test {
 protected:
  EndpointState state{"10.0.0.1:8080"};
  EjectionPolicy policy{milliseconds(100), milliseconds(350)};
  HealthClock::time_point t0 = HealthClock::now();
};

TEST_F(PassiveHealthTest, HealthyUntilAFailure) { EXPECT_FALSE(IsEjected(state, t0)); }

TEST_F(PassiveHealthTest, AFailureEjectsForTheBasePeriod) {
  EXPECT_TRUE(RecordFailure(state, t0, policy));
  EXPECT_TRUE(IsEjected(state, t0));
  EXPECT_TRUE(IsEjected(state, t0 + milliseconds(99)));
  EXPECT_FALSE(IsEjected(state, t0 + milliseconds(100)));
}

TEST_F(PassiveHealthTest, FailuresDuringAnEjectionDoNotExtendIt) {
  ASSERT_TRUE(RecordFailure(state, t0, policy));
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(RecordFailure(state, t0 + milliseconds(i), policy));
  EXPECT_FALSE(IsEjected(state, t0 + milliseconds(100)));
}

TEST_F(PassiveHealthTest, ConsecutiveEjectionsDoubleUpToTheMaximum) {
  auto now = t0;
  for (milliseconds expected : {milliseconds(100), milliseconds(200), milliseconds(350), milliseconds(350)}) {
    ASSERT_TRUE(RecordFailure(state, now, policy));
    EXPECT_TRUE(IsEjected(state, now + expected - milliseconds(1)));
    EXPECT_FALSE(IsEjected(state, now + expected)) << expected.count();
    now += expected;
  }
}

TEST_F(PassiveHealthTest, ASuccessResetsTheBackoff) {
  ASSERT_TRUE(RecordFailure(state, t0, policy));
  ASSERT_TRUE(RecordFailure(state, t0 + milliseconds(100), policy));  // now 200 ms
  RecordSuccess(state);
  const auto later = t0 + milliseconds(1000);
  ASSERT_TRUE(RecordFailure(state, later, policy));
  EXPECT_FALSE(IsEjected(state, later + milliseconds(100))) << "back to the base period";
}

}  // namespace
}  // namespace pier::dataplane::upstream
