// Leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm (leaderelection
// package): create the Lease when absent, take it over when its holder stopped renewing for
// leaseDurationSeconds as measured on OUR clock since we last saw the record change (so clock
// skew between replicas does not matter), renew it with optimistic concurrency while we hold it.
//
// One deliberate difference: client-go exits the process when renewal fails for longer than the
// renew deadline. Here the replica steps down (stops writing status and Events) and keeps
// campaigning; it keeps serving snapshots either way, so there is nothing to gain by exiting.
//
// Not thread-safe: one thread calls Tick() (see LeaderElection for the loop).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kube/kube_client.h"
#include "status/clock.h"
#include "status/lease_record.h"

namespace pier::status {

struct LeaderElectionConfig {
  std::string namespace_;
  std::string name = "pier-controller-leader";
  std::string identity;  // unique per process: hostname + "_" + random suffix
  // client-go's defaults: a dead leader is replaced within lease_duration (+ one retry); a
  // live leader that cannot renew gives up after renew_deadline, before anyone may take over.
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

class LeaderElector final {
 public:
  LeaderElector(kube::KubeClient& client, LeaderElectionConfig config, const Clock& clock);

  // One round: acquire or renew, then apply the renew-deadline rule. Returns IsLeader().
  bool Tick();
  bool IsLeader() const { return leader_; }
  // Gives the lease up at once (holder "", duration 1 s) so another replica need not wait for
  // it to expire, like client-go's ReleaseOnCancel. Stops leading even when the write fails.
  bool Release();

  const LeaderElectionConfig& config() const { return config_; }
  // The holder seen in the last read ("" if none yet).
  const std::string& observed_holder() const;

 private:
  enum class Attempt { kHeld, kHeldByOther, kFailed };
  Attempt TryAcquireOrRenew();
  void Observe(const LeaseRecord& record, const nlohmann::json& object);

  kube::KubeClient& client_;
  const LeaderElectionConfig config_;
  const Clock& clock_;
  const std::string collection_path_;
  const std::string object_path_;

  std::optional<LeaseRecord> observed_;
  std::string observed_resource_version_;
  std::chrono::steady_clock::time_point observed_time_{};
  bool leader_ = false;
  std::chrono::steady_clock::time_point last_renew_{};
};

// hostname + "_" + 16 random hex digits, as client-go users conventionally build it.
std::string NewHolderIdentity();

}  // namespace pier::status
