// JSON -> typed objects, following the Kubernetes API field names. Only the fields the
// controller uses are read; unknown fields are ignored as the API server's clients do.
#include <nlohmann/json.hpp>

#include <limits>

#include "pier/common/base64.h"
#include "model/json_reader.h"
#include "model/objects.h"

namespace pier::model {
namespace {

using nlohmann::json;

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

ObjectMeta ReadMeta(JsonReader& reader, const json& object) {
  ObjectMeta meta;
  const json* metadata = reader.Object(object, "metadata", "");
  if (metadata == nullptr) {
    if (!reader.failed()) reader.Fail("metadata", "missing");
    return meta;
  }
  meta.namespace_ = reader.String(*metadata, "namespace", "metadata");
  meta.name = reader.String(*metadata, "name", "metadata");
  meta.uid = reader.String(*metadata, "uid", "metadata");
  meta.resource_version = reader.String(*metadata, "resourceVersion", "metadata");
  meta.creation_timestamp = reader.String(*metadata, "creationTimestamp", "metadata");
  meta.generation = reader.Integer(*metadata, "generation", "metadata", 0, std::numeric_limits<int64_t>::max()).value_or(0);
  meta.labels = reader.StringMap(*metadata, "labels", "metadata");
  meta.annotations = reader.StringMap(*metadata, "annotations", "metadata");
  if (!reader.failed() && meta.name.empty()) reader.Fail("metadata.name", "missing");
  return meta;
}

// Namespaced objects from manifests may omit the namespace; kubectl puts them in "default".
void DefaultNamespace(ObjectMeta& meta) {
  if (meta.namespace_.empty()) meta.namespace_ = "default";
}

// Every error names the object when it is known, then the field.
template <class T>
Result<T> Finish(const JsonReader& reader, const char* kind, T value) {
  if (!reader.failed()) return value;
  std::string who = kind;
  if (!value.meta.name.empty()) who += " " + KeyOf(value.meta);
  return Fail(who + ": " + reader.error());
}

IngressBackend ReadBackend(JsonReader& reader, const json& parent, std::string_view key, const std::string& path) {
  IngressBackend backend;
  const json* object = reader.Object(parent, key, path);
  if (object == nullptr) return backend;
  const std::string backend_path = JsonReader::Join(path, key);
  backend.has_resource = reader.Object(*object, "resource", backend_path) != nullptr;
  if (const json* service = reader.Object(*object, "service", backend_path)) {
    const std::string service_path = JsonReader::Join(backend_path, "service");
    IngressServiceBackend out;
    out.name = reader.String(*service, "name", service_path);
    if (const json* port = reader.Object(*service, "port", service_path)) {
      const std::string port_path = JsonReader::Join(service_path, "port");
      if (auto number = reader.Integer(*port, "number", port_path, kInt32Min, kInt32Max)) {
        out.port.number = static_cast<int32_t>(*number);
      }
      out.port.name = reader.String(*port, "name", port_path);
    }
    backend.service = std::move(out);
  }
  return backend;
}

std::optional<PathType> ReadPathType(JsonReader& reader, const json& parent, const std::string& path) {
  const auto text = reader.OptionalString(parent, "pathType", path);
  if (!text) return PathType::kImplementationSpecific;
  if (*text == "Exact") return PathType::kExact;
  if (*text == "Prefix") return PathType::kPrefix;
  if (*text == "ImplementationSpecific") return PathType::kImplementationSpecific;
  reader.Fail(JsonReader::Join(path, "pathType"),
              "\"" + *text + "\" is not one of Exact, Prefix, ImplementationSpecific");
  return std::nullopt;
}

// Lenient on purpose: status is only compared with what we would write, and an odd entry
// written by someone else must not make the whole Ingress unreadable (and drop its routes).
std::vector<LoadBalancerIngress> ReadIngressStatus(const json& object) {
  std::vector<LoadBalancerIngress> out;
  const auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return out;
  const auto lb = status->find("loadBalancer");
  if (lb == status->end() || !lb->is_object()) return out;
  const auto entries = lb->find("ingress");
  if (entries == lb->end() || !entries->is_array()) return out;
  for (const json& entry : *entries) {
    if (!entry.is_object()) continue;
    LoadBalancerIngress item;
    if (auto ip = entry.find("ip"); ip != entry.end() && ip->is_string()) item.ip = ip->get<std::string>();
    if (auto host = entry.find("hostname"); host != entry.end() && host->is_string()) {
      item.hostname = host->get<std::string>();
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<Ingress> IngressFromJson(const json& object) {
  JsonReader reader;
  Ingress ingress;
  ingress.meta = ReadMeta(reader, object);
  DefaultNamespace(ingress.meta);
  if (const json* spec = reader.Object(object, "spec", "")) {
    ingress.ingress_class_name = reader.OptionalString(*spec, "ingressClassName", "spec");
    if (reader.Object(*spec, "defaultBackend", "spec") != nullptr) {
      ingress.default_backend = ReadBackend(reader, *spec, "defaultBackend", "spec");
    }
    if (const json* rules = reader.Array(*spec, "rules", "spec")) {
      for (std::size_t i = 0; i < rules->size() && !reader.failed(); ++i) {
        const std::string rule_path = JsonReader::Index("spec.rules", i);
        const json& item = (*rules)[i];
        if (!item.is_object()) {
          reader.Fail(rule_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
          break;
        }
        IngressRule rule;
        rule.host = reader.String(item, "host", rule_path);
        if (const json* http = reader.Object(item, "http", rule_path)) {
          const std::string http_path = JsonReader::Join(rule_path, "http");
          if (const json* paths = reader.Array(*http, "paths", http_path)) {
            for (std::size_t j = 0; j < paths->size() && !reader.failed(); ++j) {
              const std::string path_path = JsonReader::Index(JsonReader::Join(http_path, "paths"), j);
              const json& entry = (*paths)[j];
              if (!entry.is_object()) {
                reader.Fail(path_path, std::string("expected an object, got ") + JsonReader::TypeName(entry));
                break;
              }
              HTTPIngressPath out;
              out.path = reader.String(entry, "path", path_path);
              out.path_type = ReadPathType(reader, entry, path_path).value_or(PathType::kImplementationSpecific);
              out.backend = ReadBackend(reader, entry, "backend", path_path);
              rule.paths.push_back(std::move(out));
            }
          }
        }
        ingress.rules.push_back(std::move(rule));
      }
    }
    if (const json* tls = reader.Array(*spec, "tls", "spec")) {
      for (std::size_t i = 0; i < tls->size() && !reader.failed(); ++i) {
        const std::string tls_path = JsonReader::Index("spec.tls", i);
        const json& item = (*tls)[i];
        if (!item.is_object()) {
          reader.Fail(tls_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
          break;
        }
        IngressTLS out;
        out.hosts = reader.StringList(item, "hosts", tls_path);
        out.secret_name = reader.String(item, "secretName", tls_path);
        ingress.tls.push_back(std::move(out));
      }
    }
  }
  ingress.status_load_balancer = ReadIngressStatus(object);
  return Finish(reader, "Ingress", std::move(ingress));
}

Result<IngressClass> IngressClassFromJson(const json& object) {
  JsonReader reader;
  IngressClass ingress_class;
  ingress_class.meta = ReadMeta(reader, object);
  // Cluster-scoped: a namespace in a manifest means nothing and must not change the key.
  ingress_class.meta.namespace_.clear();
  if (const json* spec = reader.Object(object, "spec", "")) {
    ingress_class.controller = reader.String(*spec, "controller", "spec");
  }
  return Finish(reader, "IngressClass", std::move(ingress_class));
}

Result<Service> ServiceFromJson(const json& object) {
  JsonReader reader;
  Service service;
  service.meta = ReadMeta(reader, object);
  DefaultNamespace(service.meta);
  if (const json* spec = reader.Object(object, "spec", "")) {
    if (auto type = reader.OptionalString(*spec, "type", "spec")) service.type = *type;
    service.cluster_ip = reader.String(*spec, "clusterIP", "spec");
    service.external_name = reader.String(*spec, "externalName", "spec");
    if (const json* ports = reader.Array(*spec, "ports", "spec")) {
      for (std::size_t i = 0; i < ports->size() && !reader.failed(); ++i) {
        const std::string port_path = JsonReader::Index("spec.ports", i);
        const json& item = (*ports)[i];
        if (!item.is_object()) {
          reader.Fail(port_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
          break;
        }
        ServicePort port;
        port.name = reader.String(item, "name", port_path);
        port.port = static_cast<int32_t>(reader.Integer(item, "port", port_path, 0, 65535).value_or(0));
        if (auto protocol = reader.OptionalString(item, "protocol", port_path)) port.protocol = *protocol;
        // targetPort is an IntOrString: a number, or the name of a container port.
        if (auto it = item.find("targetPort"); it != item.end() && !it->is_null()) {
          if (it->is_string()) {
            port.target_port_name = it->get<std::string>();
          } else {
            port.target_port_number =
                static_cast<int32_t>(reader.Integer(item, "targetPort", port_path, 0, 65535).value_or(0));
          }
        }
        service.ports.push_back(std::move(port));
      }
    }
  }
  if (const json* status = reader.Object(object, "status", "")) {
    if (const json* lb = reader.Object(*status, "loadBalancer", "status")) {
      if (const json* ingress = reader.Array(*lb, "ingress", "status.loadBalancer")) {
        for (std::size_t i = 0; i < ingress->size() && !reader.failed(); ++i) {
          const std::string item_path = JsonReader::Index("status.loadBalancer.ingress", i);
          const json& item = (*ingress)[i];
          if (!item.is_object()) {
            reader.Fail(item_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
            break;
          }
          LoadBalancerIngress entry;
          entry.ip = reader.OptionalString(item, "ip", item_path).value_or("");
          entry.hostname = reader.OptionalString(item, "hostname", item_path).value_or("");
          service.load_balancer.push_back(std::move(entry));
        }
      }
    }
  }
  return Finish(reader, "Service", std::move(service));
}

Result<EndpointSlice> EndpointSliceFromJson(const json& object) {
  JsonReader reader;
  EndpointSlice slice;
  slice.meta = ReadMeta(reader, object);
  DefaultNamespace(slice.meta);
  slice.address_type = reader.String(object, "addressType", "");
  if (const json* endpoints = reader.Array(object, "endpoints", "")) {
    for (std::size_t i = 0; i < endpoints->size() && !reader.failed(); ++i) {
      const std::string endpoint_path = JsonReader::Index("endpoints", i);
      const json& item = (*endpoints)[i];
      if (!item.is_object()) {
        reader.Fail(endpoint_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
        break;
      }
      Endpoint endpoint;
      endpoint.addresses = reader.StringList(item, "addresses", endpoint_path);
      endpoint.zone = reader.String(item, "zone", endpoint_path);
      if (const json* conditions = reader.Object(item, "conditions", endpoint_path)) {
        const std::string conditions_path = JsonReader::Join(endpoint_path, "conditions");
        endpoint.conditions.ready = reader.Bool(*conditions, "ready", conditions_path);
        endpoint.conditions.serving = reader.Bool(*conditions, "serving", conditions_path);
        endpoint.conditions.terminating = reader.Bool(*conditions, "terminating", conditions_path);
      }
      slice.endpoints.push_back(std::move(endpoint));
    }
  }
  if (const json* ports = reader.Array(object, "ports", "")) {
    for (std::size_t i = 0; i < ports->size() && !reader.failed(); ++i) {
      const std::string port_path = JsonReader::Index("ports", i);
      const json& item = (*ports)[i];
      if (!item.is_object()) {
        reader.Fail(port_path, std::string("expected an object, got ") + JsonReader::TypeName(item));
        break;
      }
      EndpointPort port;
      port.name = reader.String(item, "name", port_path);
      if (auto number = reader.Integer(item, "port", port_path, 0, 65535)) port.port = static_cast<int32_t>(*number);
      if (auto protocol = reader.OptionalString(item, "protocol", port_path)) port.protocol = *protocol;
      slice.ports.push_back(std::move(port));
    }
  }
  if (auto it = slice.meta.labels.find("kubernetes.io/service-name"); it != slice.meta.labels.end()) {
    slice.service_name = it->second;
  }
  return Finish(reader, "EndpointSlice", std::move(slice));
}

Result<Secret> SecretFromJson(const json& object) {
  JsonReader reader;
  Secret secret;
  secret.meta = ReadMeta(reader, object);
  DefaultNamespace(secret.meta);
  secret.type = reader.String(object, "type", "");
  if (secret.type.empty()) secret.type = "Opaque";
  for (const auto& [key, encoded] : reader.StringMap(object, "data", "")) {
    auto decoded = Base64Decode(encoded);
    if (!decoded) {
      reader.Fail("data." + key, decoded.error());
      break;
    }
    secret.data[key] = std::move(*decoded);
  }
  // stringData is write-only plain text that the API server merges over data; manifests use it.
  for (auto& [key, value] : reader.StringMap(object, "stringData", "")) secret.data[key] = std::move(value);
  return Finish(reader, "Secret", std::move(secret));
}

}  // namespace pier::model
