// --source=cluster: one Informer per watched kind (Ingress, IngressClass, Service,
// EndpointSlice, Secret: TLS ones and CA bundles, see secret_filter.h), mapped onto the
// controller's EventSink. All the Kubernetes specifics (paging, bookmarks, 410 re-lists,
// backoff) live in the informers; this only translates their callbacks (dropping Secrets the
// controller does not read) and reports Synced() once every kind has been listed.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kube/informer.h"
#include "kube/kube_client.h"
#include "sources/source.h"

namespace pier::kube {

struct ClusterSourceOptions {
  std::string namespace_;    // --namespace: "" = all namespaces (IngressClass is always cluster-wide)
  InformerOptions informer;  // its namespace_ is replaced by the one above
};

class ClusterSource final : public sources::Source {
 public:
  // Reads the kubeconfig (or, with an empty path, the in-cluster service account) and builds
  // the API client. Errors name the bad file or field; connectivity is not checked here (the
  // informers retry until the API server answers).
  static Result<std::unique_ptr<ClusterSource>> FromKubeconfig(const std::string& kubeconfig_path,
                                                               ClusterSourceOptions options = {},
                                                               const std::string& user_agent = "pier-controller");

  ClusterSource(std::shared_ptr<KubeClient> client, ClusterSourceOptions options);
  ~ClusterSource() override;

  // Starts the informers and returns at once; objects and Synced() arrive on their threads.
  Result<bool> Start(sources::EventSink& sink) override;
  // Cancels every list and watch and joins the informers: no sink call after it returns.
  void Stop() noexcept override;

  // The client, for the parts that also talk to the API (status updates, leader election).
  const std::shared_ptr<KubeClient>& client() const { return client_; }
  // The kubeconfig context's namespace (in-cluster: the pod's); "" if it names none.
  const std::string& config_namespace() const { return config_namespace_; }

 private:
  void OnKindSynced(model::Kind kind);

  const std::shared_ptr<KubeClient> client_;
  const ClusterSourceOptions options_;
  sources::EventSink* sink_ = nullptr;
  std::vector<std::unique_ptr<Informer>> informers_;
  std::mutex synced_mutex_;
  std::set<model::Kind> synced_kinds_;
  std::string config_namespace_;
};

}  // namespace pier::kube
