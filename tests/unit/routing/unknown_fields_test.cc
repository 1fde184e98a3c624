// A snapshot from a newer controller carries fields this dataplane's snapshot.proto does not
// define. Protobuf keeps them as unknown fields and would let the rest be served as if they were
// not there; Build makes a route holding one fail closed, and refuses the snapshot when one is
// anywhere else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/unknown_field_set.h>

#include <functional>
#include <string>

#include "routing/config.h"
#include "routing/snapshot_wire.h"
#include "snapshot_builder.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;
using testing::SnapshotBuilder;

// The wire bytes a newer schema's field would add: a number this schema does not use, holding a
// varint, or an embedded message (length-delimited bytes), the two kinds a policy field takes.
void AddFutureVarint(google::protobuf::Message& message, int number) {
  message.GetReflection()->MutableUnknownFields(&message)->AddVarint(number, 1);
}
void AddFutureMessage(google::protobuf::Message& message, int number) {
  message.GetReflection()->MutableUnknownFields(&message)->AddLengthDelimited(number, std::string("\x08\x01", 2));
}

SnapshotBuilder TwoRoutes() {
  SnapshotBuilder builder;
  builder.Cluster("c").Host("a.example").Prefix("/new").Prefix("/");
  return builder;
}

TEST(UnknownFields, FoundAtAnyDepthAndNamedByNumberAndMessage) {
  v1::Route route;
  EXPECT_EQ(FindUnknownField(route), std::nullopt);
  route.mutable_cors()->set_enabled(true);
  route.mutable_basic_auth()->add_users()->set_name("alice");
  EXPECT_EQ(FindUnknownField(route), std::nullopt);
  AddFutureMessage(*route.mutable_basic_auth()->mutable_users(0), 7);
  EXPECT_EQ(FindUnknownField(route), "field 7 of pier.v1.BasicAuthUser");
  route.Clear();
  AddFutureVarint(route, 99);
  EXPECT_EQ(FindUnknownField(route), "field 99 of pier.v1.Route");
}

TEST(UnknownFields, TheyLeaveTheBytesAsTheyCame) {
  // What makes the check possible at all: the dataplane parses such bytes and keeps the field.
  v1::Route sent;
  sent.set_name("r");
  AddFutureMessage(sent, 40);
  v1::Route received;
  ASSERT_TRUE(received.ParseFromString(sent.SerializeAsString()));
  EXPECT_EQ(FindUnknownField(received), "field 40 of pier.v1.Route");
}

TEST(UnknownFields, ARouteWithOneFailsClosedWith503AndTheOthersAreServed) {
  SnapshotBuilder builder = TwoRoutes();
  AddFutureMessage(*builder.Get().mutable_virtual_hosts(0)->mutable_routes(0), 40);
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();

  auto newer = (*config)->Match("a.example", "/new");
  ASSERT_NE(newer, nullptr);
  EXPECT_EQ(newer->unavailable_status, 503u);
  EXPECT_EQ(newer->cluster, nullptr);
  EXPECT_EQ(newer->unknown_field, "field 40 of pier.v1.Route");
  EXPECT_THAT(newer->unavailable_reason, HasSubstr("needs a newer Pier dataplane"));

  auto other = (*config)->Match("a.example", "/other");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->unavailable_status, 0u);
  EXPECT_NE(other->cluster, nullptr);
  EXPECT_TRUE(other->unknown_field.empty());
}

TEST(UnknownFields, AFieldInsideARoutePolicyCountsAsTheRoutes) {
  SnapshotBuilder builder = TwoRoutes();
  v1::Route& route = *builder.Get().mutable_virtual_hosts(0)->mutable_routes(0);
  route.mutable_cors()->set_enabled(true);
  route.mutable_cors()->add_allow_origins("https://app.example");
  AddFutureVarint(*route.mutable_cors(), 12);
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  auto newer = (*config)->Match("a.example", "/new");
  ASSERT_NE(newer, nullptr);
  EXPECT_EQ(newer->unavailable_status, 503u);
  EXPECT_EQ(newer->unknown_field, "field 12 of pier.v1.Cors");
}

TEST(UnknownFields, ARouteWithOneSendsNothingToItsCanary) {
  SnapshotBuilder builder;
  builder.Cluster("c").Cluster("canary").Host("a.example").Prefix("/").Prefix("/", "canary");
  v1::Route& main = *builder.Get().mutable_virtual_hosts(0)->mutable_routes(0);
  v1::Route& canary = *builder.Get().mutable_virtual_hosts(0)->mutable_routes(1);
  canary.set_name("canary");
  canary.set_is_canary(true);
  main.mutable_canary()->set_route("canary");
  main.mutable_canary()->set_weight(100);
  AddFutureVarint(main, 99);
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  auto route = (*config)->Match("a.example", "/");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->unavailable_status, 503u);
  EXPECT_EQ(route->canary, nullptr);
}

TEST(UnknownFields, ATakenOverHostKeepsItsFailedClosedRoute) {
  SnapshotBuilder builder = TwoRoutes();
  AddFutureVarint(*builder.Get().mutable_virtual_hosts(0)->mutable_routes(0), 99);
  auto first = Config::Build(builder.Get());
  ASSERT_TRUE(first.ok()) << first.error();
  builder.Version(2);
  auto second = Config::Build(builder.Get(), {}, first->get());
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ((*second)->Match("a.example", "/new"), (*first)->Match("a.example", "/new"));  // the same object
  EXPECT_EQ((*second)->Match("a.example", "/new")->unavailable_status, 503u);
}

// Build's error for TwoRoutes() with `change` made to it; "<accepted>" when it builds.
std::string BuildError(const std::function<void(v1::Snapshot&)>& change) {
  SnapshotBuilder builder = TwoRoutes();
  change(builder.Get());
  auto config = Config::Build(builder.Get());
  return config.ok() ? "<accepted>" : config.error();
}

TEST(UnknownFields, AnywhereElseTheSnapshotIsRefused) {
  const std::string own = BuildError([](v1::Snapshot& s) { AddFutureVarint(s, 50); });
  EXPECT_THAT(own, HasSubstr("the snapshot has field 50 of pier.v1.Snapshot"));
  EXPECT_THAT(own, HasSubstr("upgrade the dataplane"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { AddFutureVarint(*s.mutable_defaults(), 20); }),
              HasSubstr("field 20 of pier.v1.Defaults"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { AddFutureMessage(*s.mutable_clusters(0), 20); }),
              HasSubstr("cluster \"c\" has field 20 of pier.v1.Cluster"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { AddFutureVarint(*s.mutable_clusters(0)->mutable_endpoints(0), 20); }),
              HasSubstr("field 20 of pier.v1.Endpoint"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { AddFutureVarint(*s.mutable_virtual_hosts(0), 20); }),
              HasSubstr("virtual host \"a.example\" has field 20 of pier.v1.VirtualHost"));
  // A client-certificate setting it does not know could make the check looser than meant.
  EXPECT_THAT(BuildError([](v1::Snapshot& s) { AddFutureVarint(*s.mutable_virtual_hosts(0)->mutable_client_auth(), 20); }),
              HasSubstr("virtual host \"a.example\" has field 20 of pier.v1.ClientAuth"));
  EXPECT_THAT(BuildError([](v1::Snapshot& s) {
                v1::TlsCertificate& certificate = *s.add_certificates();
                certificate.set_name("ns/tls");
                AddFutureVarint(certificate, 20);
              }),
              HasSubstr("field 20 of pier.v1.TlsCertificate"));
}

}  // namespace
}  // namespace pier::dataplane
