#include "kube/cluster_source.h"

#include <spdlog/spdlog.h>

#include "kube/kubeconfig.h"
#include "kube/secret_filter.h"
#include "kube/rest_client.h"

namespace pier::kube {

Result<std::unique_ptr<ClusterSource>> ClusterSource::FromKubeconfig(const std::string& kubeconfig_path,
                                                                     ClusterSourceOptions options,
                                                                     const std::string& user_agent) {
  auto config = kubeconfig_path.empty() ? InClusterConfigFromEnvironment() : LoadKubeconfig(kubeconfig_path);
  if (!config) return Fail(config.error());
  RestClientOptions client_options;
  client_options.user_agent = user_agent;
  auto client = RestKubeClient::FromConfig(*config, client_options);
  if (!client) return Fail(client.error());
  spdlog::info("kube: API server {} via {}", config->server, config->origin);
  std::shared_ptr<KubeClient> shared = std::move(*client);
  auto source = std::make_unique<ClusterSource>(std::move(shared), std::move(options));
  source->config_namespace_ = config->namespace_;
  return source;
}

ClusterSource::ClusterSource(std::shared_ptr<KubeClient> client, ClusterSourceOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

ClusterSource::~ClusterSource() { Stop(); }

Result<bool> ClusterSource::Start(sources::EventSink& sink) {
  if (!informers_.empty()) return Fail("cluster source already started");
  sink_ = &sink;
  InformerOptions informer_options = options_.informer;
  informer_options.namespace_ = options_.namespace_;
  InformerCallbacks callbacks;
  callbacks.on_replace = [this](model::Kind kind, std::vector<nlohmann::json> objects) {
    sink_->Replace(kind, std::move(objects));
  };
  callbacks.on_upsert = [this](model::Kind, nlohmann::json object) { sink_->Upsert(std::move(object)); };
  callbacks.on_delete = [this](model::Kind kind, std::string key) { sink_->Delete(kind, std::move(key)); };
  callbacks.on_synced = [this](model::Kind kind) { OnKindSynced(kind); };
  // Secrets the controller does not read never reach the sink.
  callbacks = FilteringSecrets(std::move(callbacks));
  for (const Resource& resource : WatchedResources()) {
    informers_.push_back(std::make_unique<Informer>(*client_, resource, informer_options, callbacks));
  }
  for (auto& informer : informers_) informer->Start();
  spdlog::info("kube: watching {} kinds in {}", informers_.size(),
               options_.namespace_.empty() ? "all namespaces" : "namespace " + options_.namespace_);
  return true;
}

void ClusterSource::Stop() noexcept {
  // All stop requests first: shutdown then takes as long as the slowest informer, not the sum.
  for (auto& informer : informers_) informer->RequestStop();
  for (auto& informer : informers_) informer->Stop();
}

void ClusterSource::OnKindSynced(model::Kind kind) {
  std::lock_guard lock(synced_mutex_);
  if (!synced_kinds_.insert(kind).second) return;
  // The snapshot must not be built from a partial view (Ingresses without their Services),
  // so the sink hears Synced only when the last kind has been listed.
  if (synced_kinds_.size() == informers_.size()) {
    spdlog::info("kube: initial list of every kind complete");
    sink_->Synced();
  }
}

}  // namespace pier::kube
