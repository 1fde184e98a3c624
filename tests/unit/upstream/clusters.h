// Builders for the clusters and routes the balancing tests run on.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "routing/config.h"

namespace pier::dataplane::upstream::testing {

// "10.0.0.<i>:8080", the way the snapshot compiler spells endpoint ids.
inline UpstreamEndpoint Endpoint(int i, uint32_t weight = 1) {
  UpstreamEndpoint endpoint;
  const std::string address = "10.0.0." + std::to_string(i);
  endpoint.address = {boost::asio::ip::make_address(address), 8080};
  endpoint.id = address + ":8080";
  endpoint.weight = weight;
  return endpoint;
}

// Endpoints 1..count, or the listed ones; sorted like the snapshot sorts them doesn't matter
// to the balancers, but tests keep the order they give.
inline std::shared_ptr<ClusterConfig> Cluster(std::vector<int> indices, std::vector<uint32_t> weights = {}) {
  auto cluster = std::make_shared<ClusterConfig>();
  cluster->name = "default/app:80";
  cluster->service_namespace = "default";
  cluster->service_name = "app";
  for (std::size_t i = 0; i < indices.size(); ++i) {
    cluster->endpoints.push_back(Endpoint(indices[i], i < weights.size() ? weights[i] : 1));
  }
  return cluster;
}

inline std::vector<int> Range(int count) {
  std::vector<int> out;
  for (int i = 1; i <= count; ++i) out.push_back(i);
  return out;
}

inline RouteConfig Route(std::shared_ptr<const ClusterConfig> cluster) {
  RouteConfig route;
  route.name = "default/app/0/0";
  route.path = "/";
  route.cluster = std::move(cluster);
  return route;
}

inline RouteConfig CookieRoute(std::shared_ptr<const ClusterConfig> cluster, pier::v1::Affinity::Mode mode) {
  RouteConfig route = Route(std::move(cluster));
  auto& affinity = *route.proto.mutable_affinity();
  affinity.set_mode(mode);
  affinity.set_cookie_name("PIER_AFFINITY");
  affinity.set_cookie_path("/");
  return route;
}

}  // namespace pier::dataplane::upstream::testing
