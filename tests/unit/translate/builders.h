// Test fixtures for the translator: small builders instead of JSON literals.
//   State state;
//   state.Add(IngressBuilder("app").host("a.example").path("/ws", "chat", 80));
//   state.Add(ServiceBuilder("chat").port("http", 80));
//   state.Add(SliceBuilder("chat-1", "chat").port("http", 8080).endpoint("10.0.0.1"));
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_pem.h"
#include "model/objects.h"
#include "translate/translate.h"

namespace pier::translate::testing {

class IngressBuilder {
 public:
  explicit IngressBuilder(std::string name, std::string ns = "default") {
    ingress_.meta.name = std::move(name);
    ingress_.meta.namespace_ = std::move(ns);
    ingress_.meta.creation_timestamp = "2024-01-01T00:00:00Z";
    ingress_.ingress_class_name = "pier";
  }
  IngressBuilder& created(std::string timestamp) {
    ingress_.meta.creation_timestamp = std::move(timestamp);
    return *this;
  }
  IngressBuilder& ingress_class(std::optional<std::string> name) {
    ingress_.ingress_class_name = std::move(name);
    return *this;
  }
  IngressBuilder& annotation(std::string key, std::string value) {
    ingress_.meta.annotations[std::move(key)] = std::move(value);
    return *this;
  }
  // Starts a new rule; following path() calls add to it.
  IngressBuilder& host(std::string host) {
    ingress_.rules.push_back(model::IngressRule{std::move(host), {}});
    return *this;
  }
  IngressBuilder& path(std::string path, std::string service, int32_t port,
                       model::PathType type = model::PathType::kPrefix) {
    model::IngressBackend backend;
    backend.service = model::IngressServiceBackend{std::move(service), {port, ""}};
    return add_path(std::move(path), type, std::move(backend));
  }
  IngressBuilder& path_port_name(std::string path, std::string service, std::string port_name,
                                 model::PathType type = model::PathType::kPrefix) {
    model::IngressBackend backend;
    backend.service = model::IngressServiceBackend{std::move(service), {std::nullopt, std::move(port_name)}};
    return add_path(std::move(path), type, std::move(backend));
  }
  IngressBuilder& exact(std::string path, std::string service, int32_t port) {
    return this->path(std::move(path), std::move(service), port, model::PathType::kExact);
  }
  IngressBuilder& resource_path(std::string path) {
    model::IngressBackend backend;
    backend.has_resource = true;
    return add_path(std::move(path), model::PathType::kPrefix, std::move(backend));
  }
  IngressBuilder& default_backend(std::string service, int32_t port) {
    model::IngressBackend backend;
    backend.service = model::IngressServiceBackend{std::move(service), {port, ""}};
    ingress_.default_backend = std::move(backend);
    return *this;
  }
  IngressBuilder& tls(std::vector<std::string> hosts, std::string secret) {
    ingress_.tls.push_back(model::IngressTLS{std::move(hosts), std::move(secret)});
    return *this;
  }
  model::Ingress build() const { return ingress_; }

 private:
  IngressBuilder& add_path(std::string path, model::PathType type, model::IngressBackend backend) {
    if (ingress_.rules.empty()) ingress_.rules.emplace_back();
    ingress_.rules.back().paths.push_back(model::HTTPIngressPath{std::move(path), type, std::move(backend)});
    return *this;
  }
  model::Ingress ingress_;
};

class ServiceBuilder {
 public:
  explicit ServiceBuilder(std::string name, std::string ns = "default") {
    service_.meta.name = std::move(name);
    service_.meta.namespace_ = std::move(ns);
  }
  ServiceBuilder& port(std::string name, int32_t port) {
    model::ServicePort out;
    out.name = std::move(name);
    out.port = port;
    service_.ports.push_back(std::move(out));
    return *this;
  }
  ServiceBuilder& type(std::string type) {
    service_.type = std::move(type);
    return *this;
  }
  ServiceBuilder& cluster_ip(std::string ip) {
    service_.cluster_ip = std::move(ip);
    return *this;
  }
  model::Service build() const { return service_; }

 private:
  model::Service service_;
};

class SliceBuilder {
 public:
  SliceBuilder(std::string name, std::string service, std::string ns = "default") {
    slice_.meta.name = std::move(name);
    slice_.meta.namespace_ = std::move(ns);
    slice_.meta.labels["kubernetes.io/service-name"] = service;
    slice_.service_name = std::move(service);
    slice_.address_type = "IPv4";
  }
  SliceBuilder& port(std::string name, int32_t port) {
    slice_.ports.push_back(model::EndpointPort{std::move(name), port, "TCP"});
    return *this;
  }
  SliceBuilder& address_type(std::string type) {
    slice_.address_type = std::move(type);
    return *this;
  }
  SliceBuilder& endpoint(std::string address, std::optional<bool> ready = true, std::optional<bool> serving = std::nullopt,
                         std::optional<bool> terminating = std::nullopt) {
    model::Endpoint endpoint;
    endpoint.addresses = {std::move(address)};
    endpoint.conditions = {ready, serving, terminating};
    slice_.endpoints.push_back(std::move(endpoint));
    return *this;
  }
  model::EndpointSlice build() const { return slice_; }

 private:
  model::EndpointSlice slice_;
};

inline model::Secret TlsSecret(std::string name, std::string ns = "default", std::string type = "kubernetes.io/tls") {
  model::Secret secret;
  secret.meta.name = std::move(name);
  secret.meta.namespace_ = std::move(ns);
  secret.type = std::move(type);
  secret.data["tls.crt"] = testdata::kCertificatePem;
  secret.data["tls.key"] = testdata::kPrivateKeyPem;
  return secret;
}

// An Opaque Secret holding one key (a CA's ca.crt, an htpasswd file's auth).
inline model::Secret OpaqueSecret(std::string name, std::string ns, std::string key, std::string value) {
  model::Secret secret;
  secret.meta.name = std::move(name);
  secret.meta.namespace_ = std::move(ns);
  secret.type = "Opaque";
  secret.data[std::move(key)] = std::move(value);
  return secret;
}

inline model::IngressClass IngressClass(std::string name, std::string controller = "pier.dev/ingress-controller",
                                        bool is_default = false) {
  model::IngressClass out;
  out.meta.name = std::move(name);
  out.controller = std::move(controller);
  if (is_default) out.meta.annotations["ingressclass.kubernetes.io/is-default-class"] = "true";
  return out;
}

// A ClusterState with our IngressClass "pier" already present.
struct State {
  model::ClusterState state;

  State() { Add(IngressClass("pier")); }

  State& Add(const IngressBuilder& builder) { return Add(builder.build()); }
  State& Add(const ServiceBuilder& builder) { return Add(builder.build()); }
  State& Add(const SliceBuilder& builder) { return Add(builder.build()); }
  State& Add(model::Ingress ingress) {
    state.ingresses[model::KeyOf(ingress.meta)] = std::move(ingress);
    return *this;
  }
  State& Add(model::Service service) {
    state.services[model::KeyOf(service.meta)] = std::move(service);
    return *this;
  }
  State& Add(model::EndpointSlice slice) {
    state.endpoint_slices[model::KeyOf(slice.meta)] = std::move(slice);
    return *this;
  }
  State& Add(model::Secret secret) {
    state.secrets[model::KeyOf(secret.meta)] = std::move(secret);
    return *this;
  }
  State& Add(model::IngressClass ingress_class) {
    state.ingress_classes[model::KeyOf(ingress_class.meta)] = std::move(ingress_class);
    return *this;
  }
  // A Service "name" with port 80 ("http") and one ready endpoint 10.0.0.1:8080.
  State& Backend(const std::string& name, const std::string& ns = "default") {
    Add(ServiceBuilder(name, ns).port("http", 80));
    return Add(SliceBuilder(name + "-1", name, ns).port("http", 8080).endpoint("10.0.0.1"));
  }

  Output Translate(const Options& options = {}) const { return pier::translate::Translate(state, options); }
};

inline const pier::v1::VirtualHost* FindHost(const pier::v1::Snapshot& snapshot, const std::string& host) {
  for (const auto& vhost : snapshot.virtual_hosts()) {
    if (vhost.host() == host) return &vhost;
  }
  return nullptr;
}

inline const pier::v1::Cluster* FindCluster(const pier::v1::Snapshot& snapshot, const std::string& name) {
  for (const auto& cluster : snapshot.clusters()) {
    if (cluster.name() == name) return &cluster;
  }
  return nullptr;
}

inline std::vector<std::string> RouteNames(const pier::v1::VirtualHost& vhost) {
  std::vector<std::string> out;
  for (const auto& route : vhost.routes()) out.push_back(route.name());
  return out;
}

inline std::vector<std::string> Reasons(const Output& output) {
  std::vector<std::string> out;
  for (const Warning& warning : output.warnings) out.push_back(warning.reason);
  return out;
}

inline const Warning* FindWarning(const Output& output, const std::string& reason) {
  for (const Warning& warning : output.warnings) {
    if (warning.reason == reason) return &warning;
  }
  return nullptr;
}

// Whether the Ingress `ingress` got a warning with this reason.
inline bool HasWarning(const Output& output, const std::string& ingress, const std::string& reason) {
  for (const Warning& warning : output.warnings) {
    if (warning.ingress_name == ingress && warning.reason == reason) return true;
  }
  return false;
}

}  // namespace pier::translate::testing
