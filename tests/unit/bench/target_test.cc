#include "target.h"

#include <gtest/gtest.h>

namespace pier::bench {
namespace {

TEST(ParseTarget, AcceptsAddressPortAndPath) {
  std::string error;
  auto target = ParseTarget("ws://127.0.0.1:8080/ws/echo", error);
  ASSERT_TRUE(target) << error;
  EXPECT_EQ(target->host, "127.0.0.1");
  EXPECT_EQ(target->port, 8080);
  EXPECT_EQ(target->path, "/ws/echo");
  EXPECT_EQ(target->host_header, "127.0.0.1:8080");
}

TEST(ParseTarget, DefaultsThePathAndTakesBracketedIpv6) {
  std::string error;
  auto target = ParseTarget("ws://[::1]:9000", error);
  ASSERT_TRUE(target) << error;
  EXPECT_EQ(target->host, "::1");
  EXPECT_EQ(target->path, "/");
}

TEST(ParseTarget, RejectsWhatItCannotConnectTo) {
  for (const char* url : {"http://127.0.0.1:80/", "ws://127.0.0.1/", "ws://localhost:80/", "ws://127.0.0.1:0/",
                          "ws://127.0.0.1:70000/", "ws://127.0.0.1:8x/"}) {
    std::string error;
    EXPECT_FALSE(ParseTarget(url, error)) << url;
    EXPECT_FALSE(error.empty()) << url;
  }
}

}  // namespace
}  // namespace pier::bench
