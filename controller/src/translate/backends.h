// Ingress backend -> Service port -> Cluster with the endpoints the dataplane may use.
// Clusters are keyed "namespace/service:port" and built once however many routes share one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/v1/snapshot.pb.h"
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
  explicit BackendResolver(const model::ClusterState& state);

  // Problems are reported on `ingress`. `https` asks for TLS to the backend; the first
  // (oldest) Ingress to use a cluster decides it.
  ResolvedBackend Resolve(const model::Ingress& ingress, const model::IngressBackend& backend, bool https,
                          WarningSink& warnings);

  // Every cluster resolved so far, sorted by name.
  std::vector<pier::v1::Cluster> TakeClusters();

 private:
  pier::v1::Cluster BuildCluster(const model::Service& service, const model::ServicePort& port, bool https) const;

  const model::ClusterState& state_;
  std::map<std::string, std::vector<const model::EndpointSlice*>> slices_by_service_;  // "namespace/service"
  std::map<std::string, pier::v1::Cluster> clusters_;
};

}  // namespace pier::translate
