// The leader's writes to the API: Ingress status and Warning Events. The event loop hands it
// what each build found (Update, cheap: a pointer swap), leader election says whether to act
// (SetLeader); the writes happen on this class's own thread so a slow or failing API server
// never holds up snapshots. Failed writes are retried with backoff; a write that is no longer
// needed by then is simply not made.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kube/backoff.h"
#include "kube/kube_client.h"
#include "model/objects.h"
#include "status/clock.h"
#include "status/event_recorder.h"
#include "status/status_writer.h"
#include "translate/translate.h"

namespace pier::status {

struct IngressWarning {
  EventTarget target;
  std::string reason;
  std::string message;
};

// Where the published address comes from: fixed addresses (--publish-status-address) win over
// a Service's (--publish-service); neither set means no status writes.
struct PublishOptions {
  std::string service;  // NAMESPACE/NAME or ""
  Addresses addresses;  // sorted; empty: take them from `service`

  bool enabled() const { return !addresses.empty() || !service.empty(); }
};

// Everything the status thread needs from one build, copied out of the loop's state.
struct StatusInput {
  std::vector<IngressStatusView> ingresses;
  // nullopt: status is not written (nothing to publish, or the publish Service does not exist).
  std::optional<Addresses> published;
  std::vector<IngressWarning> warnings;
};

StatusInput MakeStatusInput(const model::ClusterState& state, const translate::Output& output,
                            const PublishOptions& publish);

struct StatusControllerOptions {
  PublishOptions publish;
  EventRecorderConfig events;
};

class StatusController final {
 public:
  StatusController(std::shared_ptr<kube::KubeClient> client, StatusControllerOptions options);
  ~StatusController();
  StatusController(const StatusController&) = delete;
  StatusController& operator=(const StatusController&) = delete;

  void Start();
  // Interrupts between writes and joins; nothing is written after it returns. Idempotent.
  void Stop() noexcept;

  // Thread-safe.
  void Update(StatusInput input);
  void SetLeader(bool leader);

 private:
  void Run(std::stop_token stop);
  // One pass over the latest input; returns whether everything wanted was written.
  bool Pass(const StatusInput& input, std::stop_token stop);
  bool RecordEvents(const std::vector<IngressWarning>& warnings, std::stop_token stop);

  std::shared_ptr<kube::KubeClient> client_;
  const StatusControllerOptions options_;
  SystemClock clock_;
  StatusWriter writer_;
  EventRecorder recorder_;

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::shared_ptr<const StatusInput> input_;
  bool leader_ = false;
  bool dirty_ = false;
  std::jthread thread_;

  // Status thread only.
  kube::Backoff backoff_;
  std::set<std::string> reported_;  // warnings already turned into Events while leading
  bool missing_service_logged_ = false;
};

}  // namespace pier::status
