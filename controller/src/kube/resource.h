// Kubernetes REST paths: which API group, version and plural each kind lives under, and how
// collection, object and query strings are spelled.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/objects.h"

namespace pier::kube {

struct Resource final {
  model::Kind kind;
  std::string_view api_version;  // "v1" or "group/version"
  std::string_view kind_name;    // "Ingress", as in an object's "kind"
  std::string_view plural;       // "ingresses", as in the URL
  bool namespaced;
  // Server-side filter every list and watch of this resource uses ("" = none): Secrets skip the
  // bulky types the controller never reads (see secret_filter.h).
  std::string_view field_selector;
};

// The five kinds the controller watches, in model::Kind order.
std::span<const Resource> WatchedResources();
const Resource& ResourceFor(model::Kind kind);

// "/api/v1/namespaces/NS/services", "/apis/networking.k8s.io/v1/ingresses" (namespace_ "" or a
// cluster-scoped resource: all namespaces).
std::string CollectionPath(std::string_view api_version, std::string_view plural, bool namespaced,
                           std::string_view namespace_);
std::string CollectionPath(const Resource& resource, std::string_view namespace_);
// The collection path plus "/NAME".
std::string ObjectPath(std::string_view api_version, std::string_view plural, bool namespaced,
                       std::string_view namespace_, std::string_view name);

// "?a=1&b=x%3Dy" from the non-empty values, in order; "" when all are empty.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

// "namespace/name", or "name" for a cluster-scoped object; "" when the object has no name.
std::string ObjectKey(const nlohmann::json& object);

}  // namespace pier::kube
