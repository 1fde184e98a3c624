// One resource kept in sync with the API server: a paged LIST, then a WATCH from the list's
// resourceVersion, resumed from the last version seen (bookmarks included) whenever the stream
// ends, and a fresh LIST when that version has expired (410 Gone). Runs on its own thread and
// reports through callbacks, which therefore run on that thread.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "kube/backoff.h"
#include "kube/kube_client.h"
#include "kube/resource.h"
#include "kube/watch_metrics.h"

namespace pier::kube {

// Objects handed to callbacks always carry apiVersion and kind (list items arrive without
// them), so model::KindOf and ClusterState::Upsert accept them as they are.
struct InformerCallbacks {
  // After every (re)list: the complete set of objects; anything the consumer holds of this
  // kind and is not in `objects` has been deleted.
  std::function<void(model::Kind kind, std::vector<nlohmann::json> objects)> on_replace;
  std::function<void(model::Kind kind, nlohmann::json object)> on_upsert;  // ADDED, MODIFIED
  std::function<void(model::Kind kind, std::string key)> on_delete;        // "namespace/name" or "name"
  std::function<void(model::Kind kind)> on_synced;                          // once, after the first list
};

struct InformerOptions {
  std::string namespace_;  // "" = all namespaces; ignored for cluster-scoped kinds
  int page_size = 500;
  BackoffPolicy backoff;
  // Each watch asks the server to end it after a random time in this range, so the watches
  // of many controllers do not all reconnect together.
  std::chrono::seconds min_watch_timeout{5 * 60};
  std::chrono::seconds max_watch_timeout{10 * 60};
  // A watch that ends cleanly this fast without a single event is treated as a failure
  // (backoff), so a misbehaving proxy cannot make us spin.
  std::chrono::milliseconds min_healthy_watch{1000};
};

class Informer final {
 public:
  Informer(KubeClient& client, Resource resource, InformerOptions options, InformerCallbacks callbacks);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  // Asks the thread to stop without waiting, so a caller stopping several informers waits
  // for the slowest, not for the sum.
  void RequestStop() noexcept { thread_.request_stop(); }
  // Cancels the list or watch in flight and joins the thread; returns within a fraction of a
  // second (callbacks in progress finish first). Idempotent.
  void Stop() noexcept;

  bool HasSynced() const { return synced_.load(std::memory_order_acquire); }
  const Resource& resource() const { return resource_; }

 private:
  struct WatchOutcome;

  void Run(std::stop_token stop);
  ApiResult<ListPage> ListAll(std::stop_token stop);
  WatchOutcome WatchFrom(std::string& resource_version, std::stop_token stop);
  bool HandleEvent(WatchEvent& event, std::string& resource_version, ApiError& event_error);
  void DeliverReplace(std::vector<nlohmann::json> objects);
  void Stamp(nlohmann::json& object) const;
  std::chrono::seconds NextWatchTimeout();
  // Counts the restart and waits (interruptibly) before the next attempt.
  void Restart(RestartReason reason, std::chrono::milliseconds delay, std::stop_token stop);

  KubeClient& client_;
  const Resource resource_;
  const InformerOptions options_;
  const InformerCallbacks callbacks_;
  const std::string path_;
  const std::string kind_;  // for logs
  WatchMetrics metrics_;
  Backoff backoff_;
  std::mt19937_64 random_;
  std::atomic<bool> synced_{false};
  std::jthread thread_;
};

}  // namespace pier::kube
