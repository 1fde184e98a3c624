#include "kube/resource.h"
#include "kube/secret_filter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pier::kube {
namespace {

using model::Kind;

TEST(CollectionPath, CoreAndNamedGroups) {
  EXPECT_EQ(CollectionPath(ResourceFor(Kind::kService), ""), "/api/v1/services");
  EXPECT_EQ(CollectionPath(ResourceFor(Kind::kService), "team-a"), "/api/v1/namespaces/team-a/services");
  EXPECT_EQ(CollectionPath(ResourceFor(Kind::kIngress), "team-a"),
            "/apis/networking.k8s.io/v1/namespaces/team-a/ingresses");
  EXPECT_EQ(CollectionPath(ResourceFor(Kind::kEndpointSlice), ""), "/apis/discovery.k8s.io/v1/endpointslices");
  // Cluster-scoped: the namespace does not apply.
  EXPECT_EQ(CollectionPath(ResourceFor(Kind::kIngressClass), "team-a"), "/apis/networking.k8s.io/v1/ingressclasses");
}

TEST(ObjectPath, ForStatusWritersAndLeases) {
  EXPECT_EQ(ObjectPath("coordination.k8s.io/v1", "leases", true, "pier-system", "pier-leader"),
            "/apis/coordination.k8s.io/v1/namespaces/pier-system/leases/pier-leader");
  EXPECT_EQ(ObjectPath("v1", "namespaces", false, "", "default"), "/api/v1/namespaces/default");
}

TEST(WatchedResources, CoverEveryKindOnceWithTlsSecretsOnly) {
  auto resources = WatchedResources();
  ASSERT_EQ(resources.size(), 5u);
  for (const auto& resource : resources) EXPECT_EQ(&ResourceFor(resource.kind), &resource);
  EXPECT_EQ(ResourceFor(Kind::kSecret).field_selector, kSecretFieldSelector);
  EXPECT_EQ(ResourceFor(Kind::kIngress).field_selector, "");
  EXPECT_FALSE(ResourceFor(Kind::kIngressClass).namespaced);
}

TEST(QueryString, EncodesAndSkipsEmptyValues) {
  EXPECT_EQ(QueryString({{"a", ""}}), "");
  EXPECT_EQ(QueryString({{"limit", "500"}, {"continue", ""}, {"fieldSelector", "type=kubernetes.io/tls"}}),
            "?limit=500&fieldSelector=type%3Dkubernetes.io%2Ftls");
  EXPECT_EQ(QueryString({{"labelSelector", "app in (a,b)"}, {"continue", "eyJ2Ijo+/x=="}}),
            "?labelSelector=app%20in%20%28a%2Cb%29&continue=eyJ2Ijo%2B%2Fx%3D%3D");
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(ObjectKey(nlohmann::json::parse(R"({"metadata":{"namespace":"a","name":"b"}})")), "a/b");
  EXPECT_EQ(ObjectKey(nlohmann::json::parse(R"({"metadata":{"name":"pier"}})")), "pier");
  EXPECT_EQ(ObjectKey(nlohmann::json::parse(R"({"metadata":{"namespace":"a"}})")), "");
  EXPECT_EQ(ObjectKey(nlohmann::json::parse(R"({"metadata":{"name":7}})")), "");
  EXPECT_EQ(ObjectKey(nlohmann::json::parse(R"([1,2])")), "");
}

}  // namespace
}  // namespace pier::kube
