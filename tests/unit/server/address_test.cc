#include "pier/common/address.h"

#include <gtest/gtest.h>

namespace pier::parse {
namespace {

TEST(ListenAddressTest, HostAndPort) {
  auto endpoint = ListenAddress("127.0.0.1:18000");
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoint->port(), 18000);
}

TEST(ListenAddressTest, EmptyHostMeansEveryIpv4Interface) {
  auto endpoint = ListenAddress(":10254");
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->address().to_string(), "0.0.0.0");
  EXPECT_EQ(endpoint->port(), 10254);
}

TEST(ListenAddressTest, BracketedIpv6) {
  auto endpoint = ListenAddress("[::1]:9090");
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_TRUE(endpoint->address().is_v6());
  EXPECT_EQ(endpoint->port(), 9090);
  EXPECT_EQ(FormatEndpoint(*endpoint), "[::1]:9090");
}

TEST(ListenAddressTest, LocalhostAndPortZero) {
  auto endpoint = ListenAddress("localhost:0");
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoint->port(), 0);
}

TEST(ListenAddressTest, RejectsMalformedWithTheInputInTheMessage) {
  for (const char* bad : {"", "8080", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:80x",
                          "::1:80", "[::1]80", "[::1", "example.com:80", "1.2.3.999:80"}) {
    auto endpoint = ListenAddress(bad);
    EXPECT_FALSE(endpoint) << bad;
    if (!endpoint) {
      EXPECT_NE(endpoint.error().find("\"" + std::string(bad) + "\""), std::string::npos) << endpoint.error();
    }
  }
}

TEST(IsLoopbackTest, OnlyLoopbackAddresses) {
  EXPECT_TRUE(IsLoopback(*ListenAddress("127.0.0.1:1")));
  EXPECT_TRUE(IsLoopback(*ListenAddress("127.1.2.3:1")));
  EXPECT_TRUE(IsLoopback(*ListenAddress("[::1]:1")));
  EXPECT_TRUE(IsLoopback(*ListenAddress("[::ffff:127.0.0.1]:1")));
  EXPECT_FALSE(IsLoopback(*ListenAddress(":1")));
  EXPECT_FALSE(IsLoopback(*ListenAddress("[::]:1")));
  EXPECT_FALSE(IsLoopback(*ListenAddress("10.0.0.1:1")));
}

}  // namespace
}  // namespace pier::parse
