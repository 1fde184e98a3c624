// The controller's single writer: one thread owns the cluster state, applies every source event
// in order, and rebuilds the snapshot after a debounced burst of changes. Nothing is built before
// every source has reported its initial sync, so dataplanes never see a half-loaded cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "model/objects.h"
#include "server/debouncer.h"
#include "server/janitor.h"
#include "server/snapshot_versioner.h"
#include "server/warning_reporter.h"
#include "sources/source.h"
#include "translate/translate.h"

namespace pier::server {

// Cluster state -> snapshot; translate::Translate bound to the flags in production, a fake in tests.
using Translator = std::function<translate::Output(const model::ClusterState&)>;

// Sees every successful build on the loop thread, before the snapshot is stamped (e.g. to hand
// served Ingresses and warnings to the status writer). Must be quick: it holds up the loop.
using BuildObserver = std::function<void(const model::ClusterState&, const translate::Output&)>;

struct EventLoopOptions {
  Translator translate;
  BuildObserver observe;  // optional
  std::chrono::milliseconds quiet{100};
  std::chrono::milliseconds max_delay{500};
};

class EventLoop final {
 public:
  // Called on the loop thread with every snapshot whose content changed.
  using Publish = std::function<void(SnapshotMessage)>;

  EventLoop(EventLoopOptions options, std::string controller_instance, Publish publish);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Before Start(): one sink per source. The sink lives as long as the loop.
  sources::EventSink& AddSource(std::string name);

  void Start();
  // Joins the loop thread; events still queued are dropped. Idempotent.
  void Stop() noexcept;

  // Thread-safe, for /readyz and tests.
  bool HasSnapshot() const noexcept { return published_version_.load() != 0; }
  uint64_t PublishedVersion() const noexcept { return published_version_.load(); }

 private:
  class Sink;
  struct UpsertEvent {
    nlohmann::json object;
  };
  struct DeleteEvent {
    model::Kind kind;
    std::string key;
  };
  struct ReplaceEvent {
    model::Kind kind;
    std::vector<nlohmann::json> objects;
  };
  struct SyncedEvent {
    std::size_t source;
  };
  using Event = std::variant<UpsertEvent, DeleteEvent, ReplaceEvent, SyncedEvent>;

  void Enqueue(Event event);
  void Run();
  // Each returns whether the cluster state changed.
  bool Apply(UpsertEvent& event);
  bool Apply(DeleteEvent& event);
  bool Apply(ReplaceEvent& event);
  bool Apply(SyncedEvent& event);
  void Build();

  EventLoopOptions options_;
  Publish publish_;
  std::vector<std::unique_ptr<Sink>> sinks_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  std::thread thread_;

  // Loop thread only.
  model::ClusterState state_;
  std::vector<bool> synced_;
  bool all_synced_ = false;
  Debouncer debouncer_;
  SnapshotVersioner versioner_;
  WarningReporter warnings_;
  Janitor janitor_;  // frees built snapshots off the loop

  std::atomic<uint64_t> published_version_{0};
};

}  // namespace pier::server
