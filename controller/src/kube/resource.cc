#include "kube/resource.h"

#include "kube/secret_filter.h"
#include "pier/common/percent.h"

#include <nlohmann/json.hpp>

#include <array>

namespace pier::kube {
namespace {

using model::Kind;

constexpr std::array<Resource, 5> kResources = {{
    {Kind::kIngress, "networking.k8s.io/v1", "Ingress", "ingresses", true, ""},
    {Kind::kIngressClass, "networking.k8s.io/v1", "IngressClass", "ingressclasses", false, ""},
    {Kind::kService, "v1", "Service", "services", true, ""},
    {Kind::kEndpointSlice, "discovery.k8s.io/v1", "EndpointSlice", "endpointslices", true, ""},
    {Kind::kSecret, "v1", "Secret", "secrets", true, kSecretFieldSelector},
}};

std::string StringAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::span<const Resource> WatchedResources() { return kResources; }

const Resource& ResourceFor(Kind kind) {
  for (const auto& resource : kResources) {
    if (resource.kind == kind) return resource;
  }
  // model::Kind has exactly these five values; reaching here is a programming error.
  return kResources.front();
}

std::string CollectionPath(std::string_view api_version, std::string_view plural, bool namespaced,
                           std::string_view namespace_) {
  // The core group lives under /api, every named group under /apis.
  std::string path = api_version.find('/') == std::string_view::npos ? "/api/" : "/apis/";
  path += api_version;
  if (namespaced && !namespace_.empty()) {
    path += "/namespaces/";
    path += PercentEncode(namespace_);
  }
  path += '/';
  path += plural;
  return path;
}

std::string CollectionPath(const Resource& resource, std::string_view namespace_) {
  return CollectionPath(resource.api_version, resource.plural, resource.namespaced, namespace_);
}

std::string ObjectPath(std::string_view api_version, std::string_view plural, bool namespaced,
                       std::string_view namespace_, std::string_view name) {
  return CollectionPath(api_version, plural, namespaced, namespace_) + "/" + PercentEncode(name);
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string query;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    query += query.empty() ? '?' : '&';
    query += PercentEncode(key);
    query += '=';
    query += PercentEncode(value);
  }
  return query;
}

std::string ObjectKey(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  const std::string name = StringAt(*metadata, "name");
  if (name.empty()) return "";
  const std::string namespace_ = StringAt(*metadata, "namespace");
  return namespace_.empty() ? name : namespace_ + "/" + name;
}

}  // namespace pier::kube
