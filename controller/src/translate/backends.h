// Ingress backend -> Service port -> Cluster with the endpoints the dataplane may use.
// Clusters are keyed "namespace/service:port" and built once however many routes share one;
// TLS to the backend is part of the key ("...:port+tls", or "...:port+tls-HASH" with a CA, a
// server name or verification), so Ingresses that want different TLS never share a cluster.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
#include "translate/cluster_cache.h"
#include "translate/warnings.h"

namespace pier::translate {

struct Unresolved {
  uint32_t status = 503;
  std::string reason;
};

struct ResolvedBackend {
  std::string cluster;  // "" when unresolved
  std::string service;  // the Service name, for labels and websocket-services
  std::optional<Unresolved> unresolved;
};

class BackendResolver final {
 public:
  // `cache` (optional) lends clusters built by earlier builds whose inputs did not change.
  explicit BackendResolver(const model::ClusterState& state, ClusterCache* cache = nullptr);

  // Problems are reported on `ingress`. `tls` is how to speak to the backend. With
  // `service_upstream` (the service-upstream annotation) the cluster's one endpoint is the
  // Service's cluster IP and port instead of its EndpointSlices' addresses.
  ResolvedBackend Resolve(const model::Ingress& ingress, const model::IngressBackend& backend,
                          const pier::v1::BackendTls& tls, WarningSink& warnings, bool service_upstream = false);

  // A cluster Resolve returned has at least one endpoint.
  bool HasEndpoints(const std::string& cluster) const;

  // Every cluster resolved so far, sorted by name. Ends the cache's build.
  std::vector<pier::v1::Cluster> TakeClusters();

 private:
  pier::v1::Cluster BuildCluster(std::string name, const model::Service& service, const model::ServicePort& port,
                                 const pier::v1::BackendTls& tls);
  pier::v1::Cluster CachedOrBuild(const std::string& name, const std::string& service_key, const model::Service& service,
                                  const model::ServicePort& port, const pier::v1::BackendTls& tls);

  const model::ClusterState& state_;
  ClusterCache* cache_;
  // Built on the first cluster the cache cannot give: with every cluster cached it is not needed.
  bool indexed_ = false;
  std::map<std::string, std::vector<const model::EndpointSlice*>> slices_by_service_;  // "namespace/service"
  std::map<std::string, pier::v1::Cluster> clusters_;
};

}  // namespace pier::translate
