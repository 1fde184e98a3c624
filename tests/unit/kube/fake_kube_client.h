// A KubeClient for unit tests: plays back scripted list pages and watch streams and records
// every call. Nothing scripted means a list or watch blocks until stopped, like an idle watch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kube/kube_client.h"

namespace pier::kube::fake {

using namespace std::chrono_literals;

inline nlohmann::json Object(const std::string& namespace_, const std::string& name, const std::string& version) {
  nlohmann::json metadata = {{"name", name}, {"resourceVersion", version}};
  if (!namespace_.empty()) metadata["namespace"] = namespace_;
  return {{"metadata", metadata}};
}

inline WatchEvent Event(WatchEventType type, nlohmann::json object) {
  WatchEvent event;
  event.type = type;
  event.object = std::move(object);
  return event;
}

inline ApiError HttpError(int status, std::chrono::seconds retry_after = 0s) {
  ApiError error;
  error.http_status = status;
  error.retry_after = retry_after;
  return error;
}

inline ListPage Page(std::vector<nlohmann::json> items, const std::string& version, const std::string& next = "") {
  return ListPage{std::move(items), version, next};
}

struct ScriptedWatch {
  std::vector<WatchEvent> events;
  ApiResult<WatchEnd> end = WatchEnd::kClosedByServer;
};

// A KubeClient playing back scripted list pages and watch streams. With nothing scripted, a
// list or watch blocks until stopped, like an idle watch on a real server.
class FakeKubeClient final : public KubeClient {
 public:
  struct Call {
    std::string path;
    ListOptions list;
    WatchOptions watch;
    std::chrono::steady_clock::time_point at;
  };

  // Scripts for one collection path, or for any path without a script of its own ("").
  void AddList(ApiResult<ListPage> page, const std::string& path = "") {
    std::lock_guard lock(mutex_);
    lists_[path].push_back(std::move(page));
    changed_.notify_all();
  }
  void AddWatch(ScriptedWatch watch, const std::string& path = "") {
    std::lock_guard lock(mutex_);
    watches_[path].push_back(std::move(watch));
    changed_.notify_all();
  }

  std::vector<Call> ListCalls() {
    std::lock_guard lock(mutex_);
    return list_calls_;
  }
  std::vector<Call> WatchCalls() {
    std::lock_guard lock(mutex_);
    return watch_calls_;
  }
  bool WaitForWatchCalls(size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return watch_calls_.size() >= count; });
  }
  bool WaitForListCalls(size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return list_calls_.size() >= count; });
  }

  ApiResult<ListPage> List(const std::string& path, const ListOptions& options, std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    list_calls_.push_back({path, options, {}, std::chrono::steady_clock::now()});
    changed_.notify_all();
    std::deque<ApiResult<ListPage>>* queue = nullptr;
    if (!changed_.wait(lock, stop, [&] { return (queue = QueueFor(lists_, path)) != nullptr; })) return Cancelled();
    auto page = std::move(queue->front());
    queue->pop_front();
    return page;
  }

  ApiResult<WatchEnd> Watch(const std::string& path, const WatchOptions& options, const WatchHandler& handler,
                            std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    watch_calls_.push_back({path, {}, options, std::chrono::steady_clock::now()});
    changed_.notify_all();
    std::deque<ScriptedWatch>* queue = nullptr;
    if (!changed_.wait(lock, stop, [&] { return (queue = QueueFor(watches_, path)) != nullptr; })) {
      return Cancelled();
    }
    ScriptedWatch script = std::move(queue->front());
    queue->pop_front();
    lock.unlock();
    for (auto& event : script.events) {
      if (!handler(std::move(event))) return WatchEnd::kStoppedByHandler;
    }
    return script.end;
  }

  ApiResult<nlohmann::json> Get(const std::string&) override { return ClientError("unused"); }
  ApiResult<nlohmann::json> Create(const std::string&, const nlohmann::json&) override {
    return ClientError("unused");
  }
  ApiResult<nlohmann::json> Update(const std::string&, const nlohmann::json&) override {
    return ClientError("unused");
  }
  ApiResult<nlohmann::json> UpdateStatus(const std::string&, const nlohmann::json&) override {
    return ClientError("unused");
  }
  ApiResult<nlohmann::json> Patch(const std::string&, PatchType, const nlohmann::json&, const PatchOptions&) override {
    return ClientError("unused");
  }

 private:
  template <class T>
  static std::deque<T>* QueueFor(std::map<std::string, std::deque<T>>& queues, const std::string& path) {
    for (const std::string& key : {path, std::string()}) {
      auto it = queues.find(key);
      if (it != queues.end() && !it->second.empty()) return &it->second;
    }
    return nullptr;
  }

  static ApiError Cancelled() {
    ApiError error;
    error.cancelled = true;
    return error;
  }

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::map<std::string, std::deque<ApiResult<ListPage>>> lists_;
  std::map<std::string, std::deque<ScriptedWatch>> watches_;
  std::vector<Call> list_calls_;
  std::vector<Call> watch_calls_;
};

}  // namespace pier::kube::fake
