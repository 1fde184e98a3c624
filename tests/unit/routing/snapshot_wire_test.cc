// SplitSnapshot must read exactly what protobuf's parser reads, for the canonical bytes a
// controller sends and for the other legal encodings of the same message.
#include "routing/snapshot_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <gtest/gtest.h>

#include <random>

#include "routing/config.h"

namespace pier::dataplane {
namespace {

using google::protobuf::internal::WireFormatLite;

v1::Snapshot RandomSnapshot(std::mt19937& random) {
  v1::Snapshot snapshot;
  snapshot.set_version(random() % 3 == 0 ? 0 : random());
  if (random() % 2) snapshot.set_controller_instance("inst-" + std::to_string(random() % 10));
  if (random() % 2) snapshot.mutable_defaults()->set_read_timeout_ms(random() % 60000);
  for (int h = 0, n = static_cast<int>(random() % 6); h < n; ++h) {
    v1::VirtualHost& vhost = *snapshot.add_virtual_hosts();
    if (h > 0) vhost.set_host("h" + std::to_string(h) + ".example");
    for (int r = 0, m = static_cast<int>(random() % 3); r < m; ++r) {
      v1::Route& route = *vhost.add_routes();
      route.set_name("r" + std::to_string(r));
      route.mutable_match()->set_path("/" + std::to_string(random() % 100));
      route.set_cluster("ns/c:" + std::to_string(random() % 4));
    }
  }
  for (int c = 0, n = static_cast<int>(random() % 6); c < n; ++c) {
    v1::Cluster& cluster = *snapshot.add_clusters();
    cluster.set_name("ns/c:" + std::to_string(c));
    for (int e = 0, m = static_cast<int>(random() % 3); e < m; ++e) {
      cluster.add_endpoints()->set_address("10.0.0." + std::to_string(e + 1));
    }
  }
  if (random() % 2) snapshot.set_default_certificate("cert");
  return snapshot;
}

// The parts put back together as one message, to compare with protobuf's own parse.
v1::Snapshot Join(const SnapshotParts& parts) {
  v1::Snapshot joined = parts.rest;
  for (std::string_view bytes : parts.virtual_hosts) {
    EXPECT_TRUE(joined.add_virtual_hosts()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  }
  for (std::string_view bytes : parts.clusters) {
    EXPECT_TRUE(joined.add_clusters()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  }
  return joined;
}

// Legal but not canonical: fields out of order, a singular field twice (the last wins), an
// embedded message in two pieces (they merge), a field this build does not know.
// With `unknown`, a field no version of snapshot.proto defines goes in too (the split must keep it
// as protobuf does; Build then refuses the snapshot, see unknown_fields_test.cc).
std::string Scrambled(const v1::Snapshot& snapshot, std::mt19937& random, bool unknown = true) {
  std::string bytes;
  snapshot.ByteSizeLong();  // WriteMessage writes the sizes this caches
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    WireFormatLite::WriteUInt64(1, snapshot.version() + 7, &out);  // overridden below
    for (int i = snapshot.clusters_size() - 1; i >= 0; --i) {
      WireFormatLite::WriteMessage(5, snapshot.clusters(snapshot.clusters_size() - 1 - i), &out);
    }
    v1::Defaults first;
    first.set_connect_timeout_ms(1234);
    first.ByteSizeLong();
    WireFormatLite::WriteMessage(3, first, &out);
    if (unknown) WireFormatLite::WriteUInt32(99, static_cast<uint32_t>(random()), &out);
    for (const auto& vhost : snapshot.virtual_hosts()) WireFormatLite::WriteMessage(4, vhost, &out);
    WireFormatLite::WriteMessage(3, snapshot.defaults(), &out);
    WireFormatLite::WriteUInt64(1, snapshot.version(), &out);
    WireFormatLite::WriteString(2, snapshot.controller_instance(), &out);
    WireFormatLite::WriteString(7, snapshot.default_certificate(), &out);
  }
  return bytes;
}

TEST(SnapshotWire, SplitReadsWhatProtobufReads) {
  std::mt19937 random(11);
  for (int i = 0; i < 500; ++i) {
    const v1::Snapshot snapshot = RandomSnapshot(random);
    for (const std::string& bytes : {snapshot.SerializeAsString(), Scrambled(snapshot, random)}) {
      v1::Snapshot parsed;
      ASSERT_TRUE(parsed.ParseFromString(bytes));
      auto parts = SplitSnapshot(bytes);
      ASSERT_TRUE(parts.ok()) << parts.error();
      EXPECT_EQ(Join(*parts).SerializeAsString(), parsed.SerializeAsString()) << "case " << i;
    }
  }
}

TEST(SnapshotWire, BrokenBytesAreAnErrorNeverACrash) {
  std::mt19937 random(5);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = RandomSnapshot(random).SerializeAsString();
    if (bytes.empty()) continue;
    // Truncated, or one byte changed: either protobuf and the split agree it parses, or the
    // split (or the later per-part parse) reports it.
    if (i % 2 == 0) {
      bytes.resize(random() % bytes.size());
    } else {
      bytes[random() % bytes.size()] = static_cast<char>(random());
    }
    v1::Snapshot parsed;
    const bool protobuf_ok = parsed.ParseFromString(bytes);
    auto parts = SplitSnapshot(bytes);
    if (!protobuf_ok) {
      if (!parts.ok()) continue;
      // The split only frames the parts: one of them must then fail to parse.
      bool part_failed = false;
      v1::VirtualHost vhost;
      v1::Cluster cluster;
      for (auto b : parts->virtual_hosts) part_failed |= !vhost.ParseFromArray(b.data(), static_cast<int>(b.size()));
      for (auto b : parts->clusters) part_failed |= !cluster.ParseFromArray(b.data(), static_cast<int>(b.size()));
      EXPECT_TRUE(part_failed) << "case " << i;
    } else {
      ASSERT_TRUE(parts.ok()) << parts.error();
      EXPECT_EQ(Join(*parts).SerializeAsString(), parsed.SerializeAsString());
    }
  }
  EXPECT_FALSE(SplitSnapshot(std::string("\x22\x05" "ab", 4)).ok());  // length past the end
  EXPECT_FALSE(SplitSnapshot(std::string("\x00\x01", 2)).ok());    // field number 0
}

TEST(SnapshotWire, FindSnapshotInAControllerMessage) {
  v1::ControllerMessage message;
  message.mutable_snapshot()->set_version(4);
  message.mutable_snapshot()->add_clusters()->set_name("a");
  std::string scratch;
  const std::string bytes = message.SerializeAsString();
  auto found = FindSnapshot(bytes, scratch);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(*found);
  EXPECT_EQ(std::string(**found), message.snapshot().SerializeAsString());

  // The field twice: protobuf merges the two, and so must the bytes found.
  v1::ControllerMessage second;
  second.mutable_snapshot()->set_version(5);
  second.mutable_snapshot()->add_clusters()->set_name("b");
  const std::string both = bytes + second.SerializeAsString();
  v1::ControllerMessage merged;
  ASSERT_TRUE(merged.ParseFromString(both));
  found = FindSnapshot(both, scratch);
  ASSERT_TRUE(found.ok() && *found);
  v1::Snapshot reparsed;
  ASSERT_TRUE(reparsed.ParseFromArray((*found)->data(), static_cast<int>((*found)->size())));
  EXPECT_EQ(reparsed.SerializeAsString(), merged.snapshot().SerializeAsString());

  // Another (future) kind: no snapshot, not an error.
  found = FindSnapshot(std::string("\x10\x01", 2), scratch);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);
  EXPECT_FALSE(FindSnapshot(std::string("\x0a\x09", 2), scratch).ok());
}

TEST(SnapshotWire, StringField) {
  v1::VirtualHost vhost;
  EXPECT_EQ(StringField(vhost.SerializeAsString(), 1), std::optional<std::string_view>(""));  // absent: ""
  vhost.set_host("a.example");
  vhost.add_routes()->set_name("r");
  const std::string bytes = vhost.SerializeAsString();
  EXPECT_EQ(StringField(bytes, 1), std::optional<std::string_view>("a.example"));
  // Repeated: the last one is what protobuf keeps.
  v1::VirtualHost later;
  later.set_host("b.example");
  EXPECT_EQ(StringField(bytes + later.SerializeAsString(), 1), std::optional<std::string_view>("b.example"));
  EXPECT_FALSE(StringField(std::string("\x08\x01", 2), 1));  // a varint, not a string
  EXPECT_FALSE(StringField(std::string("\x0a\x05", 2), 1));  // truncated
}

// A build from bytes that are not canonical gives the config protobuf's parse gives, and the
// next build with identical bytes takes every part over.
TEST(SnapshotWire, BuildFromScrambledBytesEqualsBuildFromTheMessage) {
  std::mt19937 random(3);
  v1::Snapshot snapshot;
  snapshot.set_version(2);
  for (int c = 0; c < 3; ++c) {
    v1::Cluster& cluster = *snapshot.add_clusters();
    cluster.set_name("ns/c:" + std::to_string(c));
    v1::Endpoint& endpoint = *cluster.add_endpoints();
    endpoint.set_address("10.0.0." + std::to_string(c + 1));
    endpoint.set_port(8080);
  }
  for (int h = 0; h < 3; ++h) {
    v1::VirtualHost& vhost = *snapshot.add_virtual_hosts();
    vhost.set_host("h" + std::to_string(h) + ".example");
    v1::Route& route = *vhost.add_routes();
    route.set_name("r");
    route.mutable_match()->set_path("/");
    route.set_cluster("ns/c:" + std::to_string(h));
  }
  const std::string scrambled = Scrambled(snapshot, random, false);
  v1::Snapshot parsed;
  ASSERT_TRUE(parsed.ParseFromString(scrambled));
  auto parts = SplitSnapshot(scrambled);
  ASSERT_TRUE(parts.ok());
  auto from_bytes = Config::Build(*parts);
  auto from_message = Config::Build(parsed);
  ASSERT_TRUE(from_bytes.ok() && from_message.ok());
  EXPECT_EQ((*from_bytes)->version(), (*from_message)->version());
  EXPECT_EQ((*from_bytes)->Match("h1.example", "/x")->cluster->name, "ns/c:1");
  EXPECT_EQ((*from_bytes)->Match("h1.example", "/x")->read_timeout, (*from_message)->Match("h1.example", "/x")->read_timeout);

  auto again = Config::Build(*parts, {}, from_bytes->get());
  ASSERT_TRUE(again.ok());
  for (std::size_t i = 0; i < (*again)->clusters().size(); ++i) {
    EXPECT_EQ((*again)->clusters()[i], (*from_bytes)->clusters()[i]);
  }
  EXPECT_EQ((*again)->FindHost("h2.example")->routes, (*from_bytes)->FindHost("h2.example")->routes);

  // The same with an unknown field among the snapshot's own: both ways refuse it.
  const std::string with_unknown = Scrambled(snapshot, random, true);
  ASSERT_TRUE(parsed.ParseFromString(with_unknown));
  parts = SplitSnapshot(with_unknown);
  ASSERT_TRUE(parts.ok());
  EXPECT_FALSE(Config::Build(*parts).ok());
  EXPECT_FALSE(Config::Build(parsed).ok());
}

}  // namespace
}  // namespace pier::dataplane
