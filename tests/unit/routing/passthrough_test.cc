// ssl-passthrough: a virtual host's TlsPassthrough resolved to one of its routes, what a
// snapshot may not carry there, and the mark every route of such a host gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include <google/protobuf/unknown_field_set.h>

#include "routing/config.h"
#include "snapshot_builder.h"

namespace pier::dataplane {
namespace {

using ::testing::HasSubstr;
using testing::SnapshotBuilder;

SnapshotBuilder WithPassthrough(const std::function<void(v1::Snapshot&)>& change = {}) {
  SnapshotBuilder builder;
  builder.Cluster("ns/argocd:443", {"10.0.0.1"}).Host("argocd.example").Prefix("/", "ns/argocd:443");
  builder.Prefix("/api", "ns/argocd:443");
  builder.Host("web.example").Prefix("/", "ns/argocd:443");
  auto& host = *builder.Get().mutable_virtual_hosts(0);
  host.mutable_passthrough()->set_route(host.routes(0).name());
  if (change) change(builder.Get());
  return builder;
}

std::string BuildError(const std::function<void(v1::Snapshot&)>& change) {
  auto config = Config::Build(WithPassthrough(change).Get());
  return config.ok() ? "<accepted>" : config.error();
}

TEST(Passthrough, TheHostNamesItsRouteAndEveryRouteIsMarked) {
  auto config = Config::Build(WithPassthrough().Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_TRUE((*config)->has_passthrough());
  const VirtualHostConfig* host = (*config)->FindHost("argocd.example");
  ASSERT_NE(host, nullptr);
  ASSERT_NE(host->passthrough, nullptr);
  EXPECT_EQ(host->passthrough->path, "/");
  ASSERT_NE(host->passthrough->cluster, nullptr);
  EXPECT_EQ(host->passthrough->cluster->name, "ns/argocd:443");
  for (const auto& route : host->routes) EXPECT_TRUE(route->passthrough_host);
  // The SNI lookup finds it in any case; other hosts are not marked.
  EXPECT_EQ((*config)->FindHost("ArgoCD.Example")->passthrough, host->passthrough);
  EXPECT_EQ((*config)->FindHost("web.example")->passthrough, nullptr);
  EXPECT_FALSE((*config)->Match("web.example", "/")->passthrough_host);
}

TEST(Passthrough, NoneWithoutTheField) {
  SnapshotBuilder builder;
  builder.Cluster("ns/app:80", {"10.0.0.1"}).Host("a.example").Prefix("/", "ns/app:80");
  auto config = Config::Build(builder.Get());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_FALSE((*config)->has_passthrough());
  EXPECT_EQ((*config)->FindHost("a.example")->passthrough, nullptr);
  EXPECT_FALSE((*config)->Match("a.example", "/")->passthrough_host);
}

TEST(Passthrough, AWildcardHostMayPassThrough) {
  auto config = Config::Build(WithPassthrough([](v1::Snapshot& snapshot) {
                                snapshot.mutable_virtual_hosts(0)->set_host("*.argocd.example");
                              }).Get());
  ASSERT_TRUE(config.ok()) << config.error();
  ASSERT_NE((*config)->FindHost("eu.argocd.example"), nullptr);
  EXPECT_NE((*config)->FindHost("eu.argocd.example")->passthrough, nullptr);
}

TEST(Passthrough, WhatASnapshotMayNotCarry) {
  EXPECT_THAT(BuildError([](v1::Snapshot& snapshot) {
                snapshot.mutable_virtual_hosts(0)->mutable_passthrough()->set_route("nope");
              }),
              HasSubstr("TLS passthrough route \"nope\" is not a route here"));
  // A route of another host is not one of this host's.
  EXPECT_THAT(BuildError([](v1::Snapshot& snapshot) {
                snapshot.mutable_virtual_hosts(0)->mutable_passthrough()->set_route(
                    snapshot.virtual_hosts(1).routes(0).name());
              }),
              HasSubstr("is not a route here"));
  EXPECT_THAT(BuildError([](v1::Snapshot& snapshot) {
                auto& host = *snapshot.mutable_virtual_hosts(1);
                host.set_host("");
                host.mutable_passthrough()->set_route(host.routes(0).name());
              }),
              HasSubstr("needs a host name"));
  EXPECT_THAT(BuildError([](v1::Snapshot& snapshot) {
                auto& passthrough = *snapshot.mutable_virtual_hosts(0)->mutable_passthrough();
                passthrough.GetReflection()->MutableUnknownFields(&passthrough)->AddVarint(2, 1);
              }),
              HasSubstr("field 2 of pier.v1.TlsPassthrough"));
  EXPECT_THAT(BuildError([](v1::Snapshot& snapshot) {
                auto& route = *snapshot.mutable_virtual_hosts(0)->mutable_routes(1);
                route.set_is_canary(true);
                snapshot.mutable_virtual_hosts(0)->mutable_passthrough()->set_route(route.name());
              }),
              HasSubstr("is a canary route"));
}

TEST(Passthrough, AnUnchangedHostKeepsItsPassthroughAcrossSnapshots) {
  auto first = Config::Build(WithPassthrough().Get());
  ASSERT_TRUE(first.ok()) << first.error();
  auto snapshot = WithPassthrough().Get();
  snapshot.set_version(2);
  auto second = Config::Build(snapshot, {}, first->get());
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_TRUE((*second)->has_passthrough());
  EXPECT_EQ((*second)->FindHost("argocd.example")->passthrough, (*first)->FindHost("argocd.example")->passthrough);
  // Dropped in the next one: the host terminates TLS again.
  SnapshotBuilder plain;
  plain.Cluster("ns/argocd:443", {"10.0.0.1"}).Host("argocd.example").Prefix("/", "ns/argocd:443");
  auto third = Config::Build(plain.Get(), {}, second->get());
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_FALSE((*third)->has_passthrough());
  EXPECT_EQ((*third)->FindHost("argocd.example")->passthrough, nullptr);
}

}  // namespace
}  // namespace pier::dataplane
