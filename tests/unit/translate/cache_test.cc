// Translation with a ClusterCache must give byte for byte the snapshot (and the warnings) a
// build without one gives, over random edits made the way the event loop makes them.
#include <gtest/gtest.h>

#include <google/protobuf/io/coded_stream.h>
#include <nlohmann/json.hpp>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <random>
#include <string>

#include "model/objects.h"
#include "translate/cluster_cache.h"
#include "translate/translate.h"

namespace pier::translate {
namespace {

using nlohmann::json;

std::string Bytes(const pier::v1::Snapshot& snapshot) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    snapshot.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string Warnings(const Output& out) {
  std::string text;
  for (const Warning& w : out.warnings) text += w.ingress_namespace + "/" + w.ingress_name + " " + w.reason + " " + w.message + "\n";
  return text;
}

json Service(int i, int target_port_name_variant, bool external) {
  json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", "svc-" + std::to_string(i)}, {"namespace", "ns"}}},
                  {"spec", {{"ports", json::array({{{"name", target_port_name_variant ? "web" : "http"}, {"port", 80}}})}}}};
  if (external) {
    service["spec"]["type"] = "ExternalName";
    service["spec"]["externalName"] = "example.com";
  }
  return service;
}

json Slice(int i, int service, int first, int count, bool ready, const std::string& port_name) {
  json endpoints = json::array();
  for (int n = first; n < first + count; ++n) {
    endpoints.push_back({{"addresses", {"10.0." + std::to_string(n / 250) + "." + std::to_string(n % 250 + 1)}},
                         {"conditions", {{"ready", ready}}}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", "slice-" + std::to_string(i)},
            {"namespace", "ns"},
            {"labels", {{"kubernetes.io/service-name", "svc-" + std::to_string(service)}}}}},
          {"addressType", "IPv4"},
          {"ports", json::array({{{"name", port_name}, {"port", 8080}}})},
          {"endpoints", endpoints}};
}

json Ingress(int i, int a, int b, bool tls_backend) {
  json ingress = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "Ingress"},
      {"metadata",
       {{"name", "ing-" + std::to_string(i)},
        {"namespace", "ns"},
        {"creationTimestamp", "2024-01-0" + std::to_string(1 + i % 9) + "T00:00:00Z"}}},
      {"spec",
       {{"ingressClassName", "pier"},
        {"rules",
         json::array({{{"host", "h" + std::to_string(i % 6) + ".example"},
                       {"http",
                        {{"paths", json::array({{{"path", "/a"},
                                                 {"pathType", "Prefix"},
                                                 {"backend", {{"service", {{"name", "svc-" + std::to_string(a)}, {"port", {{"number", 80}}}}}}}},
                                                {{"path", "/b" + std::to_string(i)},
                                                 {"pathType", "Exact"},
                                                 {"backend", {{"service", {{"name", "svc-" + std::to_string(b)}, {"port", {{"number", 80}}}}}}}}})}}}}})}}}};
  if (tls_backend) ingress["metadata"]["annotations"] = {{"pier.dev/backend-protocol", "HTTPS"}};
  return ingress;
}

TEST(TranslateCache, RandomEditsGiveTheSnapshotOfAFullBuild) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<uint32_t>(n)); };
    model::ClusterState state;
    ASSERT_TRUE(state.Upsert({{"apiVersion", "networking.k8s.io/v1"},
                              {"kind", "IngressClass"},
                              {"metadata", {{"name", "pier"}}},
                              {"spec", {{"controller", "pier.dev/ingress-controller"}}}}));
    constexpr int kServices = 12;
    for (int i = 0; i < kServices; ++i) ASSERT_TRUE(state.Upsert(Service(i, 0, false)));
    for (int i = 0; i < 16; ++i) ASSERT_TRUE(state.Upsert(Slice(i, i % kServices, i * 3, 1 + pick(3), true, "http")));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(state.Upsert(Ingress(i, pick(kServices), pick(kServices), false)));

    ClusterCache cache;
    const Options options;
    for (int step = 0; step < 80; ++step) {
      switch (pick(8)) {
        case 0:  // endpoints change, become unready, or move to another Service
          ASSERT_TRUE(state.Upsert(Slice(pick(16), pick(kServices), pick(40), 1 + pick(3), pick(4) != 0, "http")));
          break;
        case 1:  // a slice goes
          state.Remove(model::Kind::kEndpointSlice, "ns/slice-" + std::to_string(pick(16)));
          break;
        case 2:  // the Service's port is renamed (its slices' port no longer matches), or it turns ExternalName
          ASSERT_TRUE(state.Upsert(Service(pick(kServices), pick(2), pick(5) == 0)));
          break;
        case 3:  // a Service goes, or comes back
          if (pick(2) == 0) {
            state.Remove(model::Kind::kService, "ns/svc-" + std::to_string(pick(kServices)));
          } else {
            ASSERT_TRUE(state.Upsert(Service(pick(kServices), 0, false)));
          }
          break;
        case 4: {  // a relist of every slice, some changed
          std::vector<json> slices;
          for (int i = 0; i < 16; ++i) slices.push_back(Slice(i, i % kServices, i * 3 + pick(2), 1 + pick(3), true, "http"));
          ASSERT_TRUE(state.ReplaceAll(model::Kind::kEndpointSlice, slices));
          break;
        }
        case 5:  // an Ingress moves to other Services, or talks TLS to them
          ASSERT_TRUE(state.Upsert(Ingress(pick(12), pick(kServices), pick(kServices), pick(4) == 0)));
          break;
        case 6:  // a slice with another port name
          ASSERT_TRUE(state.Upsert(Slice(pick(16), pick(kServices), pick(40), 2, true, pick(2) ? "web" : "http")));
          break;
        default:  // nothing changed: a rebuild anyway
          break;
      }
      const Output cached = Translate(state, options, BuildContext{nullptr, std::nullopt, &cache});
      const Output scratch = Translate(state, options);
      ASSERT_EQ(Bytes(cached.snapshot), Bytes(scratch.snapshot)) << "seed " << seed << " step " << step;
      ASSERT_EQ(Warnings(cached), Warnings(scratch)) << "seed " << seed << " step " << step;
      ASSERT_LE(cache.size(), static_cast<std::size_t>(scratch.snapshot.clusters_size()));
    }
  }
}

TEST(TranslateCache, AnUnchangedServiceIsServedFromTheCacheAndAChangedOneRebuilt) {
  model::ClusterState state;
  ASSERT_TRUE(state.Upsert({{"apiVersion", "networking.k8s.io/v1"},
                            {"kind", "IngressClass"},
                            {"metadata", {{"name", "pier"}}},
                            {"spec", {{"controller", "pier.dev/ingress-controller"}}}}));
  ASSERT_TRUE(state.Upsert(Service(0, 0, false)));
  ASSERT_TRUE(state.Upsert(Service(1, 0, false)));
  ASSERT_TRUE(state.Upsert(Slice(0, 0, 0, 2, true, "http")));
  ASSERT_TRUE(state.Upsert(Slice(1, 1, 10, 2, true, "http")));
  ASSERT_TRUE(state.Upsert(Ingress(0, 0, 1, false)));
  ClusterCache cache;
  const BuildContext context{nullptr, std::nullopt, &cache};
  Translate(state, Options{}, context);
  ASSERT_EQ(cache.size(), 2u);
  // Looked up with the revision the state has now: a hit for svc-1 before and after svc-0 moves.
  auto key = [&](int i) {
    return ClusterCache::Key{state.backend_revisions.at("ns/svc-" + std::to_string(i)), "http",
                             pier::v1::BackendTls().SerializeAsString()};
  };
  EXPECT_NE(cache.Find("ns/svc-0:80", key(0)), nullptr);
  const uint64_t before = state.backend_revisions.at("ns/svc-0");
  ASSERT_TRUE(state.Upsert(Slice(0, 0, 0, 3, true, "http")));
  EXPECT_NE(state.backend_revisions.at("ns/svc-0"), before);
  EXPECT_EQ(cache.Find("ns/svc-0:80", key(0)), nullptr);
  EXPECT_NE(cache.Find("ns/svc-1:80", key(1)), nullptr);
  const Output out = Translate(state, Options{}, context);
  ASSERT_EQ(out.snapshot.clusters_size(), 2);
  EXPECT_EQ(out.snapshot.clusters(0).endpoints_size(), 3);
  // An Ingress that no longer uses svc-1 takes its cluster out of the cache too.
  ASSERT_TRUE(state.Upsert(Ingress(0, 0, 0, false)));
  Translate(state, Options{}, context);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace pier::translate
