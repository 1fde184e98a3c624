#include "sources/manifest_file.h"

#include <gtest/gtest.h>

namespace pier::sources {
namespace {

using nlohmann::json;

TEST(ManifestFileTest, ExpandsKindList) {
  auto objects = ParseManifest(R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata: {name: b}
---
apiVersion: v1
kind: Secret
metadata: {name: c}
)");
  ASSERT_TRUE(objects) << objects.error();
  ASSERT_EQ(objects->size(), 3u);
  EXPECT_EQ((*objects)[0]["kind"], "Service");
  EXPECT_EQ((*objects)[1]["kind"], "Ingress");
  EXPECT_EQ((*objects)[2]["kind"], "Secret");
}

TEST(ManifestFileTest, TypedListItemsInheritKindAndApiVersion) {
  auto objects = ParseManifest(R"(apiVersion: networking.k8s.io/v1
kind: IngressList
items:
- metadata: {name: a}
- metadata: {name: b}
)");
  ASSERT_TRUE(objects) << objects.error();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[1]["kind"], "Ingress");
  EXPECT_EQ((*objects)[1]["apiVersion"], "networking.k8s.io/v1");
}

TEST(ManifestFileTest, EmptyListIsNothing) {
  auto objects = ParseManifest("apiVersion: v1\nkind: List\nitems: []\n");
  ASSERT_TRUE(objects) << objects.error();
  EXPECT_TRUE(objects->empty());
}

TEST(ManifestFileTest, DocumentsMustBeMappings) {
  auto objects = ParseManifest("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n- just\n- a list\n");
  ASSERT_FALSE(objects);
  EXPECT_NE(objects.error().find("document 2"), std::string::npos) << objects.error();
  auto items = ParseManifest("apiVersion: v1\nkind: List\nitems: [1]\n");
  EXPECT_FALSE(items);
}

TEST(ManifestFileTest, SyntaxErrorIsReported) {
  auto objects = ParseManifest("apiVersion: v1\nkind: Service\nmetadata:\n  name: [a\n");
  ASSERT_FALSE(objects);
  EXPECT_NE(objects.error().find("line"), std::string::npos);
}

TEST(ObjectKeyTest, DefaultsNamespaceLikeKubectl) {
  EXPECT_EQ(ObjectKey(json::parse(R"({"metadata":{"name":"a"}})"), false), "default/a");
  EXPECT_EQ(ObjectKey(json::parse(R"({"metadata":{"name":"a","namespace":"web"}})"), false), "web/a");
  EXPECT_EQ(ObjectKey(json::parse(R"({"metadata":{"name":"pier","namespace":"x"}})"), true), "pier");
  EXPECT_EQ(ObjectKey(json::parse(R"({"metadata":{}})"), false), "");
  EXPECT_EQ(ObjectKey(json::parse(R"({"metadata":{"name":5}})"), false), "");
  EXPECT_EQ(ObjectKey(json::parse(R"({})"), false), "");
}

}  // namespace
}  // namespace pier::sources
