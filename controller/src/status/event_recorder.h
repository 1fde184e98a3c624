// Warning Events (events.k8s.io/v1) on Ingresses, deduplicated and rate limited the way
// client-go's event recorder does it:
// - an Event identical to one recorded less than `series_window` ago (same Ingress uid, reason
//   and note) is not created again: the existing Event becomes a series (series.count and
//   series.lastObservedTime patched), as client-go's events broadcaster does within its 6 min;
// - each Ingress has a token bucket (burst 25, one token back every 5 min: client-go's
//   EventSourceObjectSpamFilter defaults); an Event without a token is dropped and logged;
// - an Event's name is the Ingress name plus a hash of (uid, reason, note), the same in every
//   replica: a new leader that reports a warning its predecessor already recorded finds the
//   Event there (409) and adopts it instead of creating a duplicate, with no extra permission
//   (reading Events would need list/get).
// Not thread-safe: the status thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kube/kube_client.h"
#include "status/clock.h"

namespace pier::status {

struct EventRecorderConfig {
  std::string reporting_controller = "pier.dev/ingress-controller";
  std::string reporting_instance;  // the holder identity
  std::string action = "Sync";
  std::chrono::seconds series_window{6 * 60};
  double burst = 25;
  std::chrono::seconds refill_every{5 * 60};
  // Above this many remembered events, those outside the series window are forgotten.
  std::size_t max_remembered = 4096;
};

struct EventTarget {
  std::string namespace_;
  std::string name;
  std::string uid;
};

// kAlreadyRecorded: another replica (an earlier leader) created this very Event; nothing written.
enum class EventOutcome { kCreated, kSeriesUpdated, kAlreadyRecorded, kRateLimited, kFailed };

class EventRecorder final {
 public:
  EventRecorder(kube::KubeClient& client, EventRecorderConfig config, const Clock& clock);

  // kFailed: nothing was written and no token spent; the caller may try again later.
  EventOutcome Warning(const EventTarget& target, const std::string& reason, const std::string& note);

 private:
  struct Recorded {
    std::string name;  // metadata.name of the Event in the Ingress's namespace
    int64_t count = 1;
    std::chrono::steady_clock::time_point last_observed;
  };
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };

  double TokensAt(const Bucket& bucket, std::chrono::steady_clock::time_point now) const;
  bool HasToken(const std::string& object_key, std::chrono::steady_clock::time_point now) const;
  void SpendToken(const std::string& object_key, std::chrono::steady_clock::time_point now);
  EventOutcome Create(const EventTarget& target, const std::string& reason, const std::string& note,
                      const std::string& key, std::chrono::steady_clock::time_point now);
  // nullopt: the Event is gone from the server (it expired).
  std::optional<EventOutcome> PatchSeries(const EventTarget& target, const std::string& object_key,
                                          Recorded& recorded, std::chrono::steady_clock::time_point now);
  void Forget(std::chrono::steady_clock::time_point now);

  kube::KubeClient& client_;
  const EventRecorderConfig config_;
  const Clock& clock_;
  std::map<std::string, Recorded> recorded_;  // by uid + reason + note
  std::map<std::string, Bucket> buckets_;     // by uid (or namespace/name)
};

}  // namespace pier::status
