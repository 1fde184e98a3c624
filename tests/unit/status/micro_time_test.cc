#include "status/micro_time.h"

#include <gtest/gtest.h>

namespace pier::status {
namespace {

using namespace std::chrono_literals;

TEST(MicroTimeTest, SixFractionDigitsInUtc) {
  const auto time = std::chrono::system_clock::from_time_t(1767225600) + 1h + 2min + 3s + 45678us;
  EXPECT_EQ(FormatMicroTime(time), "2026-01-01T01:02:03.045678Z");
}

TEST(MicroTimeTest, BeforeTheEpochStillHasAPositiveFraction) {
  EXPECT_EQ(FormatMicroTime(std::chrono::system_clock::from_time_t(0) - 1us), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace pier::status
