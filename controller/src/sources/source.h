// Where Kubernetes objects come from. A Source (the manifests folder, or the API server) pushes
// what it sees into an EventSink; the controller's event loop is the only implementation of the
// sink and applies everything on its own thread, so sources never touch the cluster state.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "model/objects.h"
#include "pier/common/result.h"

namespace pier::sources {

// Thread-safe: a source may call it from any thread. Objects are raw Kubernetes JSON; the sink
// parses them (one bad object is reported there and never affects the others).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Upsert(nlohmann::json object) = 0;
  // `key` is "namespace/name" (or "name" for cluster-scoped kinds), as model::KeyOf spells it.
  virtual void Delete(model::Kind kind, std::string key) = 0;
  // The complete current set of one kind (a relist): anything of that kind not listed is gone.
  virtual void Replace(model::Kind kind, std::vector<nlohmann::json> objects) = 0;
  // The initial load is complete; called once. Nothing is built before every source said so.
  virtual void Synced() = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Starts delivering to `sink` (which must outlive the source, or at least Stop()). An error
  // means the source cannot work at all (e.g. the folder does not exist).
  virtual Result<bool> Start(EventSink& sink) = 0;
  // Stops delivering; no sink call happens after it returns. Idempotent.
  virtual void Stop() noexcept = 0;
};

}  // namespace pier::sources
