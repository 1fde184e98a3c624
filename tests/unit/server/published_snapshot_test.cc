#include "server/published_snapshot.h"

#include <gtest/gtest.h>

#include <random>

namespace pier::server {
namespace {

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return bytes;
}

pier::v1::Snapshot RandomSnapshot(std::mt19937& random) {
  pier::v1::Snapshot snapshot;
  const int hosts = static_cast<int>(random() % 50);
  for (int h = 0; h < hosts; ++h) {
    auto* vhost = snapshot.add_virtual_hosts();
    vhost->set_host("h" + std::to_string(random()) + ".example");
    const int routes = static_cast<int>(random() % 4);
    for (int r = 0; r < routes; ++r) {
      auto* route = vhost->add_routes();
      route->set_name("r" + std::to_string(r));
      route->mutable_match()->set_path("/p" + std::to_string(random() % 1000));
      route->set_cluster("ns/svc:" + std::to_string(random() % 100));
      route->set_max_body_bytes(random() % 3 == 0 ? 0 : random());
    }
  }
  const int clusters = static_cast<int>(random() % 50);
  for (int c = 0; c < clusters; ++c) {
    auto* cluster = snapshot.add_clusters();
    cluster->set_name("ns/svc:" + std::to_string(c));
    const int endpoints = static_cast<int>(random() % 5);
    for (int e = 0; e < endpoints; ++e) {
      auto* endpoint = cluster->add_endpoints();
      endpoint->set_address("10.0.0." + std::to_string(e));
      endpoint->set_port(static_cast<uint32_t>(1 + random() % 65535));
    }
  }
  if (random() % 2 == 0) snapshot.mutable_defaults()->set_connect_timeout_ms(static_cast<uint32_t>(random() % 9999));
  if (random() % 2 == 0) snapshot.set_default_certificate("default");
  // Versions across the varint length boundaries, 0 included (not written at all).
  static const uint64_t kVersions[] = {0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, UINT64_MAX};
  snapshot.set_version(kVersions[random() % std::size(kVersions)]);
  if (random() % 4 != 0) snapshot.set_controller_instance(random() % 2 ? "0123456789abcdef" : std::string(200, 'i'));
  return snapshot;
}

// The bytes sent are the bytes a deterministic serialisation of the whole message gives, so a
// dataplane cannot tell them from what gRPC would have serialised itself.
TEST(PublishedSnapshotTest, WireBytesAreTheMessagesDeterministicSerialisation) {
  std::mt19937 random(20261126);
  for (int i = 0; i < 300; ++i) {
    const pier::v1::Snapshot snapshot = RandomSnapshot(random);
    pier::v1::ControllerMessage message;
    *message.mutable_snapshot() = snapshot;
    const auto published = PublishedSnapshot::Of(snapshot);
    const std::string wire = Flatten(published->Wire());
    ASSERT_EQ(wire, DeterministicBytes(message)) << "case " << i;
    EXPECT_EQ(wire.size(), published->wire_size());
    EXPECT_EQ(published->version(), snapshot.version());
    EXPECT_EQ(published->controller_instance(), snapshot.controller_instance());
    EXPECT_EQ(published->Parse().SerializeAsString(), message.SerializeAsString());
  }
}

TEST(PublishedSnapshotTest, LargeContentNeedsAMultiByteLength) {
  pier::v1::Snapshot snapshot;
  snapshot.set_version(3);
  snapshot.set_controller_instance("abc");
  snapshot.add_virtual_hosts()->set_host(std::string(3 << 20, 'h'));
  pier::v1::ControllerMessage message;
  *message.mutable_snapshot() = snapshot;
  EXPECT_EQ(Flatten(PublishedSnapshot::Of(snapshot)->Wire()), DeterministicBytes(message));
}

TEST(PublishedSnapshotTest, WireKeepsTheContentAliveOnItsOwn) {
  grpc::ByteBuffer wire;
  std::string expected;
  {
    pier::v1::Snapshot snapshot;
    snapshot.set_version(1);
    snapshot.add_clusters()->set_name("ns/a:80");
    pier::v1::ControllerMessage message;
    *message.mutable_snapshot() = snapshot;
    expected = DeterministicBytes(message);
    wire = PublishedSnapshot::Of(snapshot)->Wire();  // the snapshot object is gone after this
  }
  EXPECT_EQ(Flatten(wire), expected);
}

}  // namespace
}  // namespace pier::server
