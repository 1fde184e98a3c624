// Cluster mode's writers, wired together: the StatusController (Ingress status, Events) and,
// with --leader-elect, the LeaderElection that switches it on and off. Without leader election
// this replica always leads (one replica). Owns the start and stop order: status writes stop
// before the lease is released, so two leaders never write at once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kube/kube_client.h"
#include "server/event_loop.h"
#include "status/leader_election.h"
#include "status/status_controller.h"

namespace pier::status {

struct StatusServiceOptions {
  PublishOptions publish;
  std::string controller_name;  // reportingController of Events
  bool leader_elect = false;
  LeaderElectionConfig election;  // identity is filled in if empty
  std::function<void(bool leader)> on_leader_change;  // e.g. pier_controller_is_leader
};

class StatusService final {
 public:
  StatusService(std::shared_ptr<kube::KubeClient> client, StatusServiceOptions options);
  ~StatusService();
  StatusService(const StatusService&) = delete;
  StatusService& operator=(const StatusService&) = delete;

  void Start();
  void Stop() noexcept;

  // For EventLoopOptions::observe.
  server::BuildObserver Observer();
  const std::string& identity() const { return options_.election.identity; }

 private:
  void LeaderChanged(bool leader);

  StatusServiceOptions options_;
  std::shared_ptr<kube::KubeClient> client_;
  StatusController controller_;
  std::unique_ptr<LeaderElection> election_;
};

}  // namespace pier::status
