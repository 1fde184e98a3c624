#include "server/event_loop.h"

#include <spdlog/spdlog.h>

#include <set>

#include "server/controller_metrics.h"
#include "sources/manifest_file.h"

namespace pier::server {

class EventLoop::Sink final : public sources::EventSink {
 public:
  Sink(EventLoop& loop, std::size_t index, std::string name) : loop_(loop), index_(index), name_(std::move(name)) {}

  void Upsert(nlohmann::json object) override { loop_.Enqueue(UpsertEvent{std::move(object)}); }
  void Delete(model::Kind kind, std::string key) override { loop_.Enqueue(DeleteEvent{kind, std::move(key)}); }
  void Replace(model::Kind kind, std::vector<nlohmann::json> objects) override {
    loop_.Enqueue(ReplaceEvent{kind, std::move(objects)});
  }
  void Synced() override { loop_.Enqueue(SyncedEvent{index_}); }

  const std::string& name() const { return name_; }

 private:
  EventLoop& loop_;
  std::size_t index_;
  std::string name_;
};

EventLoop::EventLoop(EventLoopOptions options, std::string controller_instance, Publish publish)
    : options_(std::move(options)),
      publish_(std::move(publish)),
      debouncer_(options_.quiet, options_.max_delay),
      versioner_(std::move(controller_instance)) {}

EventLoop::~EventLoop() { Stop(); }

sources::EventSink& EventLoop::AddSource(std::string name) {
  sinks_.push_back(std::make_unique<Sink>(*this, sinks_.size(), std::move(name)));
  synced_.push_back(false);
  return *sinks_.back();
}

void EventLoop::Start() {
  // Without any source there is nothing to wait for: build the (empty) snapshot at once.
  all_synced_ = sinks_.empty();
  if (all_synced_) debouncer_.Changed(Debouncer::Clock::now() - options_.max_delay);
  thread_ = std::thread([this] { Run(); });
}

void EventLoop::Stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Enqueue(Event event) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void EventLoop::Run() {
  std::deque<Event> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      const auto deadline = all_synced_ ? debouncer_.Deadline() : std::nullopt;
      if (deadline) {
        wake_.wait_until(lock, *deadline, ready);
      } else {
        wake_.wait(lock, ready);
      }
      if (stopping_) return;
      batch.swap(queue_);
    }
    bool changed = false;
    for (auto& event : batch) {
      try {
        changed |= std::visit([this](auto& e) { return Apply(e); }, event);
      } catch (const std::exception& e) {
        // A malformed object must not stop the loop; the model reports errors as values, this
        // is the last line of defence.
        spdlog::error("event loop: event failed: {}", e.what());
      }
    }
    batch.clear();
    const auto now = Debouncer::Clock::now();
    if (changed) debouncer_.Changed(now);
    if (all_synced_ && debouncer_.Due(now)) {
      debouncer_.Reset();
      Build();
    }
  }
}

bool EventLoop::Apply(UpsertEvent& event) {
  auto changed = state_.Upsert(event.object);
  if (!changed) {
    spdlog::warn("ignoring object: {}", changed.error());
    return false;
  }
  return *changed;
}

bool EventLoop::Apply(DeleteEvent& event) { return state_.Remove(event.kind, event.key); }

bool EventLoop::Apply(ReplaceEvent& event) {
  auto replaced = state_.ReplaceAll(event.kind, event.objects);
  if (replaced) return *replaced;
  // One bad object must not cost the others: apply the good ones one by one, keep the previous
  // version of each bad one, and drop only what the relist no longer lists.
  spdlog::warn("relist of {}: {}; applying the valid objects one by one", model::KindName(event.kind),
               replaced.error());
  const bool cluster_scoped = event.kind == model::Kind::kIngressClass;
  std::set<std::string> listed;
  for (const auto& object : event.objects) listed.insert(sources::ObjectKey(object, cluster_scoped));
  std::vector<std::string> gone;
  auto collect = [&](const auto& objects) {
    for (const auto& [key, object] : objects) {
      if (!listed.contains(key)) gone.push_back(key);
    }
  };
  switch (event.kind) {
    case model::Kind::kIngress: collect(state_.ingresses); break;
    case model::Kind::kIngressClass: collect(state_.ingress_classes); break;
    case model::Kind::kService: collect(state_.services); break;
    case model::Kind::kEndpointSlice: collect(state_.endpoint_slices); break;
    case model::Kind::kSecret: collect(state_.secrets); break;
  }
  bool changed = false;
  for (const auto& key : gone) changed |= state_.Remove(event.kind, key);
  for (const auto& object : event.objects) {
    auto upserted = state_.Upsert(object);
    if (upserted) changed |= *upserted;
  }
  return changed;
}

bool EventLoop::Apply(SyncedEvent& event) {
  if (synced_[event.source]) return false;
  synced_[event.source] = true;
  spdlog::info("source {} synced", sinks_[event.source]->name());
  if (all_synced_) return false;
  for (bool synced : synced_) {
    if (!synced) return false;
  }
  all_synced_ = true;
  // The first snapshot should not wait for a quiet period: everything is loaded now.
  debouncer_.Changed(Debouncer::Clock::now() - options_.max_delay);
  return false;
}

void EventLoop::Build() {
  auto& metrics = ControllerMetrics::Get();
  const auto start = std::chrono::steady_clock::now();
  translate::Output output;
  try {
    output = options_.translate(state_);
  } catch (const std::exception& e) {
    // Translation is pure and reports problems as warnings; if it still throws, dataplanes
    // keep the last good snapshot rather than getting a broken one.
    spdlog::error("snapshot build failed, keeping version {}: {}", versioner_.version(), e.what());
    return;
  }
  warnings_.Report(output.warnings);
  if (options_.observe) options_.observe(state_, output);
  const auto& snapshot = output.snapshot;
  const std::size_t hosts = snapshot.virtual_hosts_size();
  const std::size_t clusters = snapshot.clusters_size();
  const std::size_t certificates = snapshot.certificates_size();
  const std::size_t served = output.served_ingresses.size();
  SnapshotMessage message = versioner_.Stamp(snapshot);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  // The bytes are all that is sent; freeing the built message takes about as long as
  // serialising it, so it goes on the janitor's thread instead of delaying the publish.
  janitor_.Dispose(std::make_shared<const translate::Output>(std::move(output)));
  metrics.build_duration.Observe(elapsed.count());
  if (!message) {
    spdlog::debug("snapshot unchanged (version {})", versioner_.version());
    return;
  }
  metrics.snapshots.Increment();
  spdlog::info("snapshot version {}: {} virtual hosts, {} clusters, {} certificates, {} served ingresses ({:.1f} ms)",
               versioner_.version(), hosts, clusters, certificates, served, elapsed.count() * 1000);
  published_version_.store(versioner_.version());
  publish_(std::move(message));
}

}  // namespace pier::server
