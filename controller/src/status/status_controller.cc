#include "status/status_controller.h"

#include <spdlog/spdlog.h>

namespace pier::status {
namespace {

std::string WarningIdentity(const IngressWarning& warning) {
  return warning.target.namespace_ + '\x1f' + warning.target.name + '\x1f' + warning.target.uid + '\x1f' +
         warning.reason + '\x1f' + warning.message;
}

}  // namespace

StatusInput MakeStatusInput(const model::ClusterState& state, const translate::Output& output,
                            const PublishOptions& publish) {
  StatusInput input;
  const std::set<std::string> served(output.served_ingresses.begin(), output.served_ingresses.end());
  if (publish.enabled()) {
    if (!publish.addresses.empty()) {
      input.published = publish.addresses;
    } else if (auto it = state.services.find(publish.service); it != state.services.end()) {
      input.published = PublishedAddresses(it->second);
    }
    input.ingresses.reserve(state.ingresses.size());
    for (const auto& [key, ingress] : state.ingresses) {
      input.ingresses.push_back(IngressStatusView{.namespace_ = ingress.meta.namespace_,
                                                  .name = ingress.meta.name,
                                                  .resource_version = ingress.meta.resource_version,
                                                  .current = ingress.status_load_balancer,
                                                  .served = served.contains(key)});
    }
  }
  for (const auto& warning : output.warnings) {
    IngressWarning out{.target = {.namespace_ = warning.ingress_namespace, .name = warning.ingress_name, .uid = ""},
                       .reason = warning.reason,
                       .message = warning.message};
    if (auto it = state.ingresses.find(warning.ingress_namespace + "/" + warning.ingress_name);
        it != state.ingresses.end()) {
      out.target.uid = it->second.meta.uid;
    }
    input.warnings.push_back(std::move(out));
  }
  return input;
}

StatusController::StatusController(std::shared_ptr<kube::KubeClient> client, StatusControllerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      writer_(*client_),
      recorder_(*client_, options_.events, clock_) {}

StatusController::~StatusController() { Stop(); }

void StatusController::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void StatusController::Stop() noexcept {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

void StatusController::Update(StatusInput input) {
  auto shared = std::make_shared<const StatusInput>(std::move(input));
  {
    std::lock_guard lock(mutex_);
    input_ = std::move(shared);
    dirty_ = true;
  }
  wake_.notify_all();
}

void StatusController::SetLeader(bool leader) {
  {
    std::lock_guard lock(mutex_);
    if (leader_ == leader) return;
    leader_ = leader;
    dirty_ = true;
  }
  wake_.notify_all();
}

void StatusController::Run(std::stop_token stop) {
  bool was_leader = false;
  // time_point::max(): no retry pending.
  auto retry_at = std::chrono::steady_clock::time_point::max();
  while (!stop.stop_requested()) {
    std::shared_ptr<const StatusInput> input;
    bool leader = false;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return dirty_; };
      if (retry_at != std::chrono::steady_clock::time_point::max()) {
        wake_.wait_until(lock, stop, retry_at, ready);
      } else {
        wake_.wait(lock, stop, ready);
      }
      if (stop.stop_requested()) return;
      dirty_ = false;
      input = input_;
      leader = leader_;
    }
    retry_at = std::chrono::steady_clock::time_point::max();
    if (leader != was_leader) {
      // A new term: whatever we remember may have been overwritten by the previous leader.
      writer_.Reset();
      reported_.clear();
      backoff_.Reset();
      was_leader = leader;
    }
    if (!leader || !input) continue;
    if (Pass(*input, stop)) {
      backoff_.Reset();
    } else if (!stop.stop_requested()) {
      retry_at = std::chrono::steady_clock::now() + backoff_.Next();
    }
  }
}

bool StatusController::Pass(const StatusInput& input, std::stop_token stop) {
  bool ok = true;
  if (options_.publish.enabled()) {
    if (!input.published) {
      if (!missing_service_logged_) {
        spdlog::warn("status: --publish-service {} not found; Ingress status is left as it is",
                     options_.publish.service);
        missing_service_logged_ = true;
      }
    } else {
      missing_service_logged_ = false;
      const auto result = writer_.Sync(input.ingresses, *input.published, stop);
      ok = result.failed == 0;
    }
  }
  return RecordEvents(input.warnings, stop) && ok;
}

bool StatusController::RecordEvents(const std::vector<IngressWarning>& warnings, std::stop_token stop) {
  bool ok = true;
  std::set<std::string> current;
  for (const auto& warning : warnings) {
    std::string id = WarningIdentity(warning);
    if (reported_.contains(id) || current.contains(id)) {
      current.insert(std::move(id));
      continue;
    }
    if (stop.stop_requested()) return false;
    if (recorder_.Warning(warning.target, warning.reason, warning.message) == EventOutcome::kFailed) {
      ok = false;  // retried on the next pass
      continue;
    }
    current.insert(id);
    reported_.insert(std::move(id));
  }
  // A warning that went away and comes back is new again (the recorder folds it into a series).
  std::erase_if(reported_, [&](const std::string& id) { return !current.contains(id); });
  return ok;
}

}  // namespace pier::status
