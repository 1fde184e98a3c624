// Runs a LeaderElector on its own thread: a round every retry period (with a little jitter so
// replicas started together do not write in lockstep), a callback on every change of
// leadership, and the lease released on Stop().
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "kube/kube_client.h"
#include "status/clock.h"
#include "status/leader_elector.h"

namespace pier::status {

class LeaderElection final {
 public:
  // Called on the election thread, and once more with false from Stop() if we led.
  using OnChange = std::function<void(bool leader)>;

  LeaderElection(std::shared_ptr<kube::KubeClient> client, LeaderElectionConfig config, OnChange on_change);
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  void Start();
  // Joins the thread, then releases the lease if held, so another replica takes over at once.
  // Callers stop writing status before calling this. Idempotent.
  void Stop() noexcept;

 private:
  void Run();

  std::shared_ptr<kube::KubeClient> client_;
  SystemClock clock_;
  LeaderElector elector_;
  OnChange on_change_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pier::status
