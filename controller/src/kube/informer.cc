#include "kube/informer.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

namespace pier::kube {

struct Informer::WatchOutcome {
  ApiResult<WatchEnd> end = WatchEnd::kClosedByServer;
  ApiError event_error;  // the ERROR event's Status when end is kStoppedByHandler
  size_t events = 0;
  std::chrono::steady_clock::duration lasted{};
};

namespace {

// Runs a consumer callback. The consumer is another component's code; a throw from it must not
// kill the informer thread (std::terminate) or skip the rest of the sync.
template <class F>
void Invoke(const std::string& kind, const char* what, F&& call) {
  try {
    call();
  } catch (const std::exception& error) {
    spdlog::error("kube: {} {} callback threw: {}", kind, what, error.what());
  } catch (...) {
    spdlog::error("kube: {} {} callback threw a non-exception", kind, what);
  }
}

// Sleeps for `delay` or until a stop is requested, whichever is first.
void SleepUnlessStopped(std::chrono::milliseconds delay, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, delay, [] { return false; });
}

}  // namespace

Informer::Informer(KubeClient& client, Resource resource, InformerOptions options, InformerCallbacks callbacks)
    : client_(client),
      resource_(resource),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      path_(CollectionPath(resource_, options_.namespace_)),
      kind_(resource_.kind_name),
      metrics_(WatchMetricsFor(resource_.kind_name)),
      backoff_(options_.backoff),
      random_(std::random_device{}()) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Informer::Stop() noexcept {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void Informer::Run(std::stop_token stop) {
  std::string resource_version;
  bool need_list = true;
  bool last_was_gone = false;
  while (!stop.stop_requested()) {
    if (need_list) {
      auto listed = ListAll(stop);
      if (stop.stop_requested()) return;
      if (!listed) {
        const ApiError& error = listed.error();
        spdlog::warn("kube: listing {} ({}) failed: {}", kind_, path_, error.Describe());
        if (error.IsThrottled()) {
          Restart(RestartReason::kThrottled, std::max<std::chrono::milliseconds>(error.retry_after, backoff_.Next()),
                  stop);
        } else {
          Restart(RestartReason::kError, backoff_.Next(), stop);
        }
        continue;
      }
      resource_version = listed->resource_version;
      spdlog::info("kube: listed {} {} at resourceVersion {}", listed->items.size(), kind_, resource_version);
      DeliverReplace(std::move(listed->items));
      need_list = false;
      backoff_.Reset();
    }

    WatchOutcome outcome = WatchFrom(resource_version, stop);
    if (stop.stop_requested()) return;
    if (outcome.end.ok() && *outcome.end == WatchEnd::kClosedByServer) {
      last_was_gone = false;
      if (outcome.events == 0 && outcome.lasted < options_.min_healthy_watch) {
        spdlog::warn("kube: watch of {} closed at once without events; backing off", kind_);
        Restart(RestartReason::kClosed, backoff_.Next(), stop);
      } else {
        spdlog::debug("kube: watch of {} closed by the server; resuming at {}", kind_, resource_version);
        backoff_.Reset();
        Restart(RestartReason::kClosed, std::chrono::milliseconds(0), stop);
      }
      continue;
    }
    const ApiError& error = outcome.end.ok() ? outcome.event_error : outcome.end.error();
    const bool gone_again = last_was_gone && outcome.events <= 1;
    last_was_gone = error.IsGone();
    if (error.IsGone()) {
      // The version we hold was compacted away: only a fresh list tells what changed since.
      // Re-listing at once is right; a fresh list's version expiring at once again is not, so
      // that case backs off.
      spdlog::info("kube: {} resourceVersion {} expired ({}); re-listing", kind_, resource_version,
                   error.Describe());
      need_list = true;
      Restart(RestartReason::kGone, gone_again ? backoff_.Next() : std::chrono::milliseconds(0), stop);
    } else if (error.IsThrottled()) {
      spdlog::warn("kube: watch of {} throttled: {}", kind_, error.Describe());
      Restart(RestartReason::kThrottled, std::max<std::chrono::milliseconds>(error.retry_after, backoff_.Next()),
              stop);
    } else {
      spdlog::warn("kube: watch of {} failed: {}; resuming at {}", kind_, error.Describe(), resource_version);
      if (outcome.events > 0) backoff_.Reset();
      Restart(RestartReason::kError, backoff_.Next(), stop);
    }
  }
}

ApiResult<ListPage> Informer::ListAll(std::stop_token stop) {
  ListOptions options;
  options.limit = options_.page_size;
  options.field_selector = std::string(resource_.field_selector);
  ListPage all;
  for (;;) {
    auto page = client_.List(path_, options, stop);
    if (!page) {
      if (page.error().IsGone() && !options.continue_token.empty() && options.limit > 0) {
        // The continue token outlived etcd's compaction window (a very long list). Paging
        // cannot resume, so take the whole list in one response, as client-go does.
        spdlog::info("kube: {} list continue token expired; listing without paging", kind_);
        options.continue_token.clear();
        options.limit = 0;
        all.items.clear();
        continue;
      }
      return page.error();
    }
    if (all.items.empty()) {
      all.items = std::move(page->items);
    } else {
      for (auto& item : page->items) all.items.push_back(std::move(item));
    }
    // Every page of one list is a view of the same snapshot and carries its version.
    all.resource_version = page->resource_version;
    if (page->continue_token.empty()) return all;
    options.continue_token = std::move(page->continue_token);
  }
}

Informer::WatchOutcome Informer::WatchFrom(std::string& resource_version, std::stop_token stop) {
  WatchOptions options;
  options.resource_version = resource_version;
  options.allow_watch_bookmarks = true;
  options.timeout = NextWatchTimeout();
  options.field_selector = std::string(resource_.field_selector);

  WatchOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  outcome.end = client_.Watch(
      path_, options,
      [&](WatchEvent&& event) {
        ++outcome.events;
        return HandleEvent(event, resource_version, outcome.event_error);
      },
      stop);
  outcome.lasted = std::chrono::steady_clock::now() - started;
  return outcome;
}

bool Informer::HandleEvent(WatchEvent& event, std::string& resource_version, ApiError& event_error) {
  metrics_.CountEvent(event.type);
  if (event.type == WatchEventType::kError) {
    event_error = event.error;
    return false;
  }
  const std::string version = ResourceVersionOf(event.object);
  if (event.type == WatchEventType::kBookmark) {
    // A bookmark carries only the version: the watch can later resume from it instead of an
    // older one that may have been compacted meanwhile.
    if (!version.empty()) resource_version = version;
    return true;
  }
  const std::string key = ObjectKey(event.object);
  if (key.empty()) {
    spdlog::warn("kube: {} {} event without metadata.name ignored", kind_, WatchEventTypeName(event.type));
    return true;
  }
  if (event.type == WatchEventType::kDeleted) {
    if (callbacks_.on_delete) Invoke(kind_, "delete", [&] { callbacks_.on_delete(resource_.kind, key); });
  } else {
    Stamp(event.object);
    if (callbacks_.on_upsert) {
      Invoke(kind_, "upsert", [&] { callbacks_.on_upsert(resource_.kind, std::move(event.object)); });
    }
  }
  // Advanced only after delivery: if delivery was cut short by a stop, nothing is skipped.
  if (!version.empty()) resource_version = version;
  return true;
}

void Informer::DeliverReplace(std::vector<nlohmann::json> objects) {
  for (auto& object : objects) Stamp(object);
  if (callbacks_.on_replace) {
    Invoke(kind_, "replace", [&] { callbacks_.on_replace(resource_.kind, std::move(objects)); });
  }
  if (!synced_.exchange(true, std::memory_order_acq_rel) && callbacks_.on_synced) {
    Invoke(kind_, "synced", [&] { callbacks_.on_synced(resource_.kind); });
  }
}

void Informer::Stamp(nlohmann::json& object) const {
  if (!object.is_object()) return;
  object["apiVersion"] = resource_.api_version;
  object["kind"] = resource_.kind_name;
}

std::chrono::seconds Informer::NextWatchTimeout() {
  const auto low = options_.min_watch_timeout.count();
  const auto high = std::max(low, options_.max_watch_timeout.count());
  std::uniform_int_distribution<int64_t> pick(low, high);
  return std::chrono::seconds(pick(random_));
}

void Informer::Restart(RestartReason reason, std::chrono::milliseconds delay, std::stop_token stop) {
  metrics_.CountRestart(reason);
  if (delay.count() > 0) SleepUnlessStopped(delay, stop);
}

}  // namespace pier::kube
