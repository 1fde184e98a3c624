// An in-memory API server for the status tests: objects by path with resourceVersions,
// 404/409 like the real one, every write recorded, and failures injectable per verb.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/kube_client.h"
#include "status/clock.h"

namespace pier::status::testing {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override { return now_; }
  std::chrono::system_clock::time_point WallNow() const override { return wall_; }
  void Advance(std::chrono::milliseconds by) {
    now_ += by;
    wall_ += by;
  }

 private:
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::time_point{} + 1000h;
  std::chrono::system_clock::time_point wall_ = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
};

inline kube::ApiError HttpError(int status) {
  kube::ApiError error;
  error.http_status = status;
  error.message = "injected";
  return error;
}

class MemoryApi final : public kube::KubeClient {
 public:
  struct Write {
    std::string verb;  // create, update, update-status, patch
    std::string path;
    nlohmann::json body;
  };

  // Stores an object at `path` (a new resourceVersion), as another client would.
  void Put(const std::string& path, nlohmann::json object) {
    std::lock_guard lock(mutex_);
    Store(path, std::move(object));
  }
  std::optional<nlohmann::json> Object(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(path);
    return it == objects_.end() ? std::nullopt : std::optional(it->second);
  }
  void Remove(const std::string& path) {
    std::lock_guard lock(mutex_);
    objects_.erase(path);
  }
  // The next calls of `verb` (get, create, update, update-status, patch) fail with `status`.
  void FailNext(const std::string& verb, int status, int times = 1) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < times; ++i) failures_[verb].push_back(status);
  }
  std::vector<Write> Writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }
  int Gets() {
    std::lock_guard lock(mutex_);
    return gets_;
  }

  kube::ApiResult<kube::ListPage> List(const std::string&, const kube::ListOptions&, std::stop_token) override {
    return kube::ClientError("unused");
  }
  kube::ApiResult<kube::WatchEnd> Watch(const std::string&, const kube::WatchOptions&, const WatchHandler&,
                                        std::stop_token) override {
    return kube::ClientError("unused");
  }

  kube::ApiResult<nlohmann::json> Get(const std::string& path) override {
    std::lock_guard lock(mutex_);
    ++gets_;
    if (auto status = Injected("get")) return HttpError(*status);
    auto it = objects_.find(path);
    if (it == objects_.end()) return HttpError(404);
    return it->second;
  }

  kube::ApiResult<nlohmann::json> Create(const std::string& collection, const nlohmann::json& object) override {
    std::lock_guard lock(mutex_);
    writes_.push_back({"create", collection, object});
    if (auto status = Injected("create")) return HttpError(*status);
    const std::string path = collection + "/" + object["metadata"]["name"].get<std::string>();
    if (objects_.contains(path)) return HttpError(409);
    return Store(path, object);
  }

  kube::ApiResult<nlohmann::json> Update(const std::string& path, const nlohmann::json& object) override {
    std::lock_guard lock(mutex_);
    writes_.push_back({"update", path, object});
    return Replace("update", path, object, false);
  }

  kube::ApiResult<nlohmann::json> UpdateStatus(const std::string& path, const nlohmann::json& object) override {
    std::lock_guard lock(mutex_);
    writes_.push_back({"update-status", path, object});
    return Replace("update-status", path, object, true);
  }

  kube::ApiResult<nlohmann::json> Patch(const std::string& path, kube::PatchType, const nlohmann::json& patch,
                                        const kube::PatchOptions&) override {
    std::lock_guard lock(mutex_);
    writes_.push_back({"patch", path, patch});
    if (auto status = Injected("patch")) return HttpError(*status);
    auto it = objects_.find(path);
    if (it == objects_.end()) return HttpError(404);
    nlohmann::json merged = it->second;
    merged.merge_patch(patch);
    return Store(path, std::move(merged));
  }

 private:
  std::optional<int> Injected(const std::string& verb) {
    auto& queue = failures_[verb];
    if (queue.empty()) return std::nullopt;
    const int status = queue.front();
    queue.pop_front();
    return status;
  }

  nlohmann::json Store(const std::string& path, nlohmann::json object) {
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    objects_[path] = object;
    return object;
  }

  // PUT semantics: the resourceVersion must match; /status changes only status.
  kube::ApiResult<nlohmann::json> Replace(const std::string& verb, const std::string& path,
                                          const nlohmann::json& object, bool status_only) {
    if (auto status = Injected(verb)) return HttpError(*status);
    auto it = objects_.find(path);
    if (it == objects_.end()) return HttpError(404);
    const auto sent = object["metadata"].value("resourceVersion", "");
    if (!sent.empty() && sent != it->second["metadata"]["resourceVersion"].get<std::string>()) {
      return HttpError(409);
    }
    nlohmann::json stored = object;
    if (status_only) {
      stored = it->second;
      stored["status"] = object.value("status", nlohmann::json::object());
    }
    return Store(path, std::move(stored));
  }

  std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  std::map<std::string, std::deque<int>> failures_;
  std::vector<Write> writes_;
  int gets_ = 0;
  uint64_t version_ = 100;
};

}  // namespace pier::status::testing
