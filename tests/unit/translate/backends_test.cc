// Backend resolution: Service ports by number and name, EndpointSlice ports, endpoint conditions.
#include <gtest/gtest.h>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

std::vector<std::string> Endpoints(const pier::v1::Cluster& cluster) {
  std::vector<std::string> out;
  for (const auto& endpoint : cluster.endpoints()) {
    out.push_back(endpoint.address() + ":" + std::to_string(endpoint.port()) + (endpoint.fallback() ? " fallback" : ""));
  }
  return out;
}

TEST(Backends, PortByNumberMapsToTheSlicePortOfTheSameName) {
  State state;
  state.Add(ServiceBuilder("chat").port("http", 80).port("ws", 81));
  state.Add(SliceBuilder("chat-1", "chat").port("http", 8080).port("ws", 9000).endpoint("10.0.0.1"));
  state.Add(IngressBuilder("app").host("a.example").path("/ws", "chat", 81));
  const Output out = state.Translate();
  const auto* cluster = FindCluster(out.snapshot, "default/chat:81");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->service_namespace(), "default");
  EXPECT_EQ(cluster->service_name(), "chat");
  EXPECT_EQ(Endpoints(*cluster), Strings{"10.0.0.1:9000"});
}

TEST(Backends, PortByNameUsesTheServicePortNumberInTheClusterName) {
  State state;
  state.Add(ServiceBuilder("chat").port("http", 80).port("ws", 81));
  state.Add(SliceBuilder("chat-1", "chat").port("http", 8080).port("ws", 9000).endpoint("10.0.0.1"));
  state.Add(IngressBuilder("app").host("a.example").path_port_name("/ws", "chat", "ws"));
  const Output out = state.Translate();
  EXPECT_EQ(FindHost(out.snapshot, "a.example")->routes(0).cluster(), "default/chat:81");
  EXPECT_EQ(Endpoints(*FindCluster(out.snapshot, "default/chat:81")), Strings{"10.0.0.1:9000"});
}

TEST(Backends, UnnamedServicePortMatchesUnnamedSlicePort) {
  State state;
  state.Add(ServiceBuilder("svc").port("", 80));
  state.Add(SliceBuilder("svc-1", "svc").port("", 3000).endpoint("10.0.0.7"));
  state.Add(SliceBuilder("svc-2", "svc").port("metrics", 9100).endpoint("10.0.0.8"));
  state.Add(IngressBuilder("app").host("a.example").path("/", "svc", 80));
  EXPECT_EQ(Endpoints(*FindCluster(state.Translate().snapshot, "default/svc:80")), Strings{"10.0.0.7:3000"});
}

TEST(Backends, UnionOfSlicesDeduplicatedAndSorted) {
  State state;
  state.Add(ServiceBuilder("svc").port("http", 80));
  state.Add(SliceBuilder("svc-b", "svc").port("http", 8080).endpoint("10.0.0.3").endpoint("10.0.0.1"));
  state.Add(SliceBuilder("svc-a", "svc").port("http", 8080).endpoint("10.0.0.1").endpoint("10.0.0.2"));
  state.Add(SliceBuilder("other", "other-svc").port("http", 8080).endpoint("10.9.9.9"));
  state.Add(SliceBuilder("svc-elsewhere", "svc", "elsewhere").port("http", 8080).endpoint("10.8.8.8"));
  state.Add(IngressBuilder("app").host("a.example").path("/", "svc", 80));
  EXPECT_EQ(Endpoints(*FindCluster(state.Translate().snapshot, "default/svc:80")),
            (Strings{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"}));
}

TEST(Backends, ReadyEndpointsOnlyAndUnsetReadyCountsAsReady) {
  State state;
  state.Add(ServiceBuilder("svc").port("http", 80));
  state.Add(SliceBuilder("svc-1", "svc")
                .port("http", 8080)
                .endpoint("10.0.0.1", true)
                .endpoint("10.0.0.2", std::nullopt)
                .endpoint("10.0.0.3", false, true, true)
                .endpoint("10.0.0.4", false, false, false));
  state.Add(IngressBuilder("app").host("a.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(Endpoints(*FindCluster(out.snapshot, "default/svc:80")), (Strings{"10.0.0.1:8080", "10.0.0.2:8080"}));
  EXPECT_TRUE(out.warnings.empty());
}

TEST(Backends, ServingTerminatingOnlyWhenNothingIsReady) {
  State state;
  state.Add(ServiceBuilder("svc").port("http", 80));
  state.Add(SliceBuilder("svc-1", "svc")
                .port("http", 8080)
                .endpoint("10.0.0.3", false, true, true)
                .endpoint("10.0.0.4", false, false, true)
                .endpoint("10.0.0.5", false, true, false));
  state.Add(IngressBuilder("app").host("a.example").path("/", "svc", 80));
  const Output out = state.Translate();
  EXPECT_EQ(Endpoints(*FindCluster(out.snapshot, "default/svc:80")), Strings{"10.0.0.3:8080 fallback"});
  EXPECT_TRUE(out.warnings.empty());
}

TEST(Backends, NoUsableEndpointGivesAnEmptyClusterAndAWarning) {
  State state;
  state.Add(ServiceBuilder("svc").port("http", 80));
  state.Add(SliceBuilder("svc-1", "svc").port("http", 8080).endpoint("10.0.0.4", false, false, true));
  state.Add(IngressBuilder("app").host("a.example").path("/a", "svc", 80).path("/b", "svc", 80));
  const Output out = state.Translate();
  const auto* cluster = FindCluster(out.snapshot, "default/svc:80");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->endpoints_size(), 0);
  const auto& route = FindHost(out.snapshot, "a.example")->routes(0);
  EXPECT_EQ(route.cluster(), "default/svc:80");
  EXPECT_FALSE(route.has_unavailable()) << "the dataplane answers 503 for an empty cluster";
  EXPECT_EQ(Reasons(out), Strings{"NoEndpoints"}) << "one warning per Ingress and Service, not per path";
}

TEST(Backends, AddressesThatAreNotIpLiteralsAreDropped) {
  State state;
  state.Add(ServiceBuilder("svc").port("http", 80));
  state.Add(SliceBuilder("svc-1", "svc")
                .port("http", 8080)
                .endpoint("not-an-ip")
                .endpoint("fe80::1%eth0")
                .endpoint("2001:DB8::1")
                .endpoint("10.0.0.1"));
  state.Add(SliceBuilder("svc-dns", "svc").address_type("FQDN").port("http", 8080).endpoint("10.0.0.9"));
  state.Add(IngressBuilder("app").host("a.example").path("/", "svc", 80));
  EXPECT_EQ(Endpoints(*FindCluster(state.Translate().snapshot, "default/svc:80")),
            (Strings{"10.0.0.1:8080", "2001:db8::1:8080"}));
}

TEST(Backends, MissingServiceFailsTheRouteWith503) {
  State state;
  state.Add(IngressBuilder("app").host("a.example").path("/", "ghost", 80));
  const Output out = state.Translate();
  const auto& route = FindHost(out.snapshot, "a.example")->routes(0);
  EXPECT_EQ(route.cluster(), "");
  EXPECT_EQ(route.service(), "ghost");
  EXPECT_EQ(route.unavailable().status(), 503u);
  EXPECT_EQ(route.unavailable().reason(), "service default/ghost not found");
  EXPECT_EQ(Reasons(out), Strings{"MissingService"});
  EXPECT_EQ(out.snapshot.clusters_size(), 0);
}

TEST(Backends, MissingServicePortFailsTheRoute) {
  State state;
  state.Backend("svc");
  state.Add(IngressBuilder("app").host("a.example").path("/a", "svc", 81).path_port_name("/b", "svc", "grpc"));
  const Output out = state.Translate();
  const auto* vhost = FindHost(out.snapshot, "a.example");
  EXPECT_EQ(vhost->routes(0).unavailable().reason(), "service default/svc has no port 81");
  EXPECT_EQ(vhost->routes(1).unavailable().reason(), "service default/svc has no port \"grpc\"");
  EXPECT_EQ(Reasons(out), (Strings{"MissingService", "MissingService"}));
}

TEST(Backends, ResourceBackendsAndExternalNameAreUnsupported) {
  State state;
  state.Add(ServiceBuilder("ext").type("ExternalName").port("http", 80));
  state.Add(IngressBuilder("app").host("a.example").resource_path("/bucket").path("/ext", "ext", 80));
  const Output out = state.Translate();
  const auto* vhost = FindHost(out.snapshot, "a.example");
  for (const auto& route : vhost->routes()) EXPECT_EQ(route.unavailable().status(), 503u) << route.name();
  EXPECT_EQ(Reasons(out), (Strings{"UnsupportedBackend", "UnsupportedBackend"}));
}

TEST(Backends, ClustersAreSharedAndSorted) {
  State state;
  state.Backend("b");
  state.Backend("a");
  state.Add(IngressBuilder("one").host("x.example").path("/1", "b", 80).path("/2", "a", 80));
  state.Add(IngressBuilder("two").host("y.example").path("/1", "b", 80));
  const Output out = state.Translate();
  ASSERT_EQ(out.snapshot.clusters_size(), 2);
  EXPECT_EQ(out.snapshot.clusters(0).name(), "default/a:80");
  EXPECT_EQ(out.snapshot.clusters(1).name(), "default/b:80");
}

}  // namespace
}  // namespace pier::translate
