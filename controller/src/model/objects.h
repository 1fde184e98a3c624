// Typed views of the Kubernetes objects the controller reads. Both sources (manifests and the
// API server) produce JSON (YAML is converted first), and the same From* functions turn it into
// these structs, so translation never sees where an object came from.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pier/common/result.h"

namespace pier::model {

struct ObjectMeta {
  std::string namespace_;  // "" for cluster-scoped objects (IngressClass)
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;  // RFC 3339 as the API server writes it; compares lexically
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;

  friend bool operator==(const ObjectMeta&, const ObjectMeta&) = default;
};

// "namespace/name", or "name" for cluster-scoped objects.
std::string KeyOf(const ObjectMeta& meta);

struct ServiceBackendPort {
  std::optional<int32_t> number;
  std::string name;  // used when number is empty

  friend bool operator==(const ServiceBackendPort&, const ServiceBackendPort&) = default;
};

struct IngressServiceBackend {
  std::string name;
  ServiceBackendPort port;

  friend bool operator==(const IngressServiceBackend&, const IngressServiceBackend&) = default;
};

struct IngressBackend {
  std::optional<IngressServiceBackend> service;
  bool has_resource = false;  // spec.backend.resource: not supported, reported

  friend bool operator==(const IngressBackend&, const IngressBackend&) = default;
};

enum class PathType { kExact, kPrefix, kImplementationSpecific };

struct HTTPIngressPath {
  std::string path;  // "" is allowed only for ImplementationSpecific and means "/"
  PathType path_type = PathType::kImplementationSpecific;
  IngressBackend backend;

  friend bool operator==(const HTTPIngressPath&, const HTTPIngressPath&) = default;
};

struct IngressRule {
  std::string host;  // "" = all hosts
  std::vector<HTTPIngressPath> paths;

  friend bool operator==(const IngressRule&, const IngressRule&) = default;
};

struct IngressTLS {
  std::vector<std::string> hosts;
  std::string secret_name;

  friend bool operator==(const IngressTLS&, const IngressTLS&) = default;
};

// One status.loadBalancer.ingress entry: where an Ingress (or a LoadBalancer Service) is reached.
struct LoadBalancerIngress {
  std::string ip;
  std::string hostname;

  friend auto operator<=>(const LoadBalancerIngress&, const LoadBalancerIngress&) = default;
};

struct Ingress {
  ObjectMeta meta;
  std::optional<std::string> ingress_class_name;
  std::optional<IngressBackend> default_backend;
  std::vector<IngressRule> rules;
  std::vector<IngressTLS> tls;
  // status.loadBalancer.ingress as last written (by us or anyone): read only for status updates.
  std::vector<LoadBalancerIngress> status_load_balancer;

  friend bool operator==(const Ingress&, const Ingress&) = default;
};

struct IngressClass {
  ObjectMeta meta;
  std::string controller;

  friend bool operator==(const IngressClass&, const IngressClass&) = default;
};

struct ServicePort {
  std::string name;
  int32_t port = 0;
  std::optional<int32_t> target_port_number;
  std::string target_port_name;
  std::string protocol = "TCP";

  friend bool operator==(const ServicePort&, const ServicePort&) = default;
};

struct Service {
  ObjectMeta meta;
  std::string type = "ClusterIP";
  std::string cluster_ip;
  std::string external_name;
  std::vector<ServicePort> ports;
  std::vector<LoadBalancerIngress> load_balancer;  // status.loadBalancer.ingress, ip and hostname kept paired

  friend bool operator==(const Service&, const Service&) = default;
};

struct EndpointConditions {
  std::optional<bool> ready;
  std::optional<bool> serving;
  std::optional<bool> terminating;

  friend bool operator==(const EndpointConditions&, const EndpointConditions&) = default;
};

struct Endpoint {
  std::vector<std::string> addresses;
  EndpointConditions conditions;
  std::string zone;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointPort {
  std::string name;  // "" for an unnamed port
  std::optional<int32_t> port;
  std::string protocol = "TCP";

  friend bool operator==(const EndpointPort&, const EndpointPort&) = default;
};

struct EndpointSlice {
  ObjectMeta meta;
  std::string address_type;  // IPv4, IPv6, FQDN
  std::vector<Endpoint> endpoints;
  std::vector<EndpointPort> ports;
  std::string service_name;  // label kubernetes.io/service-name

  friend bool operator==(const EndpointSlice&, const EndpointSlice&) = default;
};

struct Secret {
  ObjectMeta meta;
  std::string type;
  std::map<std::string, std::string> data;  // base64-decoded; stringData merged over it

  friend bool operator==(const Secret&, const Secret&) = default;
};

Result<Ingress> IngressFromJson(const nlohmann::json& object);
Result<IngressClass> IngressClassFromJson(const nlohmann::json& object);
Result<Service> ServiceFromJson(const nlohmann::json& object);
Result<EndpointSlice> EndpointSliceFromJson(const nlohmann::json& object);
Result<Secret> SecretFromJson(const nlohmann::json& object);

enum class Kind { kIngress, kIngressClass, kService, kEndpointSlice, kSecret };
const char* KindName(Kind kind);
// From apiVersion + kind; empty when the object is not one the controller reads.
std::optional<Kind> KindOf(const nlohmann::json& object);

// Everything the translator reads. Keys are KeyOf(meta); maps keep output deterministic.
struct ClusterState {
  std::map<std::string, Ingress> ingresses;
  std::map<std::string, IngressClass> ingress_classes;
  std::map<std::string, Service> services;
  std::map<std::string, EndpointSlice> endpoint_slices;
  std::map<std::string, Secret> secrets;

  // "namespace/service" -> a number that changes (process-wide unique, never 0) whenever
  // Upsert, Remove or ReplaceAll changes that Service or an EndpointSlice labelled with it:
  // what lets a translation cache keep a Service's cluster until its inputs change. Writing
  // `services` or `endpoint_slices` directly does not move it; such states must not be used with
  // a cache (translate::ClusterCache treats a missing entry as "always rebuild").
  std::map<std::string, uint64_t> backend_revisions;

  // Adds or replaces the object; returns whether the state changed (an identical object,
  // e.g. a resync, changes nothing). An object that does not parse is an error and leaves
  // the state untouched.
  Result<bool> Upsert(const nlohmann::json& object);
  bool Remove(Kind kind, const std::string& key);
  // Replaces all objects of one kind (a relist): objects missing from `objects` are removed.
  // All or nothing: if any object does not parse (or is of another kind) the state is left
  // untouched and the error names every bad object, so one typo never drops live routes.
  Result<bool> ReplaceAll(Kind kind, const std::vector<nlohmann::json>& objects);
};

}  // namespace pier::model
