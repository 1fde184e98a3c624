#include "server/snapshot_versioner.h"

#include <gtest/gtest.h>

#include <set>

namespace pier::server {
namespace {

pier::v1::Snapshot WithHost(const std::string& host) {
  pier::v1::Snapshot snapshot;
  snapshot.add_virtual_hosts()->set_host(host);
  return snapshot;
}

TEST(SnapshotVersionerTest, FirstSnapshotIsVersionOneEvenWhenEmpty) {
  SnapshotVersioner versioner("abc");
  auto message = versioner.Stamp(pier::v1::Snapshot());
  ASSERT_TRUE(message);
  EXPECT_EQ(message->Parse().snapshot().version(), 1u);
  EXPECT_EQ(message->Parse().snapshot().controller_instance(), "abc");
}

TEST(SnapshotVersionerTest, UnchangedContentPublishesNothing) {
  SnapshotVersioner versioner("abc");
  ASSERT_TRUE(versioner.Stamp(WithHost("a.example")));
  EXPECT_FALSE(versioner.Stamp(WithHost("a.example")));
  EXPECT_EQ(versioner.version(), 1u);
}

TEST(SnapshotVersionerTest, ChangeBumpsVersionByOne) {
  SnapshotVersioner versioner("abc");
  ASSERT_TRUE(versioner.Stamp(WithHost("a.example")));
  auto second = versioner.Stamp(WithHost("b.example"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->Parse().snapshot().version(), 2u);
  EXPECT_EQ(second->Parse().snapshot().virtual_hosts(0).host(), "b.example");
  // Going back to an earlier content is still a change.
  auto third = versioner.Stamp(WithHost("a.example"));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->Parse().snapshot().version(), 3u);
}

TEST(SnapshotVersionerTest, IncomingVersionAndInstanceAreIgnored) {
  SnapshotVersioner versioner("abc");
  auto snapshot = WithHost("a.example");
  ASSERT_TRUE(versioner.Stamp(snapshot));
  snapshot.set_version(77);
  snapshot.set_controller_instance("other");
  EXPECT_FALSE(versioner.Stamp(snapshot));
}

TEST(SnapshotVersionerTest, InstancesAreRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = NewControllerInstance();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace pier::server
