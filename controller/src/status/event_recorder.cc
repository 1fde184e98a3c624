#include "status/event_recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "kube/resource.h"
#include "status/micro_time.h"

namespace pier::status {
namespace {

constexpr std::string_view kEventApiVersion = "events.k8s.io/v1";
constexpr std::string_view kEventPlural = "events";
// Validation limits of events.k8s.io/v1.
constexpr std::size_t kMaxNoteBytes = 1024;
constexpr std::size_t kMaxFieldBytes = 128;
constexpr std::size_t kMaxNameBytes = 253;

std::string Truncate(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  text.resize(limit);
  // Do not leave half a UTF-8 sequence at the end.
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80) != 0) text.pop_back();
  return text;
}

std::string ObjectKey(const EventTarget& target) {
  return target.uid.empty() ? target.namespace_ + "/" + target.name : target.uid;
}

// FNV-1a, 64 bits: stable across builds and processes, unlike std::hash, so every replica
// names the same warning the same way.
uint64_t StableHash(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string EventName(const EventTarget& target, const std::string& key) {
  char suffix[18];
  std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(StableHash(key)));
  return Truncate(target.name, kMaxNameBytes - std::char_traits<char>::length(suffix)) + suffix;
}

}  // namespace

EventRecorder::EventRecorder(kube::KubeClient& client, EventRecorderConfig config, const Clock& clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

double EventRecorder::TokensAt(const Bucket& bucket, std::chrono::steady_clock::time_point now) const {
  const std::chrono::duration<double> elapsed = now - bucket.updated;
  return std::min(config_.burst, bucket.tokens + elapsed / std::chrono::duration<double>(config_.refill_every));
}

bool EventRecorder::HasToken(const std::string& object_key, std::chrono::steady_clock::time_point now) const {
  const auto it = buckets_.find(object_key);
  return it == buckets_.end() || TokensAt(it->second, now) >= 1.0;
}

void EventRecorder::SpendToken(const std::string& object_key, std::chrono::steady_clock::time_point now) {
  auto [it, inserted] = buckets_.try_emplace(object_key, Bucket{config_.burst, now});
  it->second.tokens = TokensAt(it->second, now) - 1.0;
  it->second.updated = now;
}

EventOutcome EventRecorder::Warning(const EventTarget& target, const std::string& reason, const std::string& note) {
  const auto now = clock_.Now();
  const std::string object_key = ObjectKey(target);
  const std::string key = object_key + '\x1f' + reason + '\x1f' + note;
  Forget(now);

  auto it = recorded_.find(key);
  const bool in_series = it != recorded_.end() && now - it->second.last_observed < config_.series_window;
  // A token is checked before anything is written but spent only on success, so a failing API
  // server does not drain the bucket.
  if (!HasToken(object_key, now)) {
    spdlog::warn("events: rate limit reached for ingress {}/{}; dropped {}: {}", target.namespace_, target.name,
                 reason, note);
    return EventOutcome::kRateLimited;
  }

  if (in_series) {
    // Gone: the Event expired on the server (its TTL is about an hour), start a new one.
    if (auto patched = PatchSeries(target, object_key, it->second, now)) return *patched;
  }
  return Create(target, reason, note, key, now);
}

std::optional<EventOutcome> EventRecorder::PatchSeries(const EventTarget& target, const std::string& object_key, Recorded& recorded,
                                        std::chrono::steady_clock::time_point now) {
  const nlohmann::json patch = {
      {"series", {{"count", recorded.count + 1}, {"lastObservedTime", FormatMicroTime(clock_.WallNow())}}}};
  const std::string path = kube::ObjectPath(kEventApiVersion, kEventPlural, true, target.namespace_, recorded.name);
  auto patched = client_.Patch(path, kube::PatchType::kMerge, patch);
  if (patched) {
    SpendToken(object_key, now);
    ++recorded.count;
    recorded.last_observed = now;
    return EventOutcome::kSeriesUpdated;
  }
  if (patched.error().http_status == 404) return std::nullopt;
  spdlog::warn("events: updating event {}/{} failed: {}", target.namespace_, recorded.name, patched.error().Describe());
  return EventOutcome::kFailed;
}

EventOutcome EventRecorder::Create(const EventTarget& target, const std::string& reason, const std::string& note,
                                   const std::string& key, std::chrono::steady_clock::time_point now) {
  const auto wall = clock_.WallNow();
  const std::string name = EventName(target, key);

  nlohmann::json regarding = {{"apiVersion", "networking.k8s.io/v1"},
                              {"kind", "Ingress"},
                              {"namespace", target.namespace_},
                              {"name", target.name}};
  if (!target.uid.empty()) regarding["uid"] = target.uid;
  const nlohmann::json event = {
      {"apiVersion", kEventApiVersion},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", target.namespace_}}},
      {"eventTime", FormatMicroTime(wall)},
      {"reportingController", Truncate(config_.reporting_controller, kMaxFieldBytes)},
      {"reportingInstance", Truncate(config_.reporting_instance, kMaxFieldBytes)},
      {"action", Truncate(config_.action, kMaxFieldBytes)},
      {"reason", Truncate(reason, kMaxFieldBytes)},
      {"note", Truncate(note, kMaxNoteBytes)},
      {"type", "Warning"},
      {"regarding", regarding},
  };
  auto created = client_.Create(kube::CollectionPath(kEventApiVersion, kEventPlural, true, target.namespace_), event);
  const std::string object_key = ObjectKey(target);
  if (!created && created.error().http_status == 409) {
    auto known = recorded_.find(key);
    if (known != recorded_.end()) {
      // Ours, seen again after the series window while the Event still exists: a series.
      // Gone between the two calls: fail, and the next pass creates it.
      return PatchSeries(target, object_key, known->second, now).value_or(EventOutcome::kFailed);
    }
    // An earlier leader recorded it: adopt it rather than write a duplicate.
    spdlog::debug("events: {} event on ingress {}/{} already recorded as {}", reason, target.namespace_, target.name,
                  name);
    recorded_[key] = Recorded{name, 1, now};
    return EventOutcome::kAlreadyRecorded;
  }
  if (!created) {
    spdlog::warn("events: creating {} event on ingress {}/{} failed: {}", reason, target.namespace_, target.name,
                 created.error().Describe());
    return EventOutcome::kFailed;
  }
  SpendToken(object_key, now);
  recorded_[key] = Recorded{name, 1, now};
  return EventOutcome::kCreated;
}

void EventRecorder::Forget(std::chrono::steady_clock::time_point now) {
  if (recorded_.size() <= config_.max_remembered) return;
  std::erase_if(recorded_, [&](const auto& entry) { return now - entry.second.last_observed >= config_.series_window; });
  // A full bucket is the same as no bucket.
  std::erase_if(buckets_, [&](const auto& entry) { return TokensAt(entry.second, now) >= config_.burst; });
}

}  // namespace pier::status
