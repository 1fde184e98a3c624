#include "http/request_id.h"

#include <gtest/gtest.h>

#include <set>

namespace pier::dataplane::http {
namespace {

TEST(RequestId, Validation) {
  EXPECT_TRUE(IsValidRequestId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
  EXPECT_TRUE(IsValidRequestId("a.b_c:d-e"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("a b"));
  EXPECT_FALSE(IsValidRequestId("a\"b"));
  EXPECT_FALSE(IsValidRequestId(std::string(kMaxRequestIdLength + 1, 'a')));
  EXPECT_TRUE(IsValidRequestId(std::string(kMaxRequestIdLength, 'a')));
}

TEST(RequestId, GeneratedIdsAre32HexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = GenerateRequestId();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace pier::dataplane::http
