#include "status/status_service.h"

#include <spdlog/spdlog.h>

namespace pier::status {
namespace {

StatusServiceOptions WithIdentity(StatusServiceOptions options) {
  if (options.election.identity.empty()) options.election.identity = NewHolderIdentity();
  return options;
}

StatusControllerOptions ControllerOptions(const StatusServiceOptions& options) {
  StatusControllerOptions out;
  out.publish = options.publish;
  out.events.reporting_controller = options.controller_name;
  out.events.reporting_instance = options.election.identity;
  return out;
}

}  // namespace

StatusService::StatusService(std::shared_ptr<kube::KubeClient> client, StatusServiceOptions options)
    : options_(WithIdentity(std::move(options))), client_(client), controller_(client, ControllerOptions(options_)) {
  if (options_.leader_elect) {
    election_ = std::make_unique<LeaderElection>(client_, options_.election,
                                                 [this](bool leader) { LeaderChanged(leader); });
  }
}

StatusService::~StatusService() { Stop(); }

void StatusService::Start() {
  spdlog::info("status: this replica is {}, {}", options_.election.identity,
               election_ ? "leading when elected" : "always leading (no --leader-elect)");
  if (!options_.publish.enabled()) {
    spdlog::info("status: no --publish-service or --publish-status-address, Ingress status is not written");
  } else if (!options_.publish.addresses.empty() && !options_.publish.service.empty()) {
    spdlog::info("status: --publish-status-address is published; --publish-service {} is not used",
                 options_.publish.service);
  }
  controller_.Start();
  if (election_) {
    LeaderChanged(false);
    election_->Start();
  } else {
    LeaderChanged(true);
  }
}

void StatusService::Stop() noexcept {
  controller_.Stop();
  if (election_) election_->Stop();
}

server::BuildObserver StatusService::Observer() {
  return [this](const model::ClusterState& state, const translate::Output& output) {
    controller_.Update(MakeStatusInput(state, output, options_.publish));
  };
}

void StatusService::LeaderChanged(bool leader) {
  controller_.SetLeader(leader);
  if (options_.on_leader_change) options_.on_leader_change(leader);
}

}  // namespace pier::status
