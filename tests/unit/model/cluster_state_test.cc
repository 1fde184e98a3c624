#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/objects.h"

namespace pier::model {
namespace {

using nlohmann::json;

json Service(const std::string& name, int port, const std::string& resource_version = "1") {
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", resource_version}}},
              {"spec", {{"ports", json::array({{{"port", port}}})}}}};
}

TEST(ClusterState, UpsertReportsWhetherAnythingChanged) {
  ClusterState state;
  EXPECT_TRUE(*state.Upsert(Service("a", 80)));
  EXPECT_EQ(state.services.count("ns/a"), 1u);
  EXPECT_FALSE(*state.Upsert(Service("a", 80))) << "a resync of the same object is not a change";
  EXPECT_FALSE(*state.Upsert(Service("a", 80, "2"))) << "a new resourceVersion alone is not a change";
  EXPECT_EQ(state.services.at("ns/a").meta.resource_version, "2") << "but the newest version is kept";
  EXPECT_TRUE(*state.Upsert(Service("a", 81, "3")));
  EXPECT_EQ(state.services.at("ns/a").ports[0].port, 81);
}

TEST(ClusterState, UpsertRejectsBadAndForeignObjects) {
  ClusterState state;
  ASSERT_TRUE(*state.Upsert(Service("a", 80)));
  json bad = Service("a", 81);
  bad["spec"]["ports"][0]["port"] = "eighty";
  auto result = state.Upsert(bad);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("Service ns/a"), std::string::npos) << result.error();
  EXPECT_EQ(state.services.at("ns/a").ports[0].port, 80) << "a bad object leaves the state untouched";

  auto foreign = state.Upsert(json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().find("ConfigMap"), std::string::npos);
}

TEST(ClusterState, UpsertStoresEveryKindUnderItsKey) {
  ClusterState state;
  ASSERT_TRUE(state.Upsert(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"namespace": "n", "name": "i"}})")).ok());
  ASSERT_TRUE(state.Upsert(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "pier"}})")).ok());
  ASSERT_TRUE(state.Upsert(json::parse(R"({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"namespace": "n", "name": "e"}})")).ok());
  ASSERT_TRUE(state.Upsert(json::parse(R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "n", "name": "s"}})")).ok());
  EXPECT_EQ(state.ingresses.count("n/i"), 1u);
  EXPECT_EQ(state.ingress_classes.count("pier"), 1u);
  EXPECT_EQ(state.endpoint_slices.count("n/e"), 1u);
  EXPECT_EQ(state.secrets.count("n/s"), 1u);
}

TEST(ClusterState, Remove) {
  ClusterState state;
  ASSERT_TRUE(*state.Upsert(Service("a", 80)));
  EXPECT_FALSE(state.Remove(Kind::kIngress, "ns/a"));
  EXPECT_TRUE(state.Remove(Kind::kService, "ns/a"));
  EXPECT_FALSE(state.Remove(Kind::kService, "ns/a"));
  EXPECT_TRUE(state.services.empty());
}

TEST(ClusterState, ReplaceAllRemovesMissingAndReportsChange) {
  ClusterState state;
  ASSERT_TRUE(*state.Upsert(Service("a", 80)));
  ASSERT_TRUE(*state.Upsert(Service("b", 80)));
  EXPECT_FALSE(*state.ReplaceAll(Kind::kService, {Service("a", 80), Service("b", 80, "9")}));
  EXPECT_TRUE(*state.ReplaceAll(Kind::kService, {Service("a", 80)}));
  EXPECT_EQ(state.services.size(), 1u);
  EXPECT_TRUE(*state.ReplaceAll(Kind::kService, {Service("a", 80), Service("c", 80)}));
  EXPECT_TRUE(*state.ReplaceAll(Kind::kService, {}));
  EXPECT_TRUE(state.services.empty());
}

TEST(ClusterState, ReplaceAllIsAllOrNothing) {
  ClusterState state;
  ASSERT_TRUE(*state.Upsert(Service("a", 80)));
  json bad = Service("b", 80);
  bad["metadata"]["name"] = 7;
  json wrong_kind = json::parse(R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})");
  auto result = state.ReplaceAll(Kind::kService, {Service("c", 80), bad, wrong_kind});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("metadata.name"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("not a Service"), std::string::npos) << result.error();
  ASSERT_EQ(state.services.size(), 1u);
  EXPECT_EQ(state.services.count("ns/a"), 1u);
}

}  // namespace
}  // namespace pier::model
