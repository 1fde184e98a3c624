// KubeClient over HTTPS with cpprestsdk: bearer-token or client-certificate authentication,
// TLS verified against the cluster CA, watch bodies streamed and split into events as they
// arrive. Thread-safe: informers on several threads share one client.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "kube/kube_client.h"
#include "kube/kubeconfig.h"
#include "pier/common/result.h"

namespace pier::kube {

struct RestClientOptions {
  // Longest silence on a connection (connect, headers, body) before an ordinary request fails.
  std::chrono::seconds request_timeout{60};
  // The same for watch streams. Longer than any timeoutSeconds we ask for, so the server ends
  // a quiet watch cleanly; a connection that silently died is abandoned after this long.
  std::chrono::seconds watch_idle_timeout{11 * 60};
  std::string user_agent = "pier-controller";
};

class RestKubeClient final : public KubeClient {
 public:
  // Checks the TLS material up front (CA parses, key matches certificate), so a broken config
  // fails here rather than as a handshake error on every request.
  static Result<std::unique_ptr<RestKubeClient>> FromConfig(const KubeConfig& config, RestClientOptions options = {});
  ~RestKubeClient() override;

  ApiResult<ListPage> List(const std::string& collection_path, const ListOptions& options,
                           std::stop_token stop = {}) override;
  ApiResult<WatchEnd> Watch(const std::string& collection_path, const WatchOptions& options,
                            const WatchHandler& handler, std::stop_token stop) override;
  ApiResult<nlohmann::json> Get(const std::string& object_path) override;
  ApiResult<nlohmann::json> Create(const std::string& collection_path, const nlohmann::json& object) override;
  ApiResult<nlohmann::json> Update(const std::string& object_path, const nlohmann::json& object) override;
  ApiResult<nlohmann::json> UpdateStatus(const std::string& object_path, const nlohmann::json& object) override;
  ApiResult<nlohmann::json> Patch(const std::string& object_path, PatchType type, const nlohmann::json& patch,
                                  const PatchOptions& options = {}) override;

 private:
  struct Impl;
  explicit RestKubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pier::kube
