// The seam between the controller and the Kubernetes API: informers, status writers and leader
// election call this interface; RestKubeClient implements it over HTTPS, tests fake it.
// Paths are API paths as built by resource.h ("/apis/networking.k8s.io/v1/ingresses").
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/watch_event.h"

namespace pier::kube {

struct ListOptions {
  int limit = 0;                 // page size; 0 = everything at once
  std::string continue_token;    // from the previous page
  std::string resource_version;  // "" = most recent (a quorum read)
  std::string label_selector;
  std::string field_selector;
};

struct ListPage {
  // Items as the server sends them: list items carry no apiVersion/kind.
  std::vector<nlohmann::json> items;
  std::string resource_version;  // the list's metadata.resourceVersion
  std::string continue_token;    // "" on the last page
};

struct WatchOptions {
  std::string resource_version;  // events after this version
  bool allow_watch_bookmarks = true;
  std::chrono::seconds timeout{0};  // server-side timeoutSeconds; 0 = server default
  std::string label_selector;
  std::string field_selector;
};

enum class WatchEnd {
  kClosedByServer,    // the stream ended cleanly (timeoutSeconds elapsed, server shutting down)
  kStoppedByHandler,  // the handler returned false
};

enum class PatchType { kMerge, kStrategicMerge, kApply };

struct PatchOptions {
  std::string field_manager;  // required by the server for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // Called on the watching thread for each event; return false to end the watch.
  using WatchHandler = std::function<bool(WatchEvent&& event)>;

  // One page of a collection. A stop request aborts it (error with cancelled = true).
  virtual ApiResult<ListPage> List(const std::string& collection_path, const ListOptions& options,
                                   std::stop_token stop = {}) = 0;

  // Streams events until the server closes the stream, the handler returns false, an error
  // happens (HTTP status, bad event, broken connection) or `stop` is requested (error with
  // cancelled = true, promptly: the connection is closed).
  virtual ApiResult<WatchEnd> Watch(const std::string& collection_path, const WatchOptions& options,
                                    const WatchHandler& handler, std::stop_token stop) = 0;

  virtual ApiResult<nlohmann::json> Get(const std::string& object_path) = 0;
  virtual ApiResult<nlohmann::json> Create(const std::string& collection_path, const nlohmann::json& object) = 0;
  virtual ApiResult<nlohmann::json> Update(const std::string& object_path, const nlohmann::json& object) = 0;
  // PUT to the /status subresource.
  virtual ApiResult<nlohmann::json> UpdateStatus(const std::string& object_path, const nlohmann::json& object) = 0;
  // `object_path` may end in "/status" to patch the status subresource.
  virtual ApiResult<nlohmann::json> Patch(const std::string& object_path, PatchType type,
                                          const nlohmann::json& patch, const PatchOptions& options = {}) = 0;
};

}  // namespace pier::kube
