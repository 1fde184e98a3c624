// The same state always gives the same bytes, and the JSON path gives the same as the builders.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "builders.h"

namespace pier::translate {
namespace {

using namespace testing;

std::string Bytes(const pier::v1::Snapshot& snapshot) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  snapshot.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

void Populate(State& state, bool reversed) {
  std::vector<std::function<void()>> steps = {
      [&] { state.Backend("chat"); },
      [&] { state.Backend("web", "other"); },
      [&] { state.Add(SliceBuilder("chat-2", "chat").port("http", 8080).endpoint("10.0.0.9").endpoint("10.0.0.2")); },
      [&] { state.Add(TlsSecret("tls")); },
      [&] {
        state.Add(IngressBuilder("b")
                      .created("2024-02-01T00:00:00Z")
                      .annotation("pier.dev/proxy-read-timeout", "bad")
                      .tls({"chat.example"}, "tls")
                      .host("chat.example")
                      .path("/ws", "chat", 80)
                      .path("/", "chat", 80));
      },
      [&] {
        state.Add(IngressBuilder("a", "other")
                      .created("2024-01-01T00:00:00Z")
                      .default_backend("web", 80)
                      .host("chat.example")
                      .path("/ws", "web", 80)
                      .host("*.example")
                      .path("/x", "missing", 80));
      },
  };
  if (reversed) std::reverse(steps.begin(), steps.end());
  for (auto& step : steps) step();
}

TEST(Determinism, TranslatingTwiceGivesIdenticalBytes) {
  State state;
  Populate(state, false);
  const Output first = state.Translate();
  const Output second = state.Translate();
  ASSERT_GT(first.snapshot.virtual_hosts_size(), 0);
  EXPECT_EQ(Bytes(first.snapshot), Bytes(second.snapshot));
  ASSERT_EQ(first.warnings.size(), second.warnings.size());
  for (std::size_t i = 0; i < first.warnings.size(); ++i) EXPECT_EQ(first.warnings[i].message, second.warnings[i].message);
}

TEST(Determinism, InsertionOrderDoesNotMatter) {
  State forward;
  Populate(forward, false);
  State backward;
  Populate(backward, true);
  EXPECT_EQ(Bytes(forward.Translate().snapshot), Bytes(backward.Translate().snapshot));
}

TEST(Determinism, OutputListsAreSorted) {
  State state;
  Populate(state, false);
  const Output out = state.Translate();
  const auto& snapshot = out.snapshot;
  for (int i = 1; i < snapshot.virtual_hosts_size(); ++i) {
    EXPECT_LT(snapshot.virtual_hosts(i - 1).host(), snapshot.virtual_hosts(i).host());
  }
  for (int i = 1; i < snapshot.clusters_size(); ++i) EXPECT_LT(snapshot.clusters(i - 1).name(), snapshot.clusters(i).name());
  for (int i = 1; i < snapshot.certificates_size(); ++i) {
    EXPECT_LT(snapshot.certificates(i - 1).name(), snapshot.certificates(i).name());
  }
  for (const auto& cluster : snapshot.clusters()) {
    for (int i = 1; i < cluster.endpoints_size(); ++i) {
      EXPECT_LT(cluster.endpoints(i - 1).address(), cluster.endpoints(i).address());
    }
  }
}

// The JSON objects a source delivers go through the same path as the builders above.
TEST(Pipeline, JsonObjectsToSnapshot) {
  model::ClusterState state;
  for (const char* text : {
           R"({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier"},
               "spec": {"controller": "pier.dev/ingress-controller"}})",
           R"({"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "chat", "name": "chat"},
               "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})",
           R"({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"namespace": "chat", "name": "chat-x", "labels": {"kubernetes.io/service-name": "chat"}},
               "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
               "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}]})",
           R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"namespace": "chat", "name": "chat", "annotations": {"pier.dev/websocket-idle-timeout": "1h"}},
               "spec": {"ingressClassName": "pier", "rules": [{"http": {"paths": [
                 {"path": "/ws/chat", "pathType": "Prefix", "backend": {"service": {"name": "chat", "port": {"number": 80}}}}]}}]}})"}) {
    auto result = state.Upsert(nlohmann::json::parse(text));
    ASSERT_TRUE(result.ok()) << result.error();
  }
  const Output out = Translate(state, Options{});
  ASSERT_TRUE(out.warnings.empty()) << out.warnings[0].message;
  const auto* vhost = FindHost(out.snapshot, "");
  ASSERT_NE(vhost, nullptr);
  ASSERT_EQ(vhost->routes_size(), 1);
  EXPECT_EQ(vhost->routes(0).cluster(), "chat/chat:80");
  EXPECT_EQ(vhost->routes(0).websocket().idle_timeout_ms(), 3'600'000u);
  const auto* cluster = FindCluster(out.snapshot, "chat/chat:80");
  ASSERT_EQ(cluster->endpoints_size(), 1);
  EXPECT_EQ(cluster->endpoints(0).address(), "127.0.0.1");
  EXPECT_EQ(cluster->endpoints(0).port(), 8080u);
}

}  // namespace
}  // namespace pier::translate
