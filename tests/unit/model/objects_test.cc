#include "model/objects.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace pier::model {
namespace {

using nlohmann::json;

json IngressJson() {
  return json::parse(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"namespace": "chat", "name": "app", "uid": "u-1", "resourceVersion": "42",
                 "creationTimestamp": "2024-05-01T10:00:00Z", "generation": 3,
                 "labels": {"team": "a"}, "annotations": {"pier.dev/websocket": "true"}},
    "spec": {
      "ingressClassName": "pier",
      "defaultBackend": {"service": {"name": "web", "port": {"name": "http"}}},
      "rules": [
        {"host": "chat.example.com", "http": {"paths": [
          {"path": "/ws", "pathType": "Prefix", "backend": {"service": {"name": "chat", "port": {"number": 80}}}},
          {"path": "/exact", "pathType": "Exact", "backend": {"resource": {"kind": "Bucket", "name": "b"}}},
          {"path": "/impl", "pathType": "ImplementationSpecific", "backend": {"service": {"name": "x", "port": {"number": 1}}}}
        ]}},
        {"host": "nohttp.example.com"}
      ],
      "tls": [{"hosts": ["chat.example.com"], "secretName": "chat-tls"}]
    }
  })");
}

TEST(IngressFromJson, ReadsEveryField) {
  auto ingress = IngressFromJson(IngressJson());
  ASSERT_TRUE(ingress.ok()) << ingress.error();
  EXPECT_EQ(ingress->meta.namespace_, "chat");
  EXPECT_EQ(ingress->meta.name, "app");
  EXPECT_EQ(ingress->meta.uid, "u-1");
  EXPECT_EQ(ingress->meta.resource_version, "42");
  EXPECT_EQ(ingress->meta.creation_timestamp, "2024-05-01T10:00:00Z");
  EXPECT_EQ(ingress->meta.generation, 3);
  EXPECT_EQ(ingress->meta.labels.at("team"), "a");
  EXPECT_EQ(ingress->meta.annotations.at("pier.dev/websocket"), "true");
  EXPECT_EQ(ingress->ingress_class_name, "pier");
  ASSERT_TRUE(ingress->default_backend.has_value());
  ASSERT_TRUE(ingress->default_backend->service.has_value());
  EXPECT_EQ(ingress->default_backend->service->name, "web");
  EXPECT_FALSE(ingress->default_backend->service->port.number.has_value());
  EXPECT_EQ(ingress->default_backend->service->port.name, "http");

  ASSERT_EQ(ingress->rules.size(), 2u);
  EXPECT_EQ(ingress->rules[0].host, "chat.example.com");
  ASSERT_EQ(ingress->rules[0].paths.size(), 3u);
  const auto& ws = ingress->rules[0].paths[0];
  EXPECT_EQ(ws.path, "/ws");
  EXPECT_EQ(ws.path_type, PathType::kPrefix);
  EXPECT_EQ(ws.backend.service->name, "chat");
  EXPECT_EQ(ws.backend.service->port.number, 80);
  EXPECT_EQ(ingress->rules[0].paths[1].path_type, PathType::kExact);
  EXPECT_TRUE(ingress->rules[0].paths[1].backend.has_resource);
  EXPECT_FALSE(ingress->rules[0].paths[1].backend.service.has_value());
  EXPECT_EQ(ingress->rules[0].paths[2].path_type, PathType::kImplementationSpecific);
  EXPECT_TRUE(ingress->rules[1].paths.empty());

  ASSERT_EQ(ingress->tls.size(), 1u);
  EXPECT_EQ(ingress->tls[0].hosts, std::vector<std::string>{"chat.example.com"});
  EXPECT_EQ(ingress->tls[0].secret_name, "chat-tls");
}

TEST(IngressFromJson, MissingNamespaceIsDefault) {
  json object = IngressJson();
  object["metadata"].erase("namespace");
  EXPECT_EQ(IngressFromJson(object)->meta.namespace_, "default");
}

TEST(IngressFromJson, MinimalIngressHasNoOptionalParts) {
  auto ingress = IngressFromJson(json::parse(R"({"metadata": {"name": "a", "namespace": "n"}})"));
  ASSERT_TRUE(ingress.ok()) << ingress.error();
  EXPECT_FALSE(ingress->ingress_class_name.has_value());
  EXPECT_FALSE(ingress->default_backend.has_value());
  EXPECT_TRUE(ingress->rules.empty());
}

// Each wrong type gives an error that names the object and the field, never an exception.
struct BadField {
  const char* json_pointer;
  json value;
  const char* expected_in_error;
};

class IngressBadFields : public ::testing::TestWithParam<BadField> {};

TEST_P(IngressBadFields, ErrorNamesTheField) {
  json object = IngressJson();
  object[json::json_pointer(GetParam().json_pointer)] = GetParam().value;
  Result<Ingress> result = Ingress{};
  ASSERT_NO_THROW(result = IngressFromJson(object));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find(GetParam().expected_in_error), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("Ingress chat/app"), std::string::npos) << result.error();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, IngressBadFields,
    ::testing::Values(BadField{"/spec/rules/0/host", 5, "spec.rules[0].host: expected a string, got number"},
                      BadField{"/spec/rules", "x", "spec.rules: expected a list"},
                      BadField{"/spec/rules/1", 3, "spec.rules[1]: expected an object"},
                      BadField{"/spec/rules/0/http/paths/0/pathType", "Glob", "spec.rules[0].http.paths[0].pathType"},
                      BadField{"/spec/rules/0/http/paths/0/backend/service/port/number", "80",
                               "spec.rules[0].http.paths[0].backend.service.port.number: expected an integer"},
                      BadField{"/spec/rules/0/http/paths/0/backend/service/port/number", 1e12,
                               "backend.service.port.number: expected an integer"},
                      BadField{"/spec/rules/0/http/paths/0/backend/service/port/number", 80.5,
                               "backend.service.port.number: expected an integer"},
                      BadField{"/spec/ingressClassName", json::array(), "spec.ingressClassName: expected a string"},
                      BadField{"/spec/tls/0/hosts/0", true, "spec.tls[0].hosts[0]: expected a string, got boolean"},
                      BadField{"/metadata/annotations/pier.dev~1websocket", true,
                               "metadata.annotations.pier.dev/websocket: expected a string"},
                      BadField{"/metadata/generation", "3", "metadata.generation"},
                      BadField{"/spec", "x", "spec: expected an object"}));

TEST(IngressFromJson, RejectsNonObjectsAndMissingNames) {
  EXPECT_FALSE(IngressFromJson(json::array()).ok());
  EXPECT_FALSE(IngressFromJson(json("x")).ok());
  EXPECT_FALSE(IngressFromJson(json::object()).ok());
  auto nameless = IngressFromJson(json::parse(R"({"metadata": {"namespace": "n"}})"));
  ASSERT_FALSE(nameless.ok());
  EXPECT_NE(nameless.error().find("metadata.name"), std::string::npos);
}

TEST(IngressFromJson, IntegralFloatPortIsAccepted) {
  json object = IngressJson();
  object["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"] = 80.0;
  EXPECT_EQ(IngressFromJson(object)->rules[0].paths[0].backend.service->port.number, 80);
}

TEST(IngressFromJson, ReadsLoadBalancerStatusLeniently) {
  auto ingress = IngressFromJson(json::parse(R"({"metadata": {"name": "a", "namespace": "n"},
    "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"hostname": "lb.example"}, 7, {"ip": 3}]}}})"));
  ASSERT_TRUE(ingress.ok()) << ingress.error();
  // Odd entries (someone else's writes) are skipped, never a reason to drop the Ingress.
  ASSERT_EQ(ingress->status_load_balancer.size(), 3u);
  EXPECT_EQ(ingress->status_load_balancer[0].ip, "10.0.0.1");
  EXPECT_EQ(ingress->status_load_balancer[1].hostname, "lb.example");
  EXPECT_EQ(ingress->status_load_balancer[2], LoadBalancerIngress{});
  EXPECT_TRUE(IngressFromJson(json::parse(R"({"metadata": {"name": "a"}, "status": "odd"})")).ok());
}

TEST(IngressClassFromJson, ReadsController) {
  auto cls = IngressClassFromJson(json::parse(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
    "metadata": {"name": "pier", "namespace": "ignored",
                 "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
    "spec": {"controller": "pier.dev/ingress-controller"}})"));
  ASSERT_TRUE(cls.ok()) << cls.error();
  EXPECT_EQ(KeyOf(cls->meta), "pier");
  EXPECT_EQ(cls->controller, "pier.dev/ingress-controller");
  EXPECT_FALSE(IngressClassFromJson(json::parse(R"({"metadata": {"name": "x"}, "spec": {"controller": 1}})")).ok());
}

TEST(ServiceFromJson, ReadsPortsAndStatus) {
  auto service = ServiceFromJson(json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"namespace": "chat", "name": "chat"},
    "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10",
             "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                       {"name": "ws", "port": 81, "targetPort": "ws-port"},
                       {"port": 82}]},
    "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}, {"hostname": "lb.example.com"},
                                            {"ip": "198.51.100.2", "hostname": "both.example.com"}]}}})"));
  ASSERT_TRUE(service.ok()) << service.error();
  EXPECT_EQ(service->type, "LoadBalancer");
  EXPECT_EQ(service->cluster_ip, "10.96.0.10");
  ASSERT_EQ(service->ports.size(), 3u);
  EXPECT_EQ(service->ports[0].name, "http");
  EXPECT_EQ(service->ports[0].port, 80);
  EXPECT_EQ(service->ports[0].target_port_number, 8080);
  EXPECT_EQ(service->ports[1].target_port_name, "ws-port");
  EXPECT_FALSE(service->ports[1].target_port_number.has_value());
  EXPECT_EQ(service->ports[2].name, "");
  EXPECT_EQ(service->ports[2].protocol, "TCP");
  EXPECT_EQ(service->load_balancer, (std::vector<LoadBalancerIngress>{{"203.0.113.5", ""},
                                                                     {"", "lb.example.com"},
                                                                     {"198.51.100.2", "both.example.com"}}));
}

TEST(ServiceFromJson, DefaultsAndBadTypes) {
  auto service = ServiceFromJson(json::parse(R"({"metadata": {"name": "s"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}})"));
  ASSERT_TRUE(service.ok());
  EXPECT_EQ(service->external_name, "db.example.com");
  EXPECT_EQ(ServiceFromJson(json::parse(R"({"metadata": {"name": "s"}})"))->type, "ClusterIP");

  auto bad = ServiceFromJson(json::parse(R"({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 70000}]}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("spec.ports[0].port"), std::string::npos) << bad.error();
  bad = ServiceFromJson(json::parse(R"({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 1, "targetPort": true}]}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("spec.ports[0].targetPort"), std::string::npos) << bad.error();
}

TEST(EndpointSliceFromJson, ReadsEndpointsConditionsAndPorts) {
  auto slice = EndpointSliceFromJson(json::parse(R"({
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"namespace": "chat", "name": "chat-abc", "labels": {"kubernetes.io/service-name": "chat"}},
    "addressType": "IPv4",
    "endpoints": [
      {"addresses": ["10.0.0.1"], "conditions": {"ready": true, "serving": true, "terminating": false}, "zone": "a"},
      {"addresses": ["10.0.0.2"]}
    ],
    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"port": 9090}]})"));
  ASSERT_TRUE(slice.ok()) << slice.error();
  EXPECT_EQ(slice->service_name, "chat");
  EXPECT_EQ(slice->address_type, "IPv4");
  ASSERT_EQ(slice->endpoints.size(), 2u);
  EXPECT_EQ(slice->endpoints[0].addresses, std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(slice->endpoints[0].conditions.ready, true);
  EXPECT_EQ(slice->endpoints[0].conditions.serving, true);
  EXPECT_EQ(slice->endpoints[0].conditions.terminating, false);
  EXPECT_EQ(slice->endpoints[0].zone, "a");
  EXPECT_FALSE(slice->endpoints[1].conditions.ready.has_value());
  ASSERT_EQ(slice->ports.size(), 2u);
  EXPECT_EQ(slice->ports[0].name, "http");
  EXPECT_EQ(slice->ports[0].port, 8080);
  EXPECT_EQ(slice->ports[1].name, "");

  auto bad = EndpointSliceFromJson(json::parse(
      R"({"metadata": {"name": "s"}, "endpoints": [{"addresses": ["1.2.3.4"], "conditions": {"ready": "yes"}}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("endpoints[0].conditions.ready: expected a boolean"), std::string::npos) << bad.error();
}

TEST(SecretFromJson, DecodesDataAndMergesStringData) {
  auto secret = SecretFromJson(json::parse(R"({
    "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
    "metadata": {"namespace": "chat", "name": "tls"},
    "data": {"tls.crt": "Q0VSVA==", "tls.key": "S0VZ"},
    "stringData": {"tls.key": "PLAIN", "extra": "x"}})"));
  ASSERT_TRUE(secret.ok()) << secret.error();
  EXPECT_EQ(secret->type, "kubernetes.io/tls");
  EXPECT_EQ(secret->data.at("tls.crt"), "CERT");
  EXPECT_EQ(secret->data.at("tls.key"), "PLAIN");
  EXPECT_EQ(secret->data.at("extra"), "x");
}

TEST(SecretFromJson, BadBase64NamesTheKeyButNotTheValue) {
  auto secret = SecretFromJson(json::parse(R"({"metadata": {"name": "s"}, "data": {"tls.key": "c2VjcmV0!!"}})"));
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.error().find("data.tls.key"), std::string::npos) << secret.error();
  EXPECT_EQ(secret.error().find("c2VjcmV0"), std::string::npos) << "secret material leaked into: " << secret.error();
}

TEST(KindOf, ByApiVersionAndKind) {
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"})")), Kind::kIngress);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass"})")), Kind::kIngressClass);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "v1", "kind": "Service"})")), Kind::kService);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "v1", "kind": "Secret"})")), Kind::kSecret);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice"})")), Kind::kEndpointSlice);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress"})")), std::nullopt);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap"})")), std::nullopt);
  EXPECT_EQ(KindOf(json::parse(R"({"apiVersion": "v1", "kind": 3})")), std::nullopt);
  EXPECT_EQ(KindOf(json::parse(R"([1])")), std::nullopt);
  EXPECT_STREQ(KindName(Kind::kEndpointSlice), "EndpointSlice");
}

}  // namespace
}  // namespace pier::model
