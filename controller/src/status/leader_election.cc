#include "status/leader_election.h"

#include <spdlog/spdlog.h>

#include <random>

namespace pier::status {
namespace {

// client-go jitters acquisition rounds by up to 120 %; that would let a takeover after a crash
// take up to ~24 s. 10 % keeps the worst case (lease duration + two rounds) under 20 s.
constexpr double kRetryJitter = 0.1;

}  // namespace

LeaderElection::LeaderElection(std::shared_ptr<kube::KubeClient> client, LeaderElectionConfig config,
                               OnChange on_change)
    : client_(std::move(client)), elector_(*client_, std::move(config), clock_), on_change_(std::move(on_change)) {}

LeaderElection::~LeaderElection() { Stop(); }

void LeaderElection::Start() {
  spdlog::info("leader election: campaigning for lease {}/{} as {}", elector_.config().namespace_,
               elector_.config().name, elector_.config().identity);
  thread_ = std::thread([this] { Run(); });
}

void LeaderElection::Run() {
  std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.0, kRetryJitter);
  bool leader = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const bool now_leader = elector_.Tick();
    if (now_leader != leader) {
      leader = now_leader;
      on_change_(leader);
    }
    lock.lock();
    const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(elector_.config().retry_period);
    // A leader renews on the exact period (its deadline counts from there); followers jitter.
    const double factor = leader ? 1.0 : 1.0 + jitter(random);
    wake_.wait_for(lock, std::chrono::milliseconds(static_cast<int64_t>(period.count() * factor)),
                   [this] { return stopping_; });
  }
}

void LeaderElection::Stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const bool was_leader = elector_.IsLeader();
  try {
    elector_.Release();
    if (was_leader) on_change_(false);
  } catch (const std::exception& e) {
    spdlog::error("leader election: release failed: {}", e.what());
  }
}

}  // namespace pier::status
