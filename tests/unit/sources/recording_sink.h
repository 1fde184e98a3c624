// An EventSink that records every call, for tests that watch a source from the outside.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sources/source.h"

namespace pier::sources {

class RecordingSink final : public EventSink {
 public:
  struct Event {
    std::string type;  // "upsert", "delete", "replace", "synced"
    std::string kind;
    std::string key;  // for upserts: metadata namespace (or "default") + "/" + name
    nlohmann::json object;
  };

  void Upsert(nlohmann::json object) override {
    const auto& meta = object["metadata"];
    std::string key = meta.value("namespace", "default") + "/" + meta.value("name", "");
    std::string kind = object.value("kind", "");
    Record({"upsert", std::move(kind), std::move(key), std::move(object)});
  }
  void Delete(model::Kind kind, std::string key) override { Record({"delete", model::KindName(kind), key, {}}); }
  void Replace(model::Kind kind, std::vector<nlohmann::json> objects) override {
    Record({"replace", model::KindName(kind), "", nlohmann::json(objects)});
  }
  void Synced() override { Record({"synced", "", "", {}}); }

  std::vector<Event> Take() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }

  // Waits until an event satisfying `match` has been recorded; on success moves everything
  // recorded so far into `taken`.
  bool WaitFor(const std::function<bool(const Event&)>& match, std::chrono::milliseconds timeout,
               std::vector<Event>* taken = nullptr) {
    std::unique_lock lock(mutex_);
    const bool found = changed_.wait_for(lock, timeout, [&] {
      for (const auto& event : events_) {
        if (match(event)) return true;
      }
      return false;
    });
    if (found && taken) *taken = std::exchange(events_, {});
    return found;
  }

 private:
  void Record(Event event) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(event));
    }
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
};

}  // namespace pier::sources
