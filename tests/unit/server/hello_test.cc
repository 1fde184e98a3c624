#include "server/hello.h"

#include <gtest/gtest.h>

namespace pier::server {
namespace {

pier::v1::Snapshot Current(uint64_t version, const std::string& instance) {
  pier::v1::Snapshot snapshot;
  snapshot.set_version(version);
  snapshot.set_controller_instance(instance);
  return snapshot;
}

pier::v1::Hello Hello(uint64_t version, const std::string& instance) {
  pier::v1::Hello hello;
  hello.set_node_id("node-1");
  hello.set_last_applied_version(version);
  hello.set_last_applied_instance(instance);
  return hello;
}

TEST(HelloTest, FirstMessageMustBeHello) {
  pier::v1::DataplaneMessage ack;
  ack.mutable_ack()->set_version(1);
  auto result = ExpectHello(ack);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("Hello"), std::string::npos);
  EXPECT_FALSE(ExpectHello(pier::v1::DataplaneMessage()));

  pier::v1::DataplaneMessage hello;
  *hello.mutable_hello() = Hello(0, "");
  auto ok = ExpectHello(hello);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->node_id(), "node-1");
}

TEST(HelloTest, OverlongNodeIdIsRejected) {
  pier::v1::DataplaneMessage hello;
  hello.mutable_hello()->set_node_id(std::string(1000, 'n'));
  EXPECT_FALSE(ExpectHello(hello));
}

TEST(HelloTest, FreshDataplaneGetsTheSnapshot) {
  EXPECT_TRUE(NeedsInitialSnapshot(Hello(0, ""), Current(3, "abc")));
}

TEST(HelloTest, SameVersionAndInstanceGetsNothing) {
  EXPECT_FALSE(NeedsInitialSnapshot(Hello(3, "abc"), Current(3, "abc")));
}

TEST(HelloTest, SameVersionFromAnotherControllerProcessGetsTheSnapshot) {
  EXPECT_TRUE(NeedsInitialSnapshot(Hello(3, "old"), Current(3, "abc")));
  EXPECT_TRUE(NeedsInitialSnapshot(Hello(3, ""), Current(3, "abc")));
}

TEST(HelloTest, OlderOrNewerVersionGetsTheSnapshot) {
  EXPECT_TRUE(NeedsInitialSnapshot(Hello(2, "abc"), Current(3, "abc")));
  EXPECT_TRUE(NeedsInitialSnapshot(Hello(4, "abc"), Current(3, "abc")));
}

TEST(HelloTest, NodeNameForLogs) {
  EXPECT_EQ(NodeName(Hello(0, "")), "node-1");
  EXPECT_EQ(NodeName(pier::v1::Hello()), "(unnamed)");
}

}  // namespace
}  // namespace pier::server
